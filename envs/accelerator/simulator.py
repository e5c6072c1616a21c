"""The accelerator's two cost models of a 9-knob design behind the Simulator protocol.

* :class:`TemplateSimulator`: the vectorised four-template model (:mod:`.model`), millions of
  layer evaluations a second;
* :class:`HierarchySimulator`: each design built as an :class:`~.architecture.Architecture`
  (:func:`~.templates.template_architecture`) and costed by the compiled hierarchy model, with
  its own loop-order search, per-port stalls, on/off-loading and drain -- the model checked
  against ZigZag (about 1.0x its latency and energy), some thousand layer evaluations a second.

Both share :class:`AcceleratorSimulator` (metrics, workload preparation, design checks); the
hierarchy model and :class:`~.zigzag_simulator.ZigZagSimulator` turn per-layer results into
network metrics with one function, :func:`network_metrics`. ``AcceleratorSimulator(model=...)``
still builds the class of that model, for existing callers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import torch

from archgym.design_space import check_design_fields
from archgym.errors import ConfigError, InvalidDesignError, SimulationError
from archgym.simulator import Metrics, PreparedWorkload, Simulator

from .architecture import Architecture
from .hierarchy_model import check_mapper_objective, evaluate_batch
from .hierarchy_model import evaluate_layers as evaluate_hierarchy
from .metrics import METRICS
from .model import DESIGN_FIELDS, AcceleratorModel, InfeasibleDesignError, ModelResult, design_matrix
from .networks import Workload, as_workload
from .technology import DEFAULT_TECHNOLOGY, Technology
from .templates import template_architecture

#: the two cost models of a 9-knob design, by the name ``env.simulator`` and ``model=`` use
MODELS: tuple[str, ...] = ("template", "hierarchy")


#: design fields that count things (PEs, bytes, bytes per cycle, bits): whole numbers >= 1
COUNT_FIELDS: tuple[str, ...] = ("pe_rows", "pe_cols", "rf_bytes", "noc_bw", "precision_bits")
#: the template architecture's memory levels, innermost first
LEVELS: tuple[str, ...] = ("rf", "glb", "dram")


def network_totals(records: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Whole-network sums of :meth:`AcceleratorSimulator.evaluate_layers` records."""
    keys = [k for k in records[0] if k != "name" and k != "utilization" and "utilization" not in k]
    tot = {k: float(sum(float(r[k]) for r in records)) for k in keys}
    return tot


def sum_layers(per_layer: np.ndarray) -> np.ndarray:
    """Row sums of a ``(designs, layers)`` array, in the same order whatever the batch holds.

    The batch arrays are strided views (layers outermost); numpy sums such a view by adding
    whole columns in turn when it has several rows but pairwise along the row when it has one,
    so a design's total differed in the last bit with the batch's size. A contiguous copy is
    summed pairwise along every row alike, so a design's metrics do not depend on its batch.
    """
    return np.ascontiguousarray(per_layer).sum(axis=1)


@dataclass(frozen=True)
class NetworkTotals:
    """Whole-network sums of a batch of designs on the template architecture, ``(B,)`` each."""

    cycles: np.ndarray
    clock_mhz: np.ndarray
    energy_pj: np.ndarray  # every level plus the MACs
    level_energy_pj: Mapping[str, np.ndarray]  # by memory level (LEVELS)
    mac_energy_pj: np.ndarray
    dram_bytes: np.ndarray
    macs: float  # of the workload
    pes: np.ndarray
    area_mm2: np.ndarray


def network_metrics(t: NetworkTotals) -> dict[str, np.ndarray]:
    """The :data:`METRICS` of network totals (the hierarchy model's and ZigZag's assembly; there
    is no separate interconnect energy in either, so ``energy_noc_pj`` is 0)."""
    latency_ms = t.cycles / (t.clock_mhz * 1e3)
    energy_uj = t.energy_pj * 1e-6
    return {
        "latency_ms": latency_ms,
        "latency_cycles": t.cycles,
        "energy_uj": energy_uj,
        "edp": energy_uj * latency_ms,
        "area_mm2": t.area_mm2,
        "utilization": t.macs / (t.cycles * t.pes),
        "dram_mb": t.dram_bytes / 1e6,
        "energy_dram_pj": t.level_energy_pj["dram"],
        "energy_glb_pj": t.level_energy_pj["glb"],
        "energy_noc_pj": np.zeros_like(t.cycles, dtype=np.float64),
        "energy_rf_pj": t.level_energy_pj["rf"],
        "energy_mac_pj": t.mac_energy_pj,
    }


