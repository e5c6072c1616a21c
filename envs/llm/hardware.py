"""GPUs and clusters: every figure from a datasheet or a published measurement.

A :class:`Gpu` holds the dense BF16/FP16 tensor-core peak, the HBM capacity and bandwidth and
the FP8/INT8 peak (used by the serving model for 8-bit activations). A :class:`Cluster` is a
GPU type on an ASTRA-sim-style multi-dimensional network: dimension 0 is innermost (the
NVLink/NVSwitch domain of a node), the last dimension outermost (the scale-out fabric). Each
:class:`NetworkDim` has a topology (``Ring`` / ``Switch`` / ``FullyConnected``, ASTRA-sim's
analytical backend's three), a size (NPUs along it), the bandwidth each NPU injects into it
(GB/s, one direction), a per-hop latency and the fraction of that bandwidth collectives
achieve (NCCL's measured bus bandwidth over the link rate).

Sources
-------
* A100: NVIDIA A100 Tensor Core GPU datasheet (2021): SXM4 BF16 dense 312 TFLOP/s; 40 GB HBM2
  at 1,555 GB/s, 80 GB HBM2e at 2,039 GB/s; NVLink 3 600 GB/s per GPU (300 GB/s each way).
* H100: NVIDIA H100 Tensor Core GPU datasheet (2023): SXM5 BF16 dense 989 TFLOP/s (1,979 with
  sparsity), FP8 dense 1,979 TFLOP/s; 80 GB HBM3 at 3.35 TB/s; NVLink 4 900 GB/s (450 each way).
* H200: NVIDIA H200 datasheet (2024): same compute as H100 SXM; 141 GB HBM3e at 4.8 TB/s.
* V100: NVIDIA V100 datasheet (2020): SXM2 FP16 tensor 125 TFLOP/s; 32 GB HBM2 at 900 GB/s;
  NVLink 2 300 GB/s per GPU (150 each way).
* DGX A100 (Selene, the machine of Narayanan et al. 2021 and Korthikanti et al. 2022): 8 GPUs
  on NVSwitch, eight 200 Gb/s HDR InfiniBand adapters per node (25 GB/s per GPU).
* DGX H100: eight 400 Gb/s NDR adapters per node (50 GB/s per GPU).
* Collective efficiency: nccl-tests ``all_reduce_perf`` bus bandwidth on DGX A100 reaches about
  230 GB/s of NVLink's 300 (0.77); across nodes on HDR/NDR InfiniBand about 90 % of the link
  rate (NVIDIA's published nccl-tests results). Latencies: NCCL's tuning model
  (``src/graph/tuning.cc``, ``hwLat``) charges a ring step about 0.4-0.5 us over NVLink (LL
  protocol, the one small messages use) and about 2.5 us over the network (LL128); a step through
  a switch is two hops, so a hop here costs 0.25 us on NVLink and 1.25 us on InfiniBand. Every
  collective also pays a kernel launch (:data:`~.roofline.KERNEL_OVERHEAD_S`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from archgym.errors import ConfigError, UnknownNameError

TOPOLOGIES = ("Ring", "Switch", "FullyConnected")


@dataclass(frozen=True)
class Gpu:
    """One accelerator's datasheet figures."""

    name: str
    peak_tflops: float  # dense BF16/FP16 tensor-core peak
    peak_tflops_8bit: float  # dense FP8/INT8 tensor-core peak (= BF16 where there is none)
    hbm_gb: float  # capacity, GiB
    hbm_gbps: float  # bandwidth, GB/s
    nvlink_gbps: float  # per GPU, one direction
    source: str


GPUS: dict[str, Gpu] = {
    g.name: g
    for g in (
        Gpu("v100-32gb", 125.0, 125.0, 32.0, 900.0, 150.0, "NVIDIA V100 datasheet (SXM2)"),
        Gpu("a100-40gb", 312.0, 624.0, 40.0, 1555.0, 300.0, "NVIDIA A100 datasheet (SXM4, INT8 624)"),
        Gpu("a100-80gb", 312.0, 624.0, 80.0, 2039.0, 300.0, "NVIDIA A100 datasheet (SXM4 80GB)"),
        Gpu("h100-80gb", 989.0, 1979.0, 80.0, 3350.0, 450.0, "NVIDIA H100 datasheet (SXM5)"),
        Gpu("h200-141gb", 989.0, 1979.0, 141.0, 4800.0, 450.0, "NVIDIA H200 datasheet (SXM)"),
    )
}

