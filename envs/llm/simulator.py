"""``LLMTrainingSimulator`` and ``LLMServingSimulator``: designs of a distributed training job
(step time, throughput, memory, network cost; the model: :mod:`.training`) or of an inference
deployment (time to first token, time per output token, tokens/s per GPU, memory;
:mod:`.serving`).

The workload is a :class:`TrainingWorkload` (a transformer and its global batch) or a
:class:`ServingWorkload` (a transformer and the request shape); the simulator holds the
cluster. Both share :class:`_ArrayModelSimulator`: designs are checked against the space,
turned into per-design arrays and evaluated by one vectorised call. A design breaking a constraint (degrees that do not multiply to
the GPU count, heads not divisible by ``tp``, layers by ``pp``, a batch that does not split,
memory over the GPU's HBM) raises :class:`~archgym.simulator.SimulationError` with the reason;
the run records it and goes on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from archgym.design_space import DesignSpace
from archgym.errors import ConfigError, InvalidDesignError, InvalidWorkloadError, SimulationError
from archgym.simulator import Metric, Metrics, PreparedWorkload, Simulator

from .cost import network_cost
from .hardware import Cluster
from .serving import REASONS as SERVING_REASONS
from .serving import ServingSetup, evaluate_serving
from .space import MAX_CP, serving_arrays, serving_space, training_arrays, training_space
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


@dataclass(frozen=True)
class ServingWorkload:
    """What is served: the model and the request shape (prompt and generated tokens)."""

    model: Transformer
    prompt_len: int
    output_len: int

    @property
    def name(self) -> str:
        return f"{self.model.name}@{self.prompt_len}+{self.output_len}"


def as_training_workload(workload: Any) -> TrainingWorkload:
    """The :class:`TrainingWorkload` in ``workload`` (prepared or as given), checked."""
    if isinstance(workload, PreparedWorkload):
        workload = workload.data
    if not isinstance(workload, TrainingWorkload):
        raise InvalidWorkloadError(
            f"the LLM training simulator needs a TrainingWorkload, got {type(workload).__name__}"
        )
    if workload.global_batch < 1:
        raise InvalidWorkloadError(f"global batch must be >= 1, got {workload.global_batch}")
    return workload


def as_serving_workload(workload: Any) -> ServingWorkload:
    """The :class:`ServingWorkload` in ``workload`` (prepared or as given), checked."""
    if isinstance(workload, PreparedWorkload):
        workload = workload.data
    if not isinstance(workload, ServingWorkload):
        raise InvalidWorkloadError(
            f"the LLM serving simulator needs a ServingWorkload, got {type(workload).__name__}"
        )
    if workload.prompt_len < 1 or workload.output_len < 1:
        raise InvalidWorkloadError(
            f"prompt and output lengths must be >= 1, got {workload.prompt_len} and {workload.output_len}"
        )
    return workload


SERVING_METRICS: tuple[Metric, ...] = (
    Metric("ttft_s", "s", "lower", 0.5, "time to first token: the batch's prefill"),
    Metric("tpot_s", "s", "lower", 0.03, "time per output token: one decode step at the average context"),
    Metric(
        "tokens_per_s_per_gpu",
        "tokens/s",
        "higher",
        200.0,
        "generated tokens per second per GPU (prefill included)",
    ),
    Metric(
        "memory_gb", "GiB", "lower", 40.0, "peak memory per GPU: weights, KV cache, transient activations"
    ),
)
SERVING_BREAKDOWN = ("request_latency_s", "decode_weights_s", "decode_kv_s", "decode_comm_s", "kv_cache_gb")


def _design_key(design: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(sorted(design.items()))


class _ArrayModelSimulator(Simulator[Any]):
    """A vectorised model behind the protocol: check designs, build arrays, evaluate, explain."""

    def __init__(self, cluster: Cluster, search_network: bool = False, max_cp: int = MAX_CP) -> None:
        if max_cp < 1:
            raise ConfigError(f"max_cp must be >= 1, got {max_cp}")
        self.cluster = cluster
        self.search_network = bool(search_network)
        self.max_cp = int(max_cp)
        self._spaces: dict[str, DesignSpace] = {}
        self._allowed: dict[int, dict[str, frozenset[Any]]] = {}
        self._last_batch: dict[tuple[Any, tuple[Any, ...]], Metrics | str] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.cluster.gpu.name} x {self.cluster.n_gpus})"

    def prepare(self, workload: object) -> PreparedWorkload[Any]:
        """The workload checked once (the env calls this when it is built)."""
        wl = self._workload(workload)
        return PreparedWorkload(wl, wl.name, workload, (repr(wl),))

    def design_space(self, workload: Any) -> DesignSpace:
        wl = self._workload(workload)
        if wl.model.name not in self._spaces:
            self._spaces[wl.model.name] = self._space(wl.model)
        return self._spaces[wl.model.name]

    def _checked(self, designs: Sequence[Mapping[str, Any]], workload: Any) -> list[Mapping[str, Any]]:
        """The designs, each checked against the space: a set lookup per knob, and the space's
        own validation (which names the bad knob and value) only for a design that fails it."""
        space = self.design_space(workload)
        allowed = self._allowed.get(id(space))
        if allowed is None:
            allowed = {p.name: frozenset(p.from_index(i) for i in range(p.n)) for p in space.params}
            self._allowed[id(space)] = allowed
        out: list[Mapping[str, Any]] = []
        for d in designs:
            ok = isinstance(d, Mapping) and len(d) == len(allowed)
            if ok:
                try:
                    ok = all(
                        d[k] in values and (isinstance(d[k], bool) == (True in values and False in values))
                        for k, values in allowed.items()
                    )
                except (KeyError, TypeError):
                    ok = False
            try:
                out.append(d if ok else space.validate(d))
            except InvalidDesignError as exc:
                raise SimulationError(str(exc)) from None
        return out

    def evaluate(self, design: Mapping[str, Any], workload: Any) -> Metrics:
        """One design; answered from the last batch when it was in it (``evaluate_safely`` asks
        again one design at a time after a batch with an infeasible design)."""
        try:
            hit = self._last_batch.get((self._workload(workload), _design_key(design)))
        except (TypeError, AttributeError):  # not a mapping, an unhashable value: the checks name it
            hit = None
        if hit is None:
            return self.evaluate_many([design], workload)[0]
        if isinstance(hit, str):
            raise SimulationError(hit)
        return dict(hit)

    def evaluate_many(self, designs: Sequence[Mapping[str, Any]], workload: Any) -> list[Metrics]:
        """All designs in one vectorised call; raises :class:`SimulationError` naming the first
        infeasible one (the results of the others are kept for :meth:`evaluate`)."""
        if not designs:
            return []
        out = self.evaluate_arrays(designs, workload)
        names = self.metric_names + self.extra_columns
        table = np.stack([out[n] for n in names], axis=1)
        codes = out["infeasible"]
        results: list[Metrics | str] = [
            f"infeasible design: {self._explain(int(c), d, out, i, workload)}"
            if c
            else dict(zip(names, map(float, row)))
            for i, (d, c, row) in enumerate(zip(designs, codes, table))
        ]
        try:
            key = self._workload(workload)
            self._last_batch = {(key, _design_key(d)): r for d, r in zip(designs, results)}
        except TypeError:
            self._last_batch = {}
        for r in results:
            if isinstance(r, str):
                raise SimulationError(r)
        return results  # type: ignore[return-value]

    def _workload(self, workload: Any) -> Any:
        raise NotImplementedError

    def _space(self, model: Transformer) -> DesignSpace:
        raise NotImplementedError

    def evaluate_arrays(self, designs: Sequence[Mapping[str, Any]], workload: Any) -> dict[str, np.ndarray]:
        """Every metric and breakdown column as ``{name: (B,) array}``, plus ``infeasible`` (a
        reason code, 0 when feasible): the fastest batch form."""
        raise NotImplementedError

    def _explain(
        self, code: int, design: Mapping[str, Any], out: Mapping[str, np.ndarray], i: int, workload: Any
    ) -> str:
        raise NotImplementedError


class LLMTrainingSimulator(_ArrayModelSimulator):
    """The analytical training model on one cluster (see :mod:`.training`)."""

    metrics = TRAINING_METRICS
    extra_columns = TRAINING_BREAKDOWN
    version = f"archgym-llm-training {__version__} (analytical: roofline GEMMs, Korthikanti memory, ASTRA-sim collectives)"

    def _workload(self, workload: Any) -> TrainingWorkload:
        return as_training_workload(workload)

    def _space(self, model: Transformer) -> DesignSpace:
        return training_space(model, self.cluster, self.search_network, self.max_cp)

    def evaluate_arrays(self, designs: Sequence[Mapping[str, Any]], workload: Any) -> dict[str, np.ndarray]:
        wl = as_training_workload(workload)
        d = training_arrays(self._checked(designs, wl), self.cluster)
        out = evaluate_training(TrainingSetup(wl.model, self.cluster, wl.global_batch), d)
        sizes = np.array([x.size for x in self.cluster.dims], dtype=np.float64)
        out["network_cost"] = network_cost(sizes, d["net_topology"], d["net_bandwidth_gbps"])
        return out

    def _explain(
        self, code: int, design: Mapping[str, Any], out: Mapping[str, np.ndarray], i: int, workload: Any
    ) -> str:
        wl = as_training_workload(workload)
        setup = TrainingSetup(wl.model, self.cluster, wl.global_batch)
        return reason(code, wl.model, setup, design, float(out["memory_gb"][i]))


class LLMServingSimulator(_ArrayModelSimulator):
    """The analytical serving model on one cluster (see :mod:`.serving`)."""

    metrics = SERVING_METRICS
    extra_columns = SERVING_BREAKDOWN
    version = f"archgym-llm-serving {__version__} (analytical: roofline prefill/decode, KV cache, ASTRA-sim collectives)"

    def _workload(self, workload: Any) -> ServingWorkload:
        return as_serving_workload(workload)

    def _space(self, model: Transformer) -> DesignSpace:
        return serving_space(model, self.cluster, self.search_network)

    def evaluate_arrays(self, designs: Sequence[Mapping[str, Any]], workload: Any) -> dict[str, np.ndarray]:
        wl = as_serving_workload(workload)
        d = serving_arrays(self._checked(designs, wl), self.cluster)
        return evaluate_serving(ServingSetup(wl.model, self.cluster, wl.prompt_len, wl.output_len), d)

    def _explain(
        self, code: int, design: Mapping[str, Any], out: Mapping[str, np.ndarray], i: int, workload: Any
    ) -> str:
        m, gpu = as_serving_workload(workload).model, self.cluster.gpu
        tp, pp = int(design["tp"]), int(design["pp"])
        return SERVING_REASONS[code].format(
            tpp=tp * pp, gpus=self.cluster.n_gpus, tp=tp, heads=m.heads, ffn=m.ffn, pp=pp, layers=m.layers,
            memory=float(out["memory_gb"][i]), hbm=gpu.hbm_gb, gpu=gpu.name,
        )  # fmt: skip
