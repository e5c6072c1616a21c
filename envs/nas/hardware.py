"""Hardware cost of a network: its traced layers on the accelerator environment's model.

The layers come from :func:`archgym.envs.accelerator.tracing.trace_layers` (forward hooks
on every Conv/Linear of the built ``nn.Module``) and are costed by
:class:`archgym.envs.accelerator.AcceleratorSimulator` -- the same tracing and the same
analytical model as ``archgym/Accelerator-v0``, not a copy. The model runs the layers one
after another, so a network's latency and energy are the sums of its layers' (checked by
the tests); area depends only on the accelerator design.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from archgym.envs.accelerator import AcceleratorSimulator, Layer, trace_layers
from archgym.envs.accelerator.space import EYERISS_LIKE, accelerator_design_space
from archgym.simulator import Metric

from .cache import ArchCache
from .metrics import HW_METRICS, hardware_metrics
from .runtime import cpu_threads, seeded
from .search_space import NetworkSpace


def default_accelerator_design() -> dict[str, Any]:
    """The fixed accelerator of ``archgym/NAS-v0`` unless configured: the Eyeriss-like design."""
    return dict(EYERISS_LIKE)


class HardwareCost:
    """Latency, energy and area of a space's networks on accelerator designs.

    Args:
        space: the network space whose designs are costed.
        simulator: the accelerator model (default: a CPU :class:`AcceleratorSimulator`).
        batch: inference batch size ``N`` of the traced layers.
        metrics: accelerator metrics to report (names of ``simulator.metrics``).
    """

    def __init__(
        self,
        space: NetworkSpace,
        simulator: AcceleratorSimulator | None = None,
        batch: int = 1,
        metrics: Sequence[str] = HW_METRICS,
    ) -> None:
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        self.space = space
        self.simulator = simulator or AcceleratorSimulator()
        self.batch = int(batch)
        self.metrics: tuple[Metric, ...] = hardware_metrics(self.simulator.metrics, metrics)
        self.accelerator_space = accelerator_design_space()
        self.cache: ArchCache[tuple[Layer, ...]] = ArchCache()

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.metrics)

    def layers(self, design: Mapping[str, Any]) -> tuple[Layer, ...]:
        """The compute layers of ``design``'s network (traced once per architecture)."""
        return self.cache.get_or_compute(self.space.cache_key(design), lambda: self._trace(design))

    def _trace(self, design: Mapping[str, Any]) -> tuple[Layer, ...]:
        with cpu_threads(1), seeded(0):  # construction draws initial weights; keep the caller's RNG untouched
            model = self.space.build(design)
            return tuple(trace_layers(model, (self.batch, *self.space.input_shape)))

    def cost(
        self, design: Mapping[str, Any], accelerators: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, float]]:
        """``{metric: value}`` of one network on each accelerator design (one vectorised call)."""
        accs = [self.accelerator_space.validate(a) for a in accelerators]
        cols = self.simulator.evaluate_arrays(accs, list(self.layers(design)))
        return [{m: float(cols[m][i]) for m in self.metric_names} for i in range(len(accs))]

    def layer_costs(self, design: Mapping[str, Any], accelerator: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Per-layer latency (ms) and energy (uJ) of one network on one accelerator design.

        Read from the model's per-layer result; their sums are the network's latency and
        energy.
        """
        acc = self.accelerator_space.validate(accelerator)
        layers = self.layers(design)
        res = self.simulator.run([acc], list(layers))
        lat = res.layer_latency_ms[0].cpu().numpy()
        energy = (res.layer_energy_pj[0] * 1e-6).cpu().numpy()
        return [
            {"layer": l.name, "latency_ms": float(lat[i]), "energy_uj": float(energy[i])}
            for i, l in enumerate(layers)
        ]


__all__ = ["HW_METRICS", "HardwareCost", "default_accelerator_design"]
