"""The training-step model: one iteration of a transformer on a cluster, for a batch of designs.

Every quantity is an array over the designs (numpy, no Python loop over designs). The
workload (:class:`~.transformers.Transformer`) and the cluster are fixed per call; the
parallelism, schedule and network knobs vary per design. Ranks are laid out as Megatron-LM
does (tensor-parallel innermost, then context-, data- and pipeline-parallel), so a group of
degree ``g`` at stride ``st`` spans the network dimensions its ranks cross (:func:`group_span`).

Per layer and micro-batch, on one GPU (``T = micro_batch x seq / cp`` tokens):

* **GEMMs**: QKV ``T x (h + 2 kv)/tp x h``, output projection ``T x h x h/tp``, MLP
  ``T x f/tp x h`` (two of them for a gated MLP) and ``T x h x f/tp``; backward = twice the
  forward (data and weight gradients). Timed by :func:`~.roofline.gemm_time`.
* **attention**: unfused (Megatron 2021-22, the validation's setting): two batched GEMMs over
  ``micro_batch x heads/tp`` score matrices of ``(seq/cp) x seq`` plus softmax and dropout
  reading and writing them (9 bytes per score: softmax in/out, dropout in, mask, out); with
  ``flash_attention`` one fused kernel (Dao 2023) whose FLOPs skip the masked half of a causal
  mask, backward 2.5x forward (it recomputes the scores), and no score traffic.
* **elementwise**: layer norms, dropouts, residual adds and the activation function read and
  write ``26 h`` bytes per token (2 layer norms x 4, 2 dropout+residual x 9) plus ``4 f`` (GeLU;
  ``6 f`` for SwiGLU); sequence parallelism divides the ``h`` part by ``tp`` (Korthikanti et
  al. 2022, Sec. 4.2.2); backward moves twice the forward bytes.
* **recomputation** (Korthikanti et al.): ``full`` reruns the layer's forward (and its
  tensor-parallel communication) before its backward; ``selective`` reruns only the attention
  core (nothing with flash attention, which recomputes inside its kernel anyway).
* **tensor parallel communication** on the TP group (Megatron, Shoeybi et al. 2019):
  without sequence parallelism two all-reduces forward and two backward of ``T h`` BF16
  values; with it an all-gather plus a reduce-scatter in place of each (same bytes).
  The backward pass of sequence parallelism gathers the layer-norm outputs again (two more
  all-gathers: Korthikanti et al. keep only their shards). ``overlap_tp`` hides it behind the
  layer's GEMMs (Megatron's ``--tp-comm-overlap``).
* **context parallel** (ring attention): ``cp - 1`` steps each way exchanging the local keys
  and values (backward: their gradients too), hidden behind the attention compute.

Per micro-batch a stage runs its ``layers / pp`` layers, plus two point-to-point messages per
virtual stage boundary (``T h / tp`` BF16 each, Narayanan et al.'s scatter/gather
optimisation); the last stage also runs the logits GEMM and the cross-entropy. One iteration of
``m = global_batch / (dp x micro_batch)`` micro-batches with 1F1B (``interleave`` v virtual
stages per GPU) takes ``(m + (pp - 1) / v) x t_stage + m x t_head`` (Narayanan et al. SC'21,
Sec. 2.2), plus the data-parallel gradient reduction (all-reduce of FP32 gradients; with the
distributed optimizer / ZeRO-1/2 a reduce-scatter and a BF16 all-gather of the parameters;
ZeRO-3 gathers parameters for every micro-batch's forward and backward) where it is not
hidden behind the backward pass (``overlap_dp``), plus the Adam step (30 bytes per parameter
of its shard: FP32 master weights, moments and gradient in, BF16 weights out).

Memory per GPU: 18 bytes per parameter (BF16 weights, FP32 gradients, FP32 master weights and
Adam moments), the 16 optimizer/gradient bytes sharded by ZeRO stage; activations per layer per
token after Korthikanti et al. Sec. 4 (``34 h + 5 a s`` with their notation, generalised to
grouped-query attention and gated MLPs), times the micro-batches in flight on the first stage
(``pp``, times ``1 + (pp - 1) / (pp v)`` when interleaved), plus the logits of one micro-batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .collectives import collective_time, p2p_time
from .hardware import Cluster
from .roofline import BF16_BYTES, gemm_time, memory_time
from .transformers import Transformer

RECOMPUTE = ("none", "selective", "full")
NONE, SELECTIVE, FULL = range(3)
GIB = float(2**30)
ADAM_BYTES_PER_PARAM = 30.0
FP32_GRAD_BYTES = 4.0
#: bytes per parameter by ZeRO stage: (unsharded, sharded over data-parallel ranks)
ZERO_STATE_BYTES = {0: (18.0, 0.0), 1: (6.0, 12.0), 2: (2.0, 16.0), 3: (0.0, 18.0)}
#: infeasibility codes -> reason templates (filled per design by :func:`reason`)
REASONS = {
    1: "tp x pp x dp x cp = {product} but the cluster has {gpus} GPUs",
    2: "tp = {tp} does not divide the {heads} attention heads (or the {kv} KV heads, or the FFN size {ffn})",
    3: "pp = {pp} does not divide the {layers} layers",
    4: "interleave = {v} does not divide the {per_stage} layers per stage, or needs pp > 1",
    5: "global batch {batch} is not a multiple of dp x micro_batch = {dp_mb}",
    6: "the interleaved schedule needs micro-batches ({m}) to be a multiple of pp = {pp}",
    7: "cp = {cp} does not split the sequence ({seq}) into 2 x cp equal chunks",
    8: "needs {memory:.1f} GiB per GPU, more than the {hbm:.0f} GiB of a {gpu}",
}


@dataclass(frozen=True)
class TrainingSetup:
    """What one call evaluates designs on: model, cluster, batch, and the network it may vary."""

    model: Transformer
    cluster: Cluster
    global_batch: int


def group_span(stride: np.ndarray, degree: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """(B, D) ranks of a group of ``degree`` ranks ``stride`` apart along each network dimension
    (1 where it does not cross a dimension)."""
    prefix = np.concatenate([[1.0], np.cumprod(sizes.astype(np.float64))])
    lo = np.maximum(prefix[None, :-1], stride[:, None])
    hi = np.minimum(prefix[None, 1:], (stride * degree)[:, None])
    return np.maximum(hi / lo, 1.0)


def dim_of_stride(stride: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The network dimension a message between ranks ``stride`` apart crosses."""
    prefix = np.cumprod(sizes.astype(np.float64))
    return np.minimum(np.searchsorted(prefix, stride, side="right"), len(sizes) - 1)


