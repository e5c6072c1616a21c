"""Design spaces of the LLM envs, and designs -> the model's per-design arrays.

Training knobs (Megatron-LM's and ASTRA-sim's, names as the issue fixes them):

=====================  ===========================================================================
knob                   values
=====================  ===========================================================================
``tp`` ``pp`` ``dp``   tensor-, pipeline-, data- and context-parallel degrees: the divisors of the
``cp``                 GPU count (tp <= 64, pp <= layers, cp <= 16); their product must be the GPU
                       count
``sequence_parallel``  Korthikanti et al.'s sequence parallelism in the TP group
``micro_batch``        1, 2, 4, 8, 16
``interleave``         virtual pipeline stages per GPU (Narayanan et al.'s interleaved 1F1B)
``recompute``          ``none`` / ``selective`` / ``full`` activation recomputation
``zero``               0 (plain DP), 1 (distributed optimizer), 2, 3 (ZeRO stages)
``overlap_dp``         data-parallel communication hidden behind the backward pass
``overlap_tp``         tensor-parallel communication hidden behind the GEMMs
``flash_attention``    fused attention (FlashAttention-2) instead of Megatron's unfused kernels
``collective_dim<i>``  per network dimension: ``ring``, ``direct``, ``halving_doubling``,
                       ``double_binary_tree``
``chunks``             1, 2, 4, 8, 16 pieces each collective is split into (pipelined over dims)
``topology_dim<i>``    with ``search_network=True``: ``Ring`` / ``Switch`` / ``FullyConnected``
``bandwidth_dim<i>``   with ``search_network=True``: per-NPU GB/s of dimension i
=====================  ===========================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from archgym.design_space import Categorical, DesignSpace, Integer, Ordinal, Parameter
from archgym.errors import InvalidDesignError

from .collectives import ALGORITHMS
from .hardware import TOPOLOGIES, Cluster
from .training import RECOMPUTE
from .transformers import Transformer


class Flag(Categorical):
    """An on/off knob: ``False`` / ``True``, also read back from a dataset's ``"False"`` / ``"True"``
    (datasets store categorical values as text)."""

    def __init__(self, name: str) -> None:
        super().__init__(name, (False, True))

    def to_index(self, value: Any) -> int:
        if isinstance(value, (bool, np.bool_)):
            return int(bool(value))
        if value in ("False", "True"):
            return int(value == "True")
        raise InvalidDesignError(f"parameter {self.name!r}: invalid value {value!r}; allowed: False, True")


MICRO_BATCHES = (1, 2, 4, 8, 16)
INTERLEAVE = (1, 2, 3, 4, 6, 8)
#: bandwidth choices of a searched dimension, GB/s per NPU: scale-out NICs up to NVLink 4/5
BANDWIDTHS_GBPS = (12.5, 25.0, 50.0, 100.0, 200.0, 300.0, 450.0, 900.0)
MAX_TP, MAX_CP = 64, 16


def divisors(n: int, cap: int | None = None) -> tuple[int, ...]:
    return tuple(k for k in range(1, n + 1) if n % k == 0 and (cap is None or k <= cap))


def network_params(cluster: Cluster, search_network: bool) -> list[Parameter]:
    params: list[Parameter] = []
    for i, dim in enumerate(cluster.dims):
        params.append(Categorical(f"collective_dim{i}", ALGORITHMS))
        if search_network:
            params.append(Categorical(f"topology_dim{i}", TOPOLOGIES))
            params.append(Ordinal(f"bandwidth_dim{i}", tuple(sorted({*BANDWIDTHS_GBPS, dim.bandwidth_gbps}))))
    params.append(Integer("chunks", 1, 16, log2=True))
    return params


def training_space(
    model: Transformer, cluster: Cluster, search_network: bool = False, max_cp: int = MAX_CP
) -> DesignSpace:
    """The training knobs for ``model`` on ``cluster`` (see the module docstring); ``max_cp``
    caps the context-parallel degree (1: no context parallelism)."""
    n = cluster.n_gpus
    params: list[Parameter] = [
        Ordinal("tp", divisors(n, MAX_TP)),
        Ordinal("pp", divisors(n, model.layers)),
        Ordinal("dp", divisors(n)),
        Ordinal("cp", divisors(n, max_cp)),
        Flag("sequence_parallel"),
        Ordinal("micro_batch", MICRO_BATCHES),
        Ordinal("interleave", INTERLEAVE),
        Categorical("recompute", RECOMPUTE),
        Integer("zero", 0, 3),
        Flag("overlap_dp"),
        Flag("overlap_tp"),
        Flag("flash_attention"),
    ]
    return DesignSpace(params + network_params(cluster, search_network))


def network_arrays(designs: Sequence[Mapping[str, Any]], cluster: Cluster) -> dict[str, np.ndarray]:
    """(B, D) arrays of the network: from the design where it names a knob, else the cluster."""
    b, n_dims = len(designs), len(cluster.dims)
    topo = np.empty((b, n_dims), np.int64)
    bw = np.empty((b, n_dims))
    algo = np.empty((b, n_dims), np.int64)
    for i, dim in enumerate(cluster.dims):
        topo[:, i] = [TOPOLOGIES.index(x.get(f"topology_dim{i}", dim.topology)) for x in designs]
        bw[:, i] = [x.get(f"bandwidth_dim{i}", dim.bandwidth_gbps) for x in designs]
        algo[:, i] = [ALGORITHMS.index(x.get(f"collective_dim{i}", "ring")) for x in designs]
    return {
        "net_topology": topo,
        "net_bandwidth_gbps": bw,
        "net_latency_s": np.broadcast_to(np.array([x.latency_s for x in cluster.dims]), (b, n_dims)),
        "net_efficiency": np.broadcast_to(np.array([x.efficiency for x in cluster.dims]), (b, n_dims)),
        "collective": algo,
        "chunks": np.array([x.get("chunks", 1) for x in designs], dtype=np.float64),
    }


_INT_KNOBS = ("tp", "pp", "dp", "cp", "micro_batch", "interleave", "zero")
_BOOL_KNOBS = ("sequence_parallel", "overlap_dp", "overlap_tp", "flash_attention")


def training_arrays(designs: Sequence[Mapping[str, Any]], cluster: Cluster) -> dict[str, np.ndarray]:
    """Designs -> the per-design arrays :func:`~.training.evaluate_training` reads."""
    numbers = np.array([[x[k] for k in _INT_KNOBS] for x in designs], dtype=np.float64).reshape(
        -1, len(_INT_KNOBS)
    )
    out: dict[str, np.ndarray] = {k: numbers[:, i] for i, k in enumerate(_INT_KNOBS)}
    out["zero"] = out["zero"].astype(np.int64)
    flags = np.array([[x[k] for k in _BOOL_KNOBS] for x in designs], dtype=bool).reshape(-1, len(_BOOL_KNOBS))
    out.update({k: flags[:, i] for i, k in enumerate(_BOOL_KNOBS)})
    out["recompute"] = np.array([RECOMPUTE.index(x["recompute"]) for x in designs], dtype=np.int64)
    out.update(network_arrays(designs, cluster))
    return out


SERVING_BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
WEIGHT_BITS = (4, 8, 16)
KV_BITS = (8, 16)


def serving_space(model: Transformer, cluster: Cluster, search_network: bool = False) -> DesignSpace:
    """The serving knobs: ``tp``, ``pp`` (divisors of the GPU count), ``batch``, ``weight_bits``,
    ``kv_bits`` and the network knobs."""
    n = cluster.n_gpus
    params: list[Parameter] = [
        Ordinal("tp", divisors(n, MAX_TP)),
        Ordinal("pp", divisors(n, model.layers)),
        Ordinal("batch", SERVING_BATCHES),
        Ordinal("weight_bits", WEIGHT_BITS),
        Ordinal("kv_bits", KV_BITS),
    ]
    return DesignSpace(params + network_params(cluster, search_network))


def serving_arrays(designs: Sequence[Mapping[str, Any]], cluster: Cluster) -> dict[str, np.ndarray]:
    """Designs -> the per-design arrays :func:`~.serving.evaluate_serving` reads."""
    out = {
        k: np.array([x[k] for x in designs], dtype=np.float64)
        for k in ("tp", "pp", "batch", "weight_bits", "kv_bits")
    }
    out.update(network_arrays(designs, cluster))
    return out
