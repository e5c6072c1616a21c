"""Measured hardware cost of NAS-Bench-201 cells from the HW-NAS-Bench pickle.

Li et al., "HW-NAS-Bench: Hardware-Aware Neural Architecture Search Benchmark", ICLR 2021,
measured (or, for Eyeriss and the FPGA, simulated with validated models) the latency and
energy of every NAS-Bench-201 network (``C=16, N=5``) on six devices. The file the authors
publish, ``HW-NAS-Bench-v1_0.pickle``, is a plain pickle of

``{"nasbench201": {dataset: {"<device>_<metric>": [one value per architecture index],
"config": [{"arch_str": ..., "C": 16, "N": 5, "num_classes": ...}, ...]}}, "fbnet": {...}}``

with ``dataset`` one of ``cifar10``, ``cifar100``, ``ImageNet16-120``, latency in ms and
energy in mJ. :class:`HWNASBenchTable` reads it (the user's copy; nothing is downloaded)
and looks a cell up by its NAS-Bench-201 string via the ``config`` entries, so no
NAS-Bench-201 file is needed. :class:`MeasuredHardware` reports one device's figures as
network metrics ``<device>_latency_ms`` and ``<device>_energy_uj`` (energy converted to uJ,
the unit of the accelerator model's ``energy_uj``), beside the model's own estimate.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from archgym.simulator import Metric

from .cell_space import CellSpace, arch_string
from .search_space import NetworkSpace

#: device -> the metrics HW-NAS-Bench has for it on the NAS-Bench-201 space
HW_DEVICES: dict[str, tuple[str, ...]] = {
    "edgegpu": ("latency", "energy"),  # NVIDIA Jetson TX2, measured
    "raspi4": ("latency",),  # Raspberry Pi 4, measured
    "edgetpu": ("latency",),  # Google Edge TPU dev board, measured
    "pixel3": ("latency",),  # Pixel 3 phone, measured
    "eyeriss": ("latency", "energy"),  # Eyeriss ASIC, Accelergy + Timeloop estimates
    "fpga": ("latency", "energy"),  # ZC706 FPGA, Vivado HLS estimates
}
HW_DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "ImageNet16-120")
_SPACE_KEY = "nasbench201"


class HWNASBenchTable:
    """The NAS-Bench-201 part of an HW-NAS-Bench pickle, indexed by architecture string."""

    def __init__(self, path: str | Path) -> None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise FileNotFoundError(f"HW-NAS-Bench file {p} does not exist (HW-NAS-Bench-v1_0.pickle)")
        try:
            with p.open("rb") as f:
                raw = pickle.load(f)  # the user's own benchmark file
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError) as exc:
            raise ValueError(f"{p}: not a readable HW-NAS-Bench pickle ({exc})") from exc
        table = raw.get(_SPACE_KEY) if isinstance(raw, dict) else None
        if not isinstance(table, dict) or not set(HW_DATASETS) & set(table):
            found = sorted(raw)[:5] if isinstance(raw, dict) else type(raw).__name__
            raise ValueError(
                f"{p}: not an HW-NAS-Bench file (expected {{'{_SPACE_KEY}': {{dataset: ...}}}}, "
                f"found {found})"
            )
        self.path = p
        self.table = table
        self._index: dict[str, dict[str, int]] = {}

    def datasets(self) -> tuple[str, ...]:
        return tuple(d for d in HW_DATASETS if d in self.table)

    def _entry(self, dataset: str) -> dict[str, Any]:
        if dataset not in self.table:
            raise KeyError(f"{self.path}: no {dataset!r} entry; it has {', '.join(self.datasets())}")
        return self.table[dataset]

    def index(self, arch: str, dataset: str) -> int:
        """Position of an architecture string in the file's per-dataset lists."""
        if dataset not in self._index:
            configs = self._entry(dataset).get("config")
            if configs is None:
                raise ValueError(f"{self.path}: {dataset!r} has no 'config' list naming the architectures")
            self._index[dataset] = {c["arch_str"]: i for i, c in enumerate(configs)}
        try:
            return self._index[dataset][arch]
        except KeyError:
            raise KeyError(f"{arch} is not in the HW-NAS-Bench file {self.path}") from None

    def value(self, arch: str, dataset: str, device: str, metric: str) -> float:
        """``<device>_<metric>`` of an architecture (latency ms, energy mJ, as stored)."""
        key = f"{device}_{metric}"
        entry = self._entry(dataset)
        if key not in entry:
            raise KeyError(f"{self.path}: no {key!r} for {dataset!r}")
        return float(np.asarray(entry[key])[self.index(arch, dataset)])