def take(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return np.take_along_axis(a, idx[:, None], axis=1)[:, 0]


@dataclass(frozen=True)
class _Net:
    """Per-design network arrays (B, D): effective bandwidth (bytes/s), latency, codes."""

    sizes: np.ndarray
    bw: np.ndarray
    lat: np.ndarray
    topo: np.ndarray
    algo: np.ndarray
    chunks: np.ndarray

    def collective(self, kind: str, size: np.ndarray, group: np.ndarray) -> np.ndarray:
        return collective_time(kind, size, group, self.bw, self.lat, self.topo, self.algo, self.chunks)


def _net(d: Mapping[str, np.ndarray], cluster: Cluster) -> _Net:
    return _Net(
        sizes=np.array([x.size for x in cluster.dims], dtype=np.float64),
        bw=d["net_bandwidth_gbps"] * d["net_efficiency"] * 1e9,
        lat=d["net_latency_s"],
        topo=d["net_topology"],
        algo=d["collective"],
        chunks=d["chunks"],
    )


def _layer_times(m: Transformer, setup: TrainingSetup, d: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-layer, per-micro-batch seconds on one GPU: forward/backward compute by kind."""
    gpu = setup.cluster.gpu
    peak, hbm = gpu.peak_tflops * 1e12, gpu.hbm_gbps * 1e9
    tp, cp, mb, sp, flash = d["tp"], d["cp"], d["micro_batch"], d["sequence_parallel"], d["flash_attention"]
    h, kv, f, s, a = float(m.hidden), float(m.kv_dim), float(m.ffn), float(m.seq_len), float(m.heads)
    tok = mb * s / cp
    mlp_in = f * (2.0 if m.gated else 1.0)
    gemm_f = (
        gemm_time(tok, (h + 2.0 * kv) / tp, h, peak, hbm)
        + gemm_time(tok, h, h / tp, peak, hbm)
        + gemm_time(tok, mlp_in / tp, h, peak, hbm)
        + gemm_time(tok, h, f / tp, peak, hbm)
    )
    heads = mb * a / tp
    sq, dh = s / cp, float(m.head_dim)
    causal = 0.5 if m.causal else 1.0
    flash_f = gemm_time(sq, s * causal, dh, peak, hbm, batch=2.0 * heads)
    scores = heads * sq * s
    unfused_f = (
        gemm_time(sq, s, dh, peak, hbm, batch=heads)
        + gemm_time(sq, dh, s, peak, hbm, batch=heads)
        + memory_time(9.0 * scores, hbm, kernels=2.0)
    )
    attn_f = np.where(flash, flash_f, unfused_f)
    attn_b = np.where(flash, 2.5 * flash_f, 2.0 * unfused_f)
    sp_div = np.where(sp, tp, 1.0)
    elem_bytes = tok * (26.0 * h / sp_div + (6.0 if m.gated else 4.0) * f / tp)
    elem_f = memory_time(elem_bytes, hbm, kernels=6.0)
    fwd = gemm_f + attn_f + elem_f
    bwd = 2.0 * gemm_f + attn_b + 2.0 * elem_f
    rc = d["recompute"]
    recompute = np.where(rc == FULL, fwd, np.where((rc == SELECTIVE) & ~flash, attn_f, 0.0))
    return {
        "fwd": fwd,
        "bwd": bwd,
        "recompute": recompute,
        "gemm": 3.0 * gemm_f,
        "attn_f": attn_f,
        "attn": attn_f + attn_b,
        "tokens": tok,
    }


def _comm_per_layer(
    m: Transformer,
    d: Mapping[str, np.ndarray],
    net: _Net,
    lt: Mapping[str, np.ndarray],
    groups: dict[str, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Exposed tensor- and context-parallel seconds per layer and micro-batch."""
    tok, tp, cp = lt["tokens"], d["tp"], d["cp"]
    act = tok * m.hidden * BF16_BYTES
    ar = net.collective("all_reduce", act, groups["tp"])
    rs_ag = net.collective("reduce_scatter", act, groups["tp"]) + net.collective(
        "all_gather", act, groups["tp"]
    )
    per_pair = np.where(d["sequence_parallel"], rs_ag, ar)
    passes = np.where(d["recompute"] == FULL, 6.0, 4.0)  # 2 forward, 2 backward (2 in the rerun forward)
    # sequence parallelism does not keep the all-gathered layer-norm outputs: the backward pass
    # gathers them again for the weight gradients (Korthikanti et al. Sec. 4.2.2)
    regather = np.where(d["sequence_parallel"], 2.0 * net.collective("all_gather", act, groups["tp"]), 0.0)
    tp_comm = np.where(tp > 1, passes * per_pair + regather, 0.0)
    tp_exposed = np.where(d["overlap_tp"], np.maximum(tp_comm - lt["gemm"], 0.0), tp_comm)
    kv_bytes = 2.0 * tok * m.kv_dim / tp * BF16_BYTES
    ring_dim = dim_of_stride(tp, net.sizes)
    step = p2p_time(kv_bytes, take(net.bw, ring_dim), take(net.lat, ring_dim), take(net.topo, ring_dim))
    cp_comm = np.where(cp > 1, 3.0 * (cp - 1.0) * step, 0.0)  # forward K/V, backward K/V and their grads
    cp_exposed = np.maximum(cp_comm - lt["attn"], 0.0)
    return tp_exposed, cp_exposed


def _stage_params(m: Transformer, d: Mapping[str, np.ndarray]) -> np.ndarray:
    """Parameters on one GPU of the largest stage (its layers plus an embedding copy)."""
    return (m.layers / d["pp"] * m.layer_params + m.vocab * m.hidden) / d["tp"]


def _head_time(
    m: Transformer, setup: TrainingSetup, d: Mapping[str, np.ndarray], tok: np.ndarray
) -> np.ndarray:
    """Logits GEMM forward and backward plus the FP32 cross-entropy, per micro-batch (last stage)."""
    gpu = setup.cluster.gpu
    peak, hbm = gpu.peak_tflops * 1e12, gpu.hbm_gbps * 1e9
    logits = gemm_time(tok, m.vocab / d["tp"], float(m.hidden), peak, hbm)
    return 3.0 * logits + memory_time(3.0 * 4.0 * tok * m.vocab / d["tp"], hbm, kernels=3.0)


def _dp_time(
    d: Mapping[str, np.ndarray], net: _Net, params: np.ndarray, group: np.ndarray, m_count: np.ndarray
) -> np.ndarray:
    """Data-parallel communication per iteration (before overlap)."""
    grads = params * FP32_GRAD_BYTES
    weights = params * BF16_BYTES
    zero = d["zero"]
    all_reduce = net.collective("all_reduce", grads, group)
    scatter_gather = net.collective("reduce_scatter", grads, group) + net.collective(
        "all_gather", weights, group
    )
    zero3 = m_count * (
        2.0 * net.collective("all_gather", weights, group) + net.collective("reduce_scatter", grads, group)
    )
    t = np.where(zero == 0, all_reduce, np.where(zero == 3, zero3, scatter_gather))
    return np.where(d["dp"] > 1, t, 0.0)


def activation_bytes_per_token(m: Transformer, d: Mapping[str, np.ndarray]) -> np.ndarray:
    """Stored activation bytes per token and layer on one GPU (Korthikanti et al. Sec. 4)."""
    h, kv, f = float(m.hidden), float(m.kv_dim), float(m.ffn)
    tp = d["tp"]
    sp_div = np.where(d["sequence_parallel"], tp, 1.0)
    replicated = 10.0 * h  # layer-norm inputs, QKV and MLP inputs, two dropout masks
    sharded = (2.0 * h + 4.0 * kv) + 2.0 * h + (6.0 if m.gated else 4.0) * f  # Q, K, V, proj input, MLP
    scores = 5.0 * m.heads * m.seq_len / tp  # softmax output, dropout mask and output
    keep_scores = (d["recompute"] == NONE) & ~d["flash_attention"]
    stored = replicated / sp_div + sharded / tp + np.where(keep_scores, scores, 0.0)
    return np.where(d["recompute"] == FULL, 2.0 * h / sp_div, stored)


def _memory(
    m: Transformer, d: Mapping[str, np.ndarray], params: np.ndarray, tok: np.ndarray, n_mb: np.ndarray
) -> np.ndarray:
    """Peak bytes per GPU: weights and optimizer state, activations in flight, one micro-batch's logits."""
    zero = d["zero"].astype(np.int64)
    fixed = np.choose(zero, [ZERO_STATE_BYTES[z][0] for z in range(4)])
    sharded = np.choose(zero, [ZERO_STATE_BYTES[z][1] for z in range(4)])
    states = params * (fixed + sharded / d["dp"])
    pp, v = d["pp"], d["interleave"]
    in_flight = np.minimum(pp, n_mb) * np.where(v > 1, 1.0 + (pp - 1.0) / (pp * v), 1.0)
    per_layer = activation_bytes_per_token(m, d) * tok
    acts = m.layers / pp * in_flight * per_layer
    rerun = np.where(
        d["recompute"] == FULL,
        activation_bytes_per_token(m, {**d, "recompute": np.zeros_like(pp)}) * tok,
        0.0,
    )
    logits = tok * m.vocab / d["tp"] * (BF16_BYTES + 4.0)
    return states + acts + rerun + logits


def model_flops_per_token(m: Transformer) -> tuple[float, float]:
    """(forward FLOPs of the transformer layers, of the logits) per token: Narayanan et al.'s
    count, ``24 h^2 + 4 s h`` per layer for GPT (full, unmasked attention) and ``2 h V``."""
    matmul = (
        m.hidden * (m.hidden + 2 * m.kv_dim) + m.hidden * m.hidden + (3 if m.gated else 2) * m.hidden * m.ffn
    )
    return float(m.layers * (2 * matmul + 4 * m.seq_len * m.hidden)), float(2 * m.hidden * m.vocab)


def _infeasibility(m: Transformer, setup: TrainingSetup, d: Mapping[str, np.ndarray]) -> np.ndarray:
    """Code of the first broken constraint per design (0: none; memory is checked later)."""
    tp, pp, dp, cp, mb, v = d["tp"], d["pp"], d["dp"], d["cp"], d["micro_batch"], d["interleave"]
    n_mb = setup.global_batch / (dp * mb)
    per_stage = m.layers / pp
    tp_bad = (m.heads % tp != 0) | ((m.kv_heads % tp != 0) & (tp % m.kv_heads != 0)) | (m.ffn % tp != 0)
    checks = [
        (1, tp * pp * dp * cp != setup.cluster.n_gpus),
        (2, tp_bad),
        (3, m.layers % pp != 0),
        (4, ((per_stage % v) != 0) | ((v > 1) & (pp == 1))),
        (5, setup.global_batch % (dp * mb) != 0),
        (6, (v > 1) & (np.mod(n_mb, pp) != 0)),
        (7, (cp > 1) & (m.seq_len % (2 * cp) != 0)),
    ]
    code = np.zeros(len(tp), dtype=np.int64)
    for c, bad in reversed(checks):
        code = np.where(bad, c, code)
    return code


def evaluate_training(setup: TrainingSetup, d: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Metrics and breakdown of one iteration for every design (arrays over designs).

    ``d`` holds per-design arrays: ``tp pp dp cp micro_batch interleave recompute zero`` (ints),
    ``sequence_parallel overlap_dp overlap_tp flash_attention`` (bools), ``chunks``, and (B, D)
    network arrays ``net_topology net_bandwidth_gbps net_latency_s net_efficiency collective``.
    The result's ``infeasible`` holds a :data:`REASONS` code (0: feasible).
    """
    m, gpu = setup.model, setup.cluster.gpu
    net = _net(d, setup.cluster)
    tp, pp, dp, cp, v = d["tp"], d["pp"], d["dp"], d["cp"], d["interleave"]
    groups = {
        "tp": group_span(np.ones_like(tp), tp, net.sizes),
        "dp": group_span(tp * cp, dp, net.sizes),
    }
    lt = _layer_times(m, setup, d)
    tp_exp, cp_exp = _comm_per_layer(m, d, net, lt, groups)
    n_mb = setup.global_batch / (dp * d["micro_batch"])
    per_stage = m.layers / pp
    layer = lt["fwd"] + lt["bwd"] + lt["recompute"]
    pp_dim = dim_of_stride(tp * cp * dp, net.sizes)
    msg = lt["tokens"] * m.hidden * BF16_BYTES / tp
    p2p = p2p_time(msg, take(net.bw, pp_dim), take(net.lat, pp_dim), take(net.topo, pp_dim))
    pp_comm = np.where(pp > 1, 2.0 * v * p2p, 0.0)  # a send forward and one backward per virtual stage
    stage = per_stage * (layer + tp_exp + cp_exp) + pp_comm
    head = _head_time(m, setup, d, lt["tokens"])
    bubble = (pp - 1.0) / v * stage
    params = _stage_params(m, d)
    dp_raw = _dp_time(d, net, params, groups["dp"], n_mb)
    window = per_stage * np.where(d["zero"] >= 1, lt["bwd"] + lt["fwd"], lt["bwd"])
    window = np.where(d["zero"] == 3, n_mb * per_stage * (lt["fwd"] + lt["bwd"]), window)
    dp_exposed = np.where(d["overlap_dp"], np.maximum(dp_raw - window, 0.0), dp_raw)
    opt_params = params / np.where(d["zero"] >= 1, dp, 1.0)
    optimizer = memory_time(ADAM_BYTES_PER_PARAM * opt_params, gpu.hbm_gbps * 1e9)
    step = n_mb * (stage + head) + bubble + dp_exposed + optimizer

    layer_f, head_f = model_flops_per_token(m)
    tokens = float(setup.global_batch * m.seq_len)
    rc = d["recompute"]
    attn_f = 4.0 * m.seq_len * m.hidden * m.layers
    hw = tokens * (
        3.0 * (layer_f + head_f) + np.where(rc == FULL, layer_f, np.where(rc == SELECTIVE, attn_f, 0.0))
    )
    n_gpus = float(setup.cluster.n_gpus)
    memory = _memory(m, d, params, lt["tokens"], n_mb) / GIB
    code = _infeasibility(m, setup, d)
    code = np.where((code == 0) & (memory > gpu.hbm_gb), 8, code)
    return {
        "step_time_s": step,
        "tflops_per_gpu": hw / (step * n_gpus) / 1e12,
        "mfu": tokens * 3.0 * (layer_f + head_f) / (step * n_gpus * gpu.peak_tflops * 1e12),
        "memory_gb": memory,
        "compute_s": n_mb * (per_stage * layer + head),
        "bubble_s": bubble,
        "tp_comm_s": n_mb * per_stage * tp_exp,
        "cp_comm_s": n_mb * per_stage * cp_exp,
        "pp_comm_s": n_mb * pp_comm,
        "dp_comm_s": dp_exposed,
        "optimizer_s": optimizer,
        "infeasible": code,
    }


def reason(
    code: int, m: Transformer, setup: TrainingSetup, design: Mapping[str, object], memory_gb: float
) -> str:
    """The message of an infeasibility code for one design."""
    get = design.get
    tp, pp, dp, cp = (int(get(k, 1)) for k in ("tp", "pp", "dp", "cp"))  # type: ignore[call-overload]
    mb, v = int(get("micro_batch", 1)), int(get("interleave", 1))  # type: ignore[call-overload]
    return REASONS[code].format(
        product=tp * pp * dp * cp,
        gpus=setup.cluster.n_gpus,
        tp=tp,
        heads=m.heads,
        kv=m.kv_heads,
        ffn=m.ffn,
        pp=pp,
        layers=m.layers,
        v=v,
        per_stage=m.layers / pp,
        batch=setup.global_batch,
        dp_mb=dp * mb,
        m=setup.global_batch / (dp * mb),
        cp=cp,
        seq=m.seq_len,
        memory=memory_gb,
        hbm=setup.cluster.gpu.hbm_gb,
        gpu=setup.cluster.gpu.name,
    )
