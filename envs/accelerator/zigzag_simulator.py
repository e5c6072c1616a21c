"""ZigZag as a second simulator for ``archgym/Accelerator-v0`` (``env.simulator=zigzag``).

Each design of the 9-knob space is turned into an :class:`~.architecture.Architecture` by
:func:`~.templates.template_architecture`, written out as ZigZag hardware and mapping YAML
files (one mapping entry per layer, with the unrolling our template gives that layer) and
evaluated by ZigZag layer by layer. ZigZag runs in a separate worker process per call, so a
hung or crashing evaluation cannot take the run down: after ``evaluation_timeout_s`` the
worker is killed and the design is reported as a failed evaluation (a
:class:`~archgym.simulator.SimulationError`, which the evaluator logs with the design).
Results are cached per (layer shape, design), so repeated layers and designs cost nothing.

Metric mapping: latency and energy are ZigZag's (``latency_total2`` and ``energy_total``);
``energy_{rf,glb,dram,mac}_pj`` are its per-memory and MAC energies; ZigZag has no
interconnect energy, so ``energy_noc_pj`` is 0; ZigZag's cost model has no area for
digital arrays, so ``area_mm2`` is our area model of the same design.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from archgym.errors import ConfigError, SimulationError
from archgym.simulator import Metrics, PreparedWorkload, Simulator

from .architecture import Architecture
from .hierarchy_model import check_mapper_objective, layer_dims, spatial_unrolling
from .layers import Layer
from .networks import Workload
from .simulator import LEVELS, METRICS, NetworkTotals, TemplateSimulator, network_metrics
from .zigzag_bridge import ZIGZAG_OPT, ZigZagLayerResult, run_zigzag, zigzag_available

_ZZ_NAME = {"W": "I2", "I": "I1", "O": "O"}


def architecture_to_zigzag(arch: Architecture) -> dict[str, Any]:
    """ZigZag's hardware-YAML content for ``arch`` (memories innermost first)."""
    memories: dict[str, Any] = {}
    for m in arch.memories:
        ports = []
        for p in m.ports:
            alloc = [f"{_ZZ_NAME[op]}, {d}" for (op, d), name in m.allocation.items() if name == p.name]
            ports.append(
                {
                    "name": p.name,
                    "type": p.kind,
                    "bandwidth_min": int(p.bw_min),
                    "bandwidth_max": int(p.bw_max),
                    "allocation": alloc,
                }
            )
        memories[m.name] = {
            "size": int(m.size_bits),
            "r_cost": float(m.read_pj),
            "w_cost": float(m.write_pj),
            "area": float(m.area_mm2),
            "latency": 1,
            "operands": [_ZZ_NAME[op] for op in m.operands],
            "ports": ports,
            "served_dimensions": list(m.served_dims),
        }
    oa: dict[str, Any] = {
        "unit_energy": float(arch.array.mac_pj),
        "unit_area": float(arch.array.mac_area_mm2),
        "dimensions": list(arch.array.dims),
        "sizes": [int(s) for s in arch.array.dims.values()],
    }
    if arch.array.systolic_dims:
        oa["systolic_dimensions"] = list(arch.array.systolic_dims)
    return {"name": arch.name.replace("-", "_"), "memories": memories, "operational_array": oa}


def mapping_to_zigzag(arch: Architecture, layers: Sequence[Layer]) -> list[dict[str, Any]]:
    """ZigZag mapping entries: per layer, the spatial unrolling ``arch`` gives it."""
    links = {"O": "O", "W": "I2", "I": "I1"}
    entries = []
    for layer in layers:
        sm: dict[str, list[str]] = {}
        for d, used in spatial_unrolling(arch, layer_dims(layer)).items():
            sm[d] = [f"{ld}, {u}" for ld, u in used.items()] or ["K, 1"]
        entries.append({"name": layer.name, "spatial_mapping": sm, "memory_operand_links": links})
    entries.append(
        {
            "name": "default",
            "spatial_mapping": {d: ["K, 1"] for d in arch.array.dims},
            "memory_operand_links": links,
        }
    )
    return entries


def _worker(
    conn: Any, layers: list[Layer], hw: str, mapping: str, precision: dict[str, int], opt: str = "latency"
) -> None:
    try:
        conn.send(("ok", run_zigzag(layers, hw, mapping, opt=opt, precision=precision)))
    except BaseException as exc:  # report anything to the parent, which decides
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


