"""``LLMTrainingSimulator``: designs of a distributed training job -> step time, throughput,
memory, network cost (the model: :mod:`.training`).

The workload is a :class:`TrainingWorkload` (a transformer and its global batch); the
simulator holds the cluster. A design breaking a constraint (degrees that do not multiply to
the GPU count, heads not divisible by ``tp``, layers by ``pp``, a batch that does not split,
memory over the GPU's HBM) raises :class:`~archgym.simulator.SimulationError` with the reason;
the run records it and goes on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from archgym.design_space import DesignSpace, InvalidDesignError
from archgym.simulator import InvalidWorkloadError, Metric, Metrics, SimulationError, Simulator

from .cost import network_cost
from .hardware import Cluster
from .space import training_arrays, training_space
from .training import TrainingSetup, evaluate_training, reason
from .transformers import Transformer

__version__ = "1.0"

TRAINING_METRICS: tuple[Metric, ...] = (
    Metric("step_time_s", "s", "lower", 10.0, "one training iteration (global batch)"),
    Metric(
        "tflops_per_gpu",
        "TFLOP/s",
        "higher",
        150.0,
        "FLOPs executed per GPU per second (Narayanan et al. eq. 3 count)",
    ),
    Metric("mfu", "1", "higher", 0.5, "model FLOPs utilisation: 6N-style model FLOPs / (time x GPUs x peak)"),
    Metric("memory_gb", "GiB", "lower", 40.0, "peak memory per GPU: weights, optimizer state, activations"),
    Metric("network_cost", "USD", "lower", 1e6, "network links, switches and NICs (ASTRA-sim's cost model)"),
)
TRAINING_BREAKDOWN = (
    "compute_s",
    "bubble_s",
    "tp_comm_s",
    "cp_comm_s",
    "pp_comm_s",
    "dp_comm_s",
    "optimizer_s",
)


@dataclass(frozen=True)
class TrainingWorkload:
    """What is trained: the model and the global batch (sequences per iteration)."""

    model: Transformer
    global_batch: int

    @property
    def name(self) -> str:
        return f"{self.model.name}@{self.global_batch}"


def as_training_workload(workload: Any) -> TrainingWorkload:
    if not isinstance(workload, TrainingWorkload):
        raise InvalidWorkloadError(
            f"the LLM training simulator needs a TrainingWorkload, got {type(workload).__name__}"
        )
    if workload.global_batch < 1:
        raise InvalidWorkloadError(f"global batch must be >= 1, got {workload.global_batch}")
    return workload


class LLMTrainingSimulator(Simulator):
    """The analytical training model on one cluster (see :mod:`.training`)."""

    metrics = TRAINING_METRICS
    extra_columns = TRAINING_BREAKDOWN
    version = f"archgym-llm-training {__version__} (analytical: roofline GEMMs, Korthikanti memory, ASTRA-sim collectives)"

    def __init__(self, cluster: Cluster, search_network: bool = False) -> None:
        self.cluster = cluster
        self.search_network = bool(search_network)
        self._spaces: dict[str, DesignSpace] = {}

    def __repr__(self) -> str:
        return f"LLMTrainingSimulator({self.cluster.gpu.name} x {self.cluster.n_gpus})"

    def check_workload(self, workload: Any) -> None:
        as_training_workload(workload)

    def design_space(self, workload: Any) -> DesignSpace:
        wl = as_training_workload(workload)
        if wl.model.name not in self._spaces:
            self._spaces[wl.model.name] = training_space(wl.model, self.cluster, self.search_network)
        return self._spaces[wl.model.name]

    def _arrays(self, designs: Sequence[Mapping[str, Any]], wl: TrainingWorkload) -> dict[str, np.ndarray]:
        space = self.design_space(wl)
        try:
            checked = [space.validate(d) for d in designs]
        except InvalidDesignError as exc:
            raise SimulationError(str(exc)) from None
        return training_arrays(checked, self.cluster)

    def evaluate_arrays(self, designs: Sequence[Mapping[str, Any]], workload: Any) -> dict[str, np.ndarray]:
        """Every metric and breakdown column as ``{name: (B,) array}``, plus ``infeasible``
        (a :data:`~.training.REASONS` code, 0 when feasible): the fastest batch form."""
        wl = as_training_workload(workload)
        d = self._arrays(designs, wl)
        out = evaluate_training(TrainingSetup(wl.model, self.cluster, wl.global_batch), d)
        sizes = np.array([x.size for x in self.cluster.dims], dtype=np.float64)
        out["network_cost"] = network_cost(sizes, d["net_topology"], d["net_bandwidth_gbps"])
        return out

    def evaluate(self, design: Mapping[str, Any], workload: Any) -> Metrics:
        return self.evaluate_many([design], workload)[0]

    def evaluate_many(self, designs: Sequence[Mapping[str, Any]], workload: Any) -> list[Metrics]:
        if not designs:
            return []
        wl = as_training_workload(workload)
        out = self.evaluate_arrays(designs, wl)
        bad = np.flatnonzero(out["infeasible"])
        if len(bad):
            i = int(bad[0])
            setup = TrainingSetup(wl.model, self.cluster, wl.global_batch)
            msg = reason(int(out["infeasible"][i]), wl.model, setup, designs[i], float(out["memory_gb"][i]))
            raise SimulationError(f"infeasible design: {msg}")
        names = self.metric_names + self.extra_columns
        table = np.stack([out[n] for n in names], axis=1)
        return [dict(zip(names, map(float, row))) for row in table]
