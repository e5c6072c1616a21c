"""The serving model: prefill and decode of a batch of requests, for a batch of designs.

A replica of the model runs on ``tp x pp`` GPUs (the cluster holds ``gpus / (tp pp)`` replicas).
A batch of ``batch`` requests of ``prompt`` tokens each is prefilled together, then decoded one
token per step for ``output`` tokens (static batching, the setting of latency benchmarks).

* **prefill**: per layer the same GEMMs as training's forward pass on ``batch x prompt`` tokens,
  fused causal attention (half the score FLOPs), elementwise traffic, and two tensor-parallel
  all-reduces of the activations; the stages of a pipeline run one after another; then the
  logits of the last token. Time to first token is its time.
* **decode**: per step and layer the GEMMs have ``batch`` rows, so they stream their weights
  (memory-bound: the roofline's bandwidth side); attention reads the whole KV cache
  (``2 x context x kv_heads/tp x head_dim`` values per request, at least one head per GPU);
  two all-reduces of ``batch x hidden`` values, which are latency-bound. Time per output token
  is a step at the average context (``prompt + output / 2``).
* **quantisation**: ``weight_bits`` 16 (BF16), 8 (FP8 weights and activations, W8A8: GEMMs at the
  GPU's 8-bit tensor peak, as TensorRT-LLM's FP8 mode) or 4 (weight-only INT4, W4A16: weights
  stream at half a byte, GEMMs at the BF16 peak); ``kv_bits`` 16 or 8 (FP8 KV cache).

Memory per GPU: the weights of its share, the KV cache of the batch at full length
(``prompt + output``), the prefill's transient activations and one step's logits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .collectives import collective_time, p2p_time
from .hardware import Cluster
from .roofline import BF16_BYTES, gemm_time, kernel_time, memory_time
from .training import GIB, dim_of_stride, group_span, take
from .transformers import Transformer

REASONS = {
    1: "tp x pp = {tpp} does not divide the cluster's {gpus} GPUs",
    2: "tp = {tp} does not divide the {heads} attention heads (or the FFN size {ffn})",
    3: "pp = {pp} does not divide the {layers} layers",
    8: "needs {memory:.1f} GiB per GPU, more than the {hbm:.0f} GiB of a {gpu}",
}


@dataclass(frozen=True)
class ServingSetup:
    """What one call evaluates designs on: model, request shape and cluster."""

    model: Transformer
    cluster: Cluster
    prompt: int
    output: int


def _layer_gemms(
    m: Transformer, rows: np.ndarray, tp: np.ndarray, peak: np.ndarray, hbm: float, wbytes: np.ndarray
) -> np.ndarray:
    h, kv, f = float(m.hidden), float(m.kv_dim), float(m.ffn)
    mlp_in = f * (2.0 if m.gated else 1.0)
    return (
        gemm_time(rows, (h + 2.0 * kv) / tp, h, peak, hbm, weight_bytes=wbytes)
        + gemm_time(rows, h, h / tp, peak, hbm, weight_bytes=wbytes)
        + gemm_time(rows, mlp_in / tp, h, peak, hbm, weight_bytes=wbytes)
        + gemm_time(rows, h, f / tp, peak, hbm, weight_bytes=wbytes)
    )


def _all_reduce(d: Mapping[str, np.ndarray], cluster: Cluster, size: np.ndarray) -> np.ndarray:
    sizes = np.array([x.size for x in cluster.dims], dtype=np.float64)
    group = group_span(np.ones_like(d["tp"]), d["tp"], sizes)
    bw = d["net_bandwidth_gbps"] * d["net_efficiency"] * 1e9
    t = collective_time(
        "all_reduce", size, group, bw, d["net_latency_s"], d["net_topology"], d["collective"], d["chunks"]
    )
    return np.where(d["tp"] > 1, t, 0.0)


def _p2p(d: Mapping[str, np.ndarray], cluster: Cluster, size: np.ndarray) -> np.ndarray:
    sizes = np.array([x.size for x in cluster.dims], dtype=np.float64)
    dim = dim_of_stride(d["tp"], sizes)
    bw = d["net_bandwidth_gbps"] * d["net_efficiency"] * 1e9
    t = p2p_time(size, take(bw, dim), take(d["net_latency_s"], dim), take(d["net_topology"], dim))
    return np.where(d["pp"] > 1, (d["pp"] - 1.0) * t, 0.0)


def evaluate_serving(setup: ServingSetup, d: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Metrics of every design (arrays over designs); ``infeasible`` holds a :data:`REASONS` code.

    ``d`` holds ``tp pp batch weight_bits kv_bits`` and the network arrays of
    :func:`~.space.network_arrays`.
    """
    m, gpu = setup.model, setup.cluster.gpu
    tp, pp, b = d["tp"], d["pp"], d["batch"]
    hbm = gpu.hbm_gbps * 1e9
    peak = np.where(d["weight_bits"] == 8, gpu.peak_tflops_8bit, gpu.peak_tflops) * 1e12
    wbytes = d["weight_bits"] / 8.0
    kv_bytes = d["kv_bits"] / 8.0
    h, f, dh = float(m.hidden), float(m.ffn), float(m.head_dim)
    heads = m.heads / tp
    kv_heads = np.maximum(m.kv_heads / tp, 1.0)
    per_stage = m.layers / pp
    elem = (26.0 * h + (6.0 if m.gated else 4.0) * f / tp) * BF16_BYTES / 2.0  # bytes per token
    causal = 0.5 if m.causal else 1.0

    # prefill: batch x prompt tokens through every stage, then the last tokens' logits
    tok = b * setup.prompt
    attn_flops = 4.0 * b * setup.prompt * setup.prompt * heads * dh * causal
    attn_bytes = BF16_BYTES * tok * (2.0 * heads + 2.0 * kv_heads) * dh
    p_layer = (
        _layer_gemms(m, tok, tp, peak, hbm, wbytes)
        + kernel_time(attn_flops, attn_bytes, gpu.peak_tflops * 1e12, hbm)
        + memory_time(tok * elem, hbm, kernels=6.0)
        + 2.0 * _all_reduce(d, setup.cluster, tok * h * BF16_BYTES)
    )
    logits = gemm_time(b, m.vocab / tp, h, gpu.peak_tflops * 1e12, hbm)
    ttft = m.layers * p_layer + _p2p(d, setup.cluster, tok * h * BF16_BYTES / tp) + logits

    # decode: one token per request per step, at the average context
    ctx = setup.prompt + setup.output / 2.0
    kv_read = b * ctx * 2.0 * kv_heads * dh * kv_bytes
    weights_t = _layer_gemms(m, b, tp, peak, hbm, wbytes)
    kv_t = kernel_time(4.0 * b * ctx * heads * dh, kv_read, gpu.peak_tflops * 1e12, hbm)
    comm_t = 2.0 * _all_reduce(d, setup.cluster, b * h * BF16_BYTES)
    d_layer = weights_t + kv_t + memory_time(b * elem, hbm, kernels=6.0) + comm_t
    tpot = m.layers * d_layer + _p2p(d, setup.cluster, b * h * BF16_BYTES / tp) + logits
    total = ttft + (setup.output - 1.0) * tpot

    weights = (per_stage * m.layer_params + m.vocab * h) / tp * wbytes
    kv_cache = b * (setup.prompt + setup.output) * per_stage * 2.0 * kv_heads * dh * kv_bytes
    transient = tok * (4.0 * h + 4.0 * f / tp) * BF16_BYTES + b * m.vocab / tp * 4.0
    memory = (weights + kv_cache + transient) / GIB

    n = float(setup.cluster.n_gpus)
    checks = [
        (1, np.mod(n, tp * pp) != 0),
        (2, (m.heads % tp != 0) | (m.ffn % tp != 0)),
        (3, m.layers % pp != 0),
        (8, memory > gpu.hbm_gb),
    ]
    code = np.zeros(len(tp), dtype=np.int64)
    for c, bad in reversed(checks):
        code = np.where(bad, c, code)
    return {
        "ttft_s": ttft,
        "tpot_s": tpot,
        "tokens_per_s_per_gpu": b * setup.output / total / (tp * pp),
        "memory_gb": memory,
        "request_latency_s": total,
        "decode_weights_s": m.layers * weights_t,
        "decode_kv_s": m.layers * kv_t,
        "decode_comm_s": m.layers * comm_t,
        "kv_cache_gb": kv_cache / GIB,
        "infeasible": code,
    }
