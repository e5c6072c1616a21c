"""``archgym/LLMTraining-v0`` and ``archgym/LLMServing-v0``: parallelise a transformer's training
or serving on a GPU cluster, on the analytical models of this package."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from archgym.env import ArchGymEnv
from archgym.errors import ConfigError, InvalidDesignError
from archgym.objective import ConstraintSpec, objective_from_config

from .hardware import Cluster, custom_cluster, dgx_cluster
from .simulator import LLMServingSimulator, LLMTrainingSimulator, ServingWorkload, TrainingWorkload
from .transformers import Transformer, load_transformer

TRAINING_ENV_ID = "archgym/LLMTraining-v0"
SERVING_ENV_ID = "archgym/LLMServing-v0"
#: knob defaults of :meth:`LLMEnv.design_for` (the knobs a space lacks are dropped)
DEFAULT_KNOBS: dict[str, Any] = {
    "tp": 1, "pp": 1, "cp": 1, "sequence_parallel": False, "micro_batch": 1, "interleave": 1,
    "recompute": "none", "zero": 0, "overlap_dp": False, "overlap_tp": False, "flash_attention": False,
    "chunks": 1, "batch": 1, "weight_bits": 16, "kv_bits": 16,
}  # fmt: skip


def build_cluster(
    gpu: str, gpus: int, gpus_per_node: int, network: Sequence[Mapping[str, Any]] | None
) -> Cluster:
    """The DGX-style preset, or the given ASTRA-sim-style network (whose sizes must multiply to
    ``gpus``)."""
    if network is None:
        return dgx_cluster(gpu, int(gpus), int(gpus_per_node))
    cluster = custom_cluster(gpu, network)
    if cluster.n_gpus != int(gpus):
        sizes = " x ".join(str(d.size) for d in cluster.dims)
        raise ConfigError(
            f"network: the dimension sizes ({sizes} = {cluster.n_gpus}) must multiply to gpus ({gpus})"
        )
    return cluster


class LLMEnv(ArchGymEnv):
    """An :class:`ArchGymEnv` that completes partial designs: ``design_for(tp=8, pp=8, ...)``."""

    def design_for(self, **knobs: Any) -> dict[str, Any]:
        """A full design from the given knobs, the rest at their defaults (:meth:`defaults`);
        ``dp`` defaults to what makes the degrees multiply to the GPU count.

        Raises:
            InvalidDesignError: an unknown knob or a value outside its domain (naming it).
        """
        unknown = sorted(set(knobs) - set(self.space.names))
        if unknown:
            raise InvalidDesignError(
                f"unknown knob(s) {', '.join(unknown)}; knobs: {', '.join(self.space.names)}"
            )
        design = {**self.defaults(knobs), **knobs}
        return self.space.validate(design)

    def defaults(self, knobs: Mapping[str, Any]) -> dict[str, Any]:
        sim = self._native  # the model's own simulator (a proxy swapped in keeps the space)
        out = dict(DEFAULT_KNOBS)
        for i, dim in enumerate(sim.cluster.dims):
            out[f"collective_dim{i}"] = "ring"
            out[f"topology_dim{i}"] = dim.topology
            out[f"bandwidth_dim{i}"] = dim.bandwidth_gbps
        rest = int(knobs.get("tp", 1)) * int(knobs.get("pp", 1)) * int(knobs.get("cp", 1))
        out["dp"] = max(1, sim.cluster.n_gpus // rest)
        return {k: v for k, v in out.items() if k in self.space.names}

    _native: LLMTrainingSimulator | LLMServingSimulator


def make_llm_training_env(
    model: str | Path | Transformer | dict[str, Any] = "gpt3-175b",
    gpus: int = 64,
    gpu: str = "a100-80gb",
    global_batch: int = 64,
    seq_len: int | None = None,
    gpus_per_node: int = 8,
    network: Sequence[Mapping[str, Any]] | None = None,
    search_network: bool = False,
    max_cp: int = 16,
    targets: Mapping[str, float] | None = None,
    tolerance: float = 0.05,
    modes: Mapping[str, str] | None = None,
    constraints: Iterable[ConstraintSpec] | None = None,
    episode_length: int = 32,
    **kwargs: Any,
) -> LLMEnv:
    """Build the LLM training environment.

    Args:
        model: a preset (``gpt3-175b``, ``megatron-1t``, ``llama3-70b``, ``gpt-1.7b``, ...; see
            :mod:`.transformers`), a YAML file in that module's format, a mapping or a
            :class:`Transformer`.
        gpus: GPUs in the cluster (nodes of ``gpus_per_node`` on NVSwitch, InfiniBand between).
        gpu: ``a100-80gb``, ``a100-40gb``, ``h100-80gb``, ``h200-141gb`` or ``v100-32gb``.
        global_batch: sequences per iteration.
        seq_len: overrides the model's sequence length.
        network: an ASTRA-sim-style network instead of the DGX layout: one mapping per
            dimension, innermost first (``topology``, ``size``, ``bandwidth_gbps``, ``latency_s``,
            ``efficiency``; see :func:`~.hardware.custom_cluster`); sizes multiply to ``gpus``.
        search_network: also search each network dimension's topology and bandwidth.
        max_cp: largest context-parallel degree offered (1: none; a smaller space, more of it
            feasible).
        targets: ``{metric: value}``; default: MFU at least 0.5 within the memory of the GPU.
        tolerance, modes, constraints: the objective (see ``archgym.objective``).
        episode_length: steps per episode.
        **kwargs: passed to :class:`~archgym.env.ArchGymEnv`.
    """
    transformer = load_transformer(model, seq_len)
    cluster = build_cluster(gpu, gpus, gpus_per_node, network)
    sim = LLMTrainingSimulator(cluster, search_network=search_network, max_cp=int(max_cp))
    workload = TrainingWorkload(transformer, int(global_batch))
    return _llm_env(
        sim,
        workload,
        TRAINING_ENV_ID,
        {"mfu": 0.5},
        targets,
        tolerance,
        modes,
        constraints,
        episode_length,
        kwargs,
    )


def make_llm_serving_env(
    model: str | Path | Transformer | dict[str, Any] = "llama3-70b",
    gpus: int = 8,
    gpu: str = "h100-80gb",
    prompt_len: int = 1024,
    output_len: int = 256,
    gpus_per_node: int = 8,
    network: Sequence[Mapping[str, Any]] | None = None,
    search_network: bool = False,
    targets: Mapping[str, float] | None = None,
    tolerance: float = 0.05,
    modes: Mapping[str, str] | None = None,
    constraints: Iterable[ConstraintSpec] | None = None,
    episode_length: int = 32,
    **kwargs: Any,
) -> LLMEnv:
    """Build the LLM serving environment (knobs: ``tp``, ``pp``, ``batch``, ``weight_bits``,
    ``kv_bits`` and the network's).

    Args:
        model: as for :func:`make_llm_training_env`.
        gpus: GPUs available; a design uses ``tp x pp`` of them per replica.
        gpu: a GPU preset (:data:`~.hardware.GPUS`).
        gpus_per_node, network, search_network: as for :func:`make_llm_training_env`.
        prompt_len, output_len: tokens per request in and out.
        targets: default: time per output token at most 30 ms and at least 500 tokens/s per GPU.
        tolerance, modes, constraints, episode_length, **kwargs: as for the training env.
    """
    transformer = load_transformer(model)
    cluster = build_cluster(gpu, gpus, gpus_per_node, network)
    sim = LLMServingSimulator(cluster, search_network=search_network)
    workload = ServingWorkload(transformer, int(prompt_len), int(output_len))
    defaults = {"tpot_s": 0.03, "tokens_per_s_per_gpu": 500.0}
    return _llm_env(
        sim,
        workload,
        SERVING_ENV_ID,
        defaults,
        targets,
        tolerance,
        modes,
        constraints,
        episode_length,
        kwargs,
    )


def _llm_env(
    sim: LLMTrainingSimulator | LLMServingSimulator,
    workload: Any,
    env_id: str,
    default_targets: Mapping[str, float],
    targets: Mapping[str, float] | None,
    tolerance: float,
    modes: Mapping[str, str] | None,
    constraints: Iterable[ConstraintSpec] | None,
    episode_length: int,
    env_kwargs: Mapping[str, Any],
) -> LLMEnv:
    """The objective and the env both LLM factories build around their simulator and workload."""
    objective = objective_from_config(
        sim.metrics,
        targets=targets,
        default_targets=lambda: dict(default_targets),
        tolerance=tolerance,
        modes=modes,
        constraints=constraints,
    )
    env = LLMEnv(
        sim.design_space(workload),
        sim,
        workload,
        objective,
        episode_length=episode_length,
        env_id=env_id,
        workload_name=workload.name,
        **env_kwargs,
    )
    env._native = sim
    return env