#: the scale-out bandwidth per GPU of the DGX generation each GPU ships in (GB/s, one way)
SCALE_OUT_GBPS = {
    "v100-32gb": 12.5,
    "a100-40gb": 25.0,
    "a100-80gb": 25.0,
    "h100-80gb": 50.0,
    "h200-141gb": 50.0,
}
NVLINK_EFFICIENCY = 0.77
IB_EFFICIENCY = 0.90
NVLINK_LATENCY_S = 0.25e-6
IB_LATENCY_S = 1.25e-6


@dataclass(frozen=True)
class NetworkDim:
    """One dimension of the network (ASTRA-sim's per-dimension description)."""

    topology: str
    size: int
    bandwidth_gbps: float  # per NPU, one direction
    latency_s: float  # per hop
    efficiency: float = 1.0  # achieved / link bandwidth

    def __post_init__(self) -> None:
        if self.topology not in TOPOLOGIES:
            raise ConfigError(
                f"network topology must be one of {', '.join(TOPOLOGIES)}, got {self.topology!r}"
            )
        if self.size < 1 or self.bandwidth_gbps <= 0 or self.latency_s < 0 or not 0 < self.efficiency <= 1:
            raise ConfigError(f"invalid network dimension {self}")


@dataclass(frozen=True)
class Cluster:
    """A GPU type on a multi-dimensional network; ``dims[0]`` is innermost."""

    gpu: Gpu
    dims: tuple[NetworkDim, ...]

    @property
    def n_gpus(self) -> int:
        n = 1
        for d in self.dims:
            n *= d.size
        return n

    def with_dim(self, i: int, **changes: object) -> Cluster:
        dims = list(self.dims)
        dims[i] = replace(dims[i], **changes)  # type: ignore[arg-type]
        return Cluster(self.gpu, tuple(dims))


def resolve_gpu(name: str | Gpu) -> Gpu:
    """A GPU preset by name (``a100-80gb``, ``h100-80gb``, ...)."""
    if isinstance(name, Gpu):
        return name
    try:
        return GPUS[str(name).lower()]
    except KeyError:
        raise UnknownNameError(f"unknown gpu {name!r}; presets: {', '.join(GPUS)}") from None


def dgx_cluster(gpu: str | Gpu, n_gpus: int, gpus_per_node: int = 8) -> Cluster:
    """Nodes of ``gpus_per_node`` GPUs on NVSwitch, joined by a switched InfiniBand fabric
    (the DGX SuperPOD layout of Selene and its H100 successors). Fewer GPUs than a node: one
    partial node."""
    g = resolve_gpu(gpu)
    if n_gpus < 1:
        raise ConfigError(f"gpus must be >= 1, got {n_gpus}")
    per_node = min(gpus_per_node, n_gpus)
    if n_gpus % per_node:
        raise ConfigError(f"gpus ({n_gpus}) must be a multiple of the GPUs per node ({per_node})")
    nvl = NetworkDim("Switch", per_node, g.nvlink_gbps, NVLINK_LATENCY_S, NVLINK_EFFICIENCY)
    ib = NetworkDim("Switch", n_gpus // per_node, SCALE_OUT_GBPS[g.name], IB_LATENCY_S, IB_EFFICIENCY)
    return Cluster(g, (nvl, ib))


def custom_cluster(gpu: str | Gpu, dims: Sequence[Mapping[str, Any]]) -> Cluster:
    """A GPU on an ASTRA-sim-style network given per dimension, innermost first: mappings with
    ``topology`` (Ring / Switch / FullyConnected), ``size``, ``bandwidth_gbps`` (per NPU, one
    direction), ``latency_s`` (per hop) and optionally ``efficiency`` (default 1)."""
    g = resolve_gpu(gpu)
    if not dims:
        raise ConfigError("network: give at least one dimension")
    out = []
    for i, spec in enumerate(dims):
        if not isinstance(spec, Mapping):
            raise ConfigError(f"network dimension {i}: expected a mapping, got {type(spec).__name__}")
        unknown = sorted(set(spec) - _DIM_KEYS)
        missing = sorted(_DIM_KEYS - {"efficiency"} - set(spec))
        if unknown or missing:
            raise ConfigError(
                f"network dimension {i}: unknown key(s) {unknown}, missing {missing}; keys: {sorted(_DIM_KEYS)}"
            )
        try:
            out.append(
                NetworkDim(
                    str(spec["topology"]),
                    int(spec["size"]),
                    float(spec["bandwidth_gbps"]),
                    float(spec["latency_s"]),
                    float(spec.get("efficiency", 1.0)),
                )  # fmt: skip
            )
        except ConfigError as exc:
            raise ConfigError(f"network dimension {i}: {exc}") from None
        except (TypeError, ValueError):
            raise ConfigError(f"network dimension {i}: {dict(spec)} has a value of the wrong type") from None
    return Cluster(g, tuple(out))


_DIM_KEYS = {"topology", "size", "bandwidth_gbps", "latency_s", "efficiency"}