class ZigZagSimulator(Simulator[Workload]):
    """Evaluates 9-knob accelerator designs with ZigZag (see the module docstring).

    Args:
        evaluation_timeout_s: wall-clock limit of one design's ZigZag run.
        im2col: the ws/is templates' row fill (as :func:`~.templates.template_architecture`).
        mapper_objective: ZigZag's ``opt``: ``latency`` (default), ``energy`` or ``edp``.
    """

    metrics = METRICS

    def __init__(
        self, evaluation_timeout_s: float = 600.0, im2col: bool = True, mapper_objective: str = "latency"
    ) -> None:
        if not zigzag_available():
            raise SimulationError("env.simulator=zigzag needs ZigZag: pip install 'archgym[zigzag]'")
        if evaluation_timeout_s <= 0:
            raise ConfigError(f"evaluation_timeout_s must be > 0, got {evaluation_timeout_s}")
        import zigzag

        self.opt = ZIGZAG_OPT[check_mapper_objective(mapper_objective)]
        self.version = f"zigzag-dse {getattr(zigzag, '__version__', '3.9.1')} (LOMA, min {mapper_objective})"
        self.timeout = float(evaluation_timeout_s)
        self.im2col = im2col
        self._cache: dict[tuple, ZigZagLayerResult] = {}
        self._native = TemplateSimulator(im2col=im2col)  # workloads, architectures and area

    def prepare(self, workload: object) -> PreparedWorkload[Workload]:
        """The workload as a :class:`~.networks.Workload` (as the native models prepare it)."""
        return self._native.prepare(workload)

    def layer_results(self, design: Mapping[str, Any], workload: Workload) -> list[ZigZagLayerResult]:
        """ZigZag's result for every layer of ``workload`` on ``design`` (cached)."""
        return self._layer_results(design, self._native.architecture(design), self.workload_data(workload))

    def _layer_results(
        self, design: Mapping[str, Any], arch: Architecture, wl: Workload
    ) -> list[ZigZagLayerResult]:
        dkey = (tuple(sorted((k, str(v)) for k, v in design.items())), self.im2col)
        todo: dict[tuple, Layer] = {}
        for layer in wl.layers:
            key = (layer.shape_key, dkey)
            if key not in self._cache and key not in todo:
                todo[key] = dataclasses.replace(layer, name=f"L{len(todo)}", meta={})
        if todo:
            for key, res in zip(todo, self._run(arch, list(todo.values()))):
                self._cache[key] = res
        return [self._cache[(layer.shape_key, dkey)] for layer in wl.layers]

    def _run(self, arch: Architecture, layers: list[Layer]) -> list[ZigZagLayerResult]:
        with tempfile.TemporaryDirectory(prefix="archgym-zz-") as tmp:
            hw, mapping = Path(tmp) / "hardware.yaml", Path(tmp) / "mapping.yaml"
            hw.write_text(yaml.safe_dump(architecture_to_zigzag(arch), sort_keys=False))
            mapping.write_text(yaml.safe_dump(mapping_to_zigzag(arch, layers), sort_keys=False))
            ctx = mp.get_context("spawn")
            parent, child = ctx.Pipe(duplex=False)
            proc = ctx.Process(
                target=_worker,
                args=(child, layers, str(hw), str(mapping), dict(arch.precision), self.opt),
                daemon=True,
            )
            proc.start()
            child.close()
            try:
                if not parent.poll(self.timeout):
                    raise SimulationError(
                        f"ZigZag did not finish within evaluation_timeout_s={self.timeout:g}"
                    )
                status, payload = parent.recv()
            except EOFError:
                proc.join(5.0)
                raise SimulationError(f"ZigZag worker crashed (exit code {proc.exitcode})") from None
            finally:
                if proc.is_alive():
                    proc.kill()
                proc.join()
                parent.close()
        if status != "ok":
            raise SimulationError(f"ZigZag failed: {payload}")
        return list(payload)

    def evaluate(self, design: Mapping[str, Any], workload: Workload) -> Metrics:
        wl = self.workload_data(workload)
        arch = self._native.architecture(design)  # built once per design
        res = self._layer_results(design, arch, wl)
        dram = next(m for m in arch.memories if m.name == "dram")
        totals = NetworkTotals(
            cycles=np.array([sum(r.latency_cycles for r in res)], dtype=np.float64),
            clock_mhz=np.array([float(design["clock_mhz"])]),
            energy_pj=np.array([sum(r.energy_pj for r in res)]),
            level_energy_pj={
                name: np.array([sum(r.level_energy_pj.get(name, 0.0) for r in res)]) for name in LEVELS
            },
            mac_energy_pj=np.array([sum(r.mac_energy_pj for r in res)]),
            dram_bytes=np.array(
                [sum(r.level_accesses.get("dram", 0.0) for r in res) * dram.ports[0].bw_max / 8]
            ),
            macs=float(sum(layer.macs for layer in wl.layers)),
            pes=np.array([float(arch.array.units)]),
            area_mm2=self._native.area_mm2([design]),  # the template's area model alone
        )
        return {k: float(v[0]) for k, v in network_metrics(totals).items()}
