"""Collective communication costs on multi-dimensional networks, as ASTRA-sim's analytical
backend computes them: every phase costs ``steps x hops x latency + bytes / bandwidth``.

A collective over a group that spans several network dimensions runs hierarchically (ASTRA-sim's
"baseline" multi-dimensional algorithm; Rashidi et al., "ASTRA-SIM", ISPASS 2020, and Won et
al., "ASTRA-sim 2.0", ISPASS 2023): an all-reduce is a reduce-scatter along dimension 0, then
along dimension 1 on the already-reduced 1/n0 of the data, ..., then all-gathers in reverse
order; a reduce-scatter or all-gather alone runs its half. Split into ``chunks``, the phases of
successive chunks overlap: the collective takes the sum of one chunk's phases plus
``chunks - 1`` times the slowest phase (a pipeline), so chunking hides the faster dimensions at
the price of more latency terms.

Algorithms per dimension (n NPUs, S bytes per NPU, per-NPU bandwidth B, hop latency a, ``h``
hops per message: 1 on ``Ring`` neighbours and ``FullyConnected``, 2 through a ``Switch``):

==================  ==================================================  ======================
algorithm           reduce-scatter (all-gather is the same)            all-reduce
==================  ==================================================  ======================
ring                (n-1) (h a + S/(n B))                               2 x reduce-scatter
direct              h a + (n-1)/n S/B (on a Ring topology the messages  2 x reduce-scatter
                    travel n/4 hops on average and share links: x n/4)
halving_doubling    log2(n) h a + (n-1)/n S/B (Ring topology: step i    2 x reduce-scatter
                    goes 2^i hops: log2(n) S/(2B), latency (n-1) a)
double_binary_tree  as ring (NCCL's trees only all-reduce)             2 log2(n) h a + 2 S/B
==================  ==================================================  ======================

The double binary tree (Sanders et al. 2009; NCCL 2.4) moves each byte up and down once per
tree with two trees sharing the data: ``2 S / B`` of bandwidth, but only ``log2 n`` latency
steps each way, which is why NCCL picks it at scale for small messages. Every collective also
pays one kernel launch (:data:`~.roofline.KERNEL_OVERHEAD_S`).
"""

from __future__ import annotations

import numpy as np

from .roofline import KERNEL_OVERHEAD_S

ALGORITHMS = ("ring", "direct", "halving_doubling", "double_binary_tree")
RING, DIRECT, HALVING_DOUBLING, DOUBLE_BINARY_TREE = range(4)
#: topology codes, in :data:`~.hardware.TOPOLOGIES` order
TOPO_RING, TOPO_SWITCH, TOPO_FULLY_CONNECTED = range(3)


def hops_per_message(topology: np.ndarray) -> np.ndarray:
    """Hops of one message between NPUs adjacent in the algorithm (2 through a switch)."""
    return np.where(topology == TOPO_SWITCH, 2.0, 1.0)


def reduce_scatter_phase(
    n: np.ndarray, size: np.ndarray, bw: np.ndarray, lat: np.ndarray, topo: np.ndarray, algo: np.ndarray
) -> np.ndarray:
    """Seconds of a reduce-scatter (or all-gather) of ``size`` bytes per NPU over ``n`` NPUs of
    one dimension (bandwidth ``bw`` in bytes/s); zero where ``n <= 1``."""
    n = np.maximum(n, 1.0)
    h = hops_per_message(topo)
    frac = (n - 1.0) / n
    on_ring = topo == TOPO_RING
    log_n = np.log2(n)
    ring = (n - 1.0) * h * lat + frac * size / bw
    direct_congestion = np.where(on_ring, np.maximum(1.0, n / 4.0), 1.0)
    direct = np.where(on_ring, np.floor(n / 2.0), h) * lat + frac * size / bw * direct_congestion
    hd = np.where(on_ring, (n - 1.0) * lat + log_n * size / (2.0 * bw), log_n * h * lat + frac * size / bw)
    t = np.where(algo == DIRECT, direct, np.where(algo == HALVING_DOUBLING, hd, ring))
    return np.where(n > 1.0, t, 0.0)


def all_reduce_phase(
    n: np.ndarray, size: np.ndarray, bw: np.ndarray, lat: np.ndarray, topo: np.ndarray, algo: np.ndarray
) -> np.ndarray:
    """Seconds of an all-reduce of ``size`` bytes over ``n`` NPUs of one dimension."""
    n = np.maximum(n, 1.0)
    tree = 2.0 * np.log2(n) * hops_per_message(topo) * lat + 2.0 * size / bw
    two_halves = 2.0 * reduce_scatter_phase(n, size, bw, lat, topo, algo)
    return np.where(n > 1.0, np.where(algo == DOUBLE_BINARY_TREE, tree, two_halves), 0.0)


def _pipelined(phases: list[np.ndarray], chunks: np.ndarray) -> np.ndarray:
    """One chunk's phases in sequence, then ``chunks - 1`` more behind the slowest phase, plus
    the collective kernel's launch."""
    stacked = np.stack(phases)
    t = stacked.sum(0) + (chunks - 1.0) * stacked.max(0)
    return np.where(t > 0.0, t + KERNEL_OVERHEAD_S, 0.0)


def collective_time(
    kind: str,
    size: np.ndarray,
    group: np.ndarray,
    bw: np.ndarray,
    lat: np.ndarray,
    topo: np.ndarray,
    algo: np.ndarray,
    chunks: np.ndarray,
) -> np.ndarray:
    """Seconds of a collective over a group spanning several dimensions.

    Args:
        kind: ``"all_reduce"``, ``"reduce_scatter"`` or ``"all_gather"``.
        size: (B,) bytes per NPU (all-reduce: the buffer; reduce-scatter: its input; all-gather:
            its output).
        group: (B, D) NPUs of the group along each dimension (1: the dimension is not used).
        bw, lat, topo, algo: (B, D) per-dimension effective bandwidth (bytes/s), hop latency
            (s), topology code and algorithm code.
        chunks: (B,) chunks the collective is split into.
    """
    n_dims = group.shape[1]
    chunk = size / chunks
    rs: list[np.ndarray] = []
    remaining = chunk
    for d in range(n_dims):  # reduce-scatter outward: the data shrinks by each dimension's size
        g = group[:, d]
        if kind == "all_reduce":  # a tree dimension all-reduces its share in one go: half each way
            half_tree = 0.5 * all_reduce_phase(g, remaining, bw[:, d], lat[:, d], topo[:, d], algo[:, d])
            ring_like = reduce_scatter_phase(g, remaining, bw[:, d], lat[:, d], topo[:, d], algo[:, d])
            rs.append(np.where(algo[:, d] == DOUBLE_BINARY_TREE, half_tree, ring_like))
        else:
            rs.append(reduce_scatter_phase(g, remaining, bw[:, d], lat[:, d], topo[:, d], algo[:, d]))
        scatters = (algo[:, d] != DOUBLE_BINARY_TREE) | (kind != "all_reduce")  # a tree keeps it whole
        remaining = np.where(scatters, remaining / np.maximum(g, 1.0), remaining)
    if kind == "all_reduce":  # then all-gather inward, mirroring the reduce-scatter
        return _pipelined(rs + rs[::-1], chunks)
    return _pipelined(rs, chunks)


def p2p_time(size: np.ndarray, bw: np.ndarray, lat: np.ndarray, topo: np.ndarray) -> np.ndarray:
    """Seconds of one point-to-point message between neighbours of one dimension."""
    return hops_per_message(topo) * lat + size / bw
