"""The hierarchy model on the extended (Timeloop-sized) accelerator space.

Each design of :func:`~.space.extended_design_space` is built as an
:class:`~.architecture.Architecture` (:func:`~.templates.extended_architecture`) and costed
by the compiled hierarchy model (:func:`~.hierarchy_model.evaluate_batch`); its area is the
architecture's: MAC units from :mod:`.technology`'s arithmetic tables plus every memory
instance from its size (flip-flops up to 4 kbit, SRAM above). The metrics are those of
``archgym/Accelerator-v0``: the per-PE scratchpads count as ``energy_rf_pj``, the column and
global buffers as ``energy_glb_pj``; like the hierarchy model on the 9-knob space it has no
separate interconnect energy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np

from archgym.errors import InvalidDesignError, SimulationError
from archgym.simulator import Metrics, PreparedWorkload, Simulator

from .architecture import Architecture, ArchitectureError
from .hierarchy_model import evaluate_batch
from .networks import Workload, as_workload
from .simulator import METRICS, NetworkTotals, network_metrics
from .space import extended_design_space
from .technology import DEFAULT_TECHNOLOGY, Technology
from .templates import extended_architecture

#: which metric each memory's energy goes to (by memory name)
_GROUP = {"w_spad": "rf", "i_spad": "rf", "o_spad": "rf", "col_buf": "glb", "glb": "glb", "dram": "dram"}


class ExtendedAcceleratorSimulator(Simulator[Workload]):
    """Designs of the 26-knob extended space, costed by the hierarchy model (see the module doc)."""

    metrics = METRICS
    version = "archgym-accelerator hierarchy model 0.2 (extended 26-knob space)"

    def __init__(self, technology: Technology = DEFAULT_TECHNOLOGY, im2col: bool = True) -> None:
        self.technology = technology
        self.im2col = im2col
        self._space = extended_design_space()

    def prepare(self, workload: object) -> PreparedWorkload[Workload]:
        """A registered name, a :class:`~.networks.Workload` or a list of layers, once."""
        wl = as_workload(cast(Any, workload))
        return PreparedWorkload(wl, wl.name, workload, (wl.name, wl.layers))

    def architectures(self, designs: Sequence[Mapping[str, Any]]) -> list[Architecture]:
        """The designs as architectures (a design outside the space is a SimulationError)."""
        out = []
        for i, d in enumerate(designs):
            try:
                out.append(extended_architecture(self._space.validate(d), self.technology, self.im2col))
            except (InvalidDesignError, ArchitectureError) as exc:
                raise SimulationError(f"design {i}: {exc}") from None
        return out

    def evaluate_arrays(self, designs: Sequence[Mapping[str, Any]], workload: Any) -> dict[str, np.ndarray]:
        """Network metrics as ``{name: (B,) array}``."""
        wl = self.workload_data(workload)
        archs = self.architectures(designs)
        costs = evaluate_batch(archs, wl.layers)
        sc = costs.scalars
        n = len(archs)
        groups = {g: np.zeros(n) for g in ("rf", "glb", "dram")}
        dram_bytes = np.zeros(n)
        for a, arch in enumerate(archs):
            for m, mem in enumerate(arch.memories):
                groups[_GROUP[mem.name]][a] += costs.level_energy_pj[a, :, m].sum()
            dram = len(arch.memories) - 1
            words = (costs.reads[a, :, dram] + costs.writes[a, :, dram]).sum()
            dram_bytes[a] = words * arch.memories[dram].ports[0].bw_max / 8
        totals = NetworkTotals(
            cycles=sc["latency_cycles"].sum(1),
            clock_mhz=np.array([a.clock_mhz for a in archs]),
            energy_pj=sc["energy_pj"].sum(1),
            level_energy_pj=groups,
            mac_energy_pj=sc["mac_energy_pj"].sum(1),
            dram_bytes=dram_bytes,
            macs=float(sum(layer.macs for layer in wl.layers)),
            pes=np.array([a.array.units for a in archs], np.float64),
            area_mm2=np.array([a.area_mm2 for a in archs]),
        )
        return network_metrics(totals)  # the assembly the 9-knob hierarchy model and ZigZag use

    def evaluate(self, design: Mapping[str, Any], workload: Any) -> Metrics:
        return self.evaluate_many([design], workload)[0]

    def evaluate_many(self, designs: Sequence[Mapping[str, Any]], workload: Any) -> list[Metrics]:
        if not designs:
            return []
        cols = self.evaluate_arrays(designs, workload)
        return [{m.name: float(cols[m.name][i]) for m in self.metrics} for i in range(len(designs))]