def parse_hardware(spec: bool | str) -> tuple[bool, str | None]:
    """``hardware=`` value -> (use the accelerator model, HW-NAS-Bench device or None).

    ``True``/``False`` switch the accelerator model; ``"hwnasbench:<device>"`` keeps it and
    adds the device's measured figures.
    """
    if isinstance(spec, bool):
        return spec, None
    kind, _, device = str(spec).partition(":")
    if kind != "hwnasbench" or device not in HW_DEVICES:
        raise ValueError(
            f"hardware must be true, false or 'hwnasbench:<device>' with device one of "
            f"{', '.join(HW_DEVICES)}; got {spec!r}"
        )
    return True, device


class MeasuredHardware:
    """One HW-NAS-Bench device's latency (and energy) of cells, as a network evaluator.

    Args:
        space: the cell space.
        device: one of :data:`HW_DEVICES`.
        path: the HW-NAS-Bench pickle (or ``table``, an opened :class:`HWNASBenchTable`).
        dataset: which input size / classifier the figures are for (``cifar10``: 32x32,
            10 classes; ``cifar100``; ``ImageNet16-120``: 16x16, 120 classes).
    """

    def __init__(
        self,
        space: NetworkSpace,
        device: str,
        path: str | Path | None = None,
        dataset: str = "cifar10",
        table: HWNASBenchTable | None = None,
    ) -> None:
        if not isinstance(space, CellSpace):
            raise ValueError(f"HW-NAS-Bench figures exist for the cell space only, not {space.name!r}")
        if device not in HW_DEVICES:
            raise ValueError(f"unknown HW-NAS-Bench device {device!r}; allowed: {', '.join(HW_DEVICES)}")
        if dataset not in HW_DATASETS:
            raise ValueError(f"HW-NAS-Bench dataset must be one of {', '.join(HW_DATASETS)}, got {dataset!r}")
        if table is None:
            if not path:
                raise ValueError(
                    f"hardware='hwnasbench:{device}' needs hwnasbench_path= (HW-NAS-Bench-v1_0.pickle)"
                )
            table = HWNASBenchTable(path)
        self.space, self.device, self.dataset, self.table = space, device, dataset, table
        kinds = HW_DEVICES[device]
        self.metrics: tuple[Metric, ...] = tuple(
            Metric(
                f"{device}_latency_ms" if k == "latency" else f"{device}_energy_uj",
                "ms" if k == "latency" else "uJ",
                "lower",
                5.0 if k == "latency" else 5000.0,
                f"HW-NAS-Bench {k} on {device} ({dataset})",
            )
            for k in kinds
        )

    def __call__(self, design: Mapping[str, Any]) -> dict[str, float]:
        arch = arch_string(self.space.space.validate(design))
        out = {}
        for m, kind in zip(self.metrics, HW_DEVICES[self.device]):
            v = self.table.value(arch, self.dataset, self.device, kind)
            out[m.name] = v * 1000.0 if kind == "energy" else v  # mJ -> uJ
        return out


__all__ = ["HW_DATASETS", "HW_DEVICES", "HWNASBenchTable", "MeasuredHardware", "parse_hardware"]