class AcceleratorSimulator(Simulator[Workload]):
    """What the accelerator's cost models of a 9-knob design share: the metrics, the workload
    (a :class:`~.networks.Workload`, a registered name such as ``"resnet50"`` or a list of
    :class:`~.layers.Layer`), the design checks and the area model.

    ``AcceleratorSimulator(model="template" | "hierarchy", ...)`` builds
    :class:`TemplateSimulator` or :class:`HierarchySimulator` (``model`` is read only there).

    Args:
        device: ``"cpu"`` or ``"cuda"``: where the vectorised (template and area) model runs.
        technology: per-access energies and component areas.
        cpu_threads: torch intra-op threads while the model runs on the CPU (restored after
            each call). The model's tensors are small, so threading costs more than it
            gains, especially on a loaded machine: the default is 1. ``None`` leaves torch's
            setting alone.
        im2col: the ws and is templates fill spare PE rows with filter dimensions after
            the input channels (im2col); ``False`` unrolls input channels only.
        mapper_objective: what the hierarchy model's mapper minimises, as ZigZag's ``opt``:
            ``"latency"`` (default), ``"energy"`` or ``"edp"`` (see
            :func:`~.hierarchy_model.evaluate_layers`); used by ``evaluate``,
            ``evaluate_many`` and ``evaluate_layers`` (also for general
            :class:`~.architecture.Architecture` descriptions). The template model has its
            own DRAM-traffic mapper: :class:`TemplateSimulator` accepts only ``"latency"``.
    """

    metrics = METRICS
    #: the model's name (:data:`MODELS`)
    model_kind: str = ""

    def __new__(cls, *args: Any, model: str | None = None, **kwargs: Any) -> AcceleratorSimulator:
        if cls is AcceleratorSimulator:
            if (model or "template") not in _CLASSES:
                raise ConfigError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
            cls = _CLASSES[model or "template"]
        return super().__new__(cls)

    def __init__(
        self,
        device: str | torch.device = "cpu",
        technology: Technology = DEFAULT_TECHNOLOGY,
        cpu_threads: int | None = 1,
        im2col: bool = True,
        *,
        model: str | None = None,
        rf_port_stalls: bool = False,
        ws_im2col: bool | None = None,
        mapper_objective: str = "latency",
    ) -> None:
        if model is not None and model != self.model_kind:
            raise ConfigError(f"{type(self).__name__} is the {self.model_kind} model, not {model!r}")
        self.mapper_objective = check_mapper_objective(mapper_objective)
        self.im2col = bool(im2col if ws_im2col is None else ws_im2col)
        self.technology = technology
        self.cpu_threads = cpu_threads
        # the template model's tensors: its costs, or (hierarchy) only the area of a design
        self.model = AcceleratorModel(technology, device, self.im2col, rf_port_stalls)

    @property
    def ws_im2col(self) -> bool:
        """The former name of :attr:`im2col`."""
        return self.im2col

    def prepare(self, workload: object) -> PreparedWorkload[Workload]:
        """A registered name, a :class:`~.networks.Workload` or a list of layers as a
        :class:`~.networks.Workload`, once (an unknown name raises ``UnknownWorkloadError``)."""
        wl = as_workload(cast(Any, workload))
        return PreparedWorkload(wl, wl.name, workload, (wl.name, wl.layers))

    @contextmanager
    def _threads(self) -> Iterator[None]:
        if self.cpu_threads is None or self.model.device.type != "cpu":
            yield
            return
        before = torch.get_num_threads()
        torch.set_num_threads(int(self.cpu_threads))
        try:
            yield
        finally:
            torch.set_num_threads(before)

    @staticmethod
    def _matrix(designs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Designs -> the model's matrix, refusing a missing or extra key, a non-finite value and
        a non-integral count (PEs, bytes, bits) instead of computing NaN metrics from it."""
        for i, d in enumerate(designs):
            try:
                check_design_fields(
                    d, DESIGN_FIELDS, counts=COUNT_FIELDS, numbers=DESIGN_FIELDS[1:], where=f"design {i}"
                )
            except InvalidDesignError as exc:
                raise SimulationError(str(exc)) from None
        try:
            return design_matrix(designs)
        except (TypeError, ValueError) as exc:
            raise SimulationError(str(exc)) from None

    def area_mm2(self, designs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Area of each design (mm^2, 45 nm: the template's PE array, RFs, buffer and NoC)."""
        return self.model.area_mm2(self._matrix(designs))

    def architecture(self, design: Mapping[str, Any]) -> Architecture:
        """The design's template :class:`~.architecture.Architecture`."""
        return template_architecture(design, self.technology, im2col=self.im2col)

    def evaluate_arrays(
        self, designs: Sequence[Mapping[str, Any]], workload: Workload
    ) -> dict[str, np.ndarray]:
        """Network metrics as ``{name: (B,) array}`` (the fastest batch form)."""
        raise NotImplementedError

    def evaluate_layers(
        self, architecture: Architecture | Mapping[str, Any], workload: Workload
    ) -> list[dict[str, Any]]:
        """One record per layer: ``name``, ``latency_cycles``, ``latency_ms``, ``energy_pj``,
        ``macs``, ``utilization`` and per memory level ``accesses_<level>`` /
        ``energy_<level>_pj``; the network metrics are their sums (:func:`network_totals`).

        ``architecture`` is a general :class:`~.architecture.Architecture` (costed by the
        hierarchy model with stalls, :mod:`.hierarchy_model`, whatever this simulator is) or a
        design of the 9-knob space (costed by this simulator's model)."""
        wl = self.workload_data(workload)
        if isinstance(architecture, Architecture):
            return _hierarchy_records(architecture, wl, self.mapper_objective)
        return self._design_layers(architecture, wl)

    def _design_layers(self, design: Mapping[str, Any], wl: Workload) -> list[dict[str, Any]]:
        raise NotImplementedError

    def evaluate(self, design: Mapping[str, Any], workload: Workload) -> Metrics:
        return self.evaluate_many([design], workload)[0]

    def evaluate_many(self, designs: Sequence[Mapping[str, Any]], workload: Workload) -> list[Metrics]:
        if not designs:
            return []
        cols = self.evaluate_arrays(designs, workload)
        names = self.metric_names
        table = np.stack([cols[n] for n in names], axis=1)
        return [dict(zip(names, map(float, row))) for row in table]


def _hierarchy_records(
    architecture: Architecture, wl: Workload, mapper_objective: str = "latency"
) -> list[dict[str, Any]]:
    try:
        costs = evaluate_hierarchy(architecture, wl.layers, mapper_objective=mapper_objective)
    except (ValueError, ZeroDivisionError) as exc:  # an architecture the model cannot map
        raise SimulationError(f"architecture {architecture.name!r}: {exc}") from None
    clock = architecture.clock_mhz
    return [dict(c.record(), latency_ms=c.latency_cycles / (clock * 1e3)) for c in costs]


class TemplateSimulator(AcceleratorSimulator):
    """The vectorised four-template model (:mod:`.model`): a roofline with on-loading, tens of
    thousands of designs a second.

    Args (besides :class:`AcceleratorSimulator`'s):
        rf_port_stalls: the array waits on its register files' ports (one read and one
            write port per PE's RF holding all three operands), as the hierarchy model and
            ZigZag find for this template; latency then tracks theirs (about 2x the
            roofline on convolutions). Off by default: it halves the Eyeriss-like design's
            utilisation below the chip's measured ~0.69 (see the README).
    """

    model_kind = "template"
    version = "archgym-accelerator-model 0.1 (45nm: Horowitz ISSCC'14 + Eyeriss ISCA'16 ratios)"

    def __init__(self, *args: Any, rf_port_stalls: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, rf_port_stalls=rf_port_stalls, **kwargs)
        if self.mapper_objective != "latency":
            raise ConfigError("mapper_objective applies to the hierarchy model: also set model='hierarchy'")
        self.rf_port_stalls = bool(rf_port_stalls)
        if rf_port_stalls:  # different results: say so in every row's provenance
            self.version = f"{type(self).version} +rf-port-stalls"

    def run(self, designs: Sequence[Mapping[str, Any]], workload: Workload) -> ModelResult:
        """The model's full per-layer result for a batch of designs (analysis, tests)."""
        wl = self.workload_data(workload)
        try:
            with self._threads():
                return self.model.evaluate(
                    self._matrix(designs), wl.arrays, key=f"{wl.name}:{hash(wl.layers)}"
                )
        except InfeasibleDesignError as exc:
            raise SimulationError(str(exc)) from None

    def evaluate_arrays(
        self, designs: Sequence[Mapping[str, Any]], workload: Workload
    ) -> dict[str, np.ndarray]:
        return self.run(designs, workload).network_metrics()

    def _design_layers(self, design: Mapping[str, Any], wl: Workload) -> list[dict[str, Any]]:
        res = self.run([design], wl)
        cyc = res.layer_cycles[0].tolist()
        lat = res.layer_latency_ms[0].tolist()
        e_tot = res.layer_energy_pj[0].tolist()
        util = res.layer_utilization[0].tolist()
        acc = {k: v[0].tolist() for k, v in res.layer_accesses.items()}
        en = {k: v[0].tolist() for k, v in res.layer_energy.items()}
        out = []
        for i, layer in enumerate(wl.layers):
            rec: dict[str, Any] = {
                "name": layer.name,
                "macs": float(layer.macs),
                "latency_cycles": cyc[i],
                "latency_ms": lat[i],
                "energy_pj": e_tot[i],
                "utilization": util[i],
            }
            for level in acc:
                rec[f"accesses_{level}"] = acc[level][i]
                rec[f"energy_{level}_pj"] = en[level][i]
            out.append(rec)
        return out


class HierarchySimulator(AcceleratorSimulator):
    """Each design's template :class:`~.architecture.Architecture` costed by the compiled
    hierarchy model (loop-order search, port stalls, on/off-loading, drain); area is the
    template model's. Within about 1.0x of ZigZag on the template's designs.

    Args (besides :class:`AcceleratorSimulator`'s):
        threads: numba threads a batch's (design, layer) pairs are shared across in
            ``evaluate_arrays``/``evaluate_many`` (the same results; default 1).
    """

    model_kind = "hierarchy"
    version = "archgym-accelerator hierarchy model 0.2 (9-knob template; compiled mapper, port stalls)"

    def __init__(self, *args: Any, rf_port_stalls: bool = False, threads: int = 1, **kwargs: Any) -> None:
        if rf_port_stalls:
            raise ConfigError(
                "rf_port_stalls applies to the template model (the hierarchy model has port stalls)"
            )
        if int(threads) < 1:
            raise ConfigError(f"threads must be >= 1, got {threads!r}")
        super().__init__(*args, **kwargs)
        #: numba threads a batch's (design, layer) pairs are shared across (same results)
        self.threads = int(threads)
        if self.mapper_objective != "latency":  # different results: say so in every row's provenance
            self.version = f"{type(self).version} mapper={self.mapper_objective}"

    def evaluate_arrays(
        self, designs: Sequence[Mapping[str, Any]], workload: Workload
    ) -> dict[str, np.ndarray]:
        wl = self.workload_data(workload)
        matrix = self._matrix(designs)
        if not len(designs):
            return {m.name: np.zeros(0) for m in self.metrics}
        archs = [self.architecture(d) for d in designs]
        costs = evaluate_batch(archs, wl.layers, mapper_objective=self.mapper_objective, threads=self.threads)
        names = [m.name for m in archs[0].memories]  # rf, glb, dram: one template, one layout
        dram = names.index("dram")
        dram_words = sum_layers(costs.reads[:, :, dram] + costs.writes[:, :, dram])
        dram_word_bits = np.array([a.memories[dram].ports[0].bw_max for a in archs])
        totals = NetworkTotals(
            cycles=sum_layers(costs.scalars["latency_cycles"]),
            clock_mhz=matrix[:, DESIGN_FIELDS.index("clock_mhz")],
            energy_pj=sum_layers(costs.scalars["energy_pj"]),
            level_energy_pj={n: sum_layers(costs.level_energy_pj[:, :, i]) for i, n in enumerate(names)},
            mac_energy_pj=sum_layers(costs.scalars["mac_energy_pj"]),
            dram_bytes=dram_words * dram_word_bits / 8,
            macs=float(sum(layer.macs for layer in wl.layers)),
            pes=np.array([a.array.units for a in archs], dtype=np.float64),
            area_mm2=self.model.area_mm2(matrix),
        )
        return network_metrics(totals)

    def _design_layers(self, design: Mapping[str, Any], wl: Workload) -> list[dict[str, Any]]:
        self._matrix([design])
        return _hierarchy_records(self.architecture(design), wl, self.mapper_objective)


_CLASSES: dict[str, type[AcceleratorSimulator]] = {
    "template": TemplateSimulator,
    "hierarchy": HierarchySimulator,
}
