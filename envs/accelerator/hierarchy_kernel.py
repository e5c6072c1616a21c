"""The hierarchy model's mapper and cost, compiled with numba, for many (architecture, layer) pairs.

:mod:`.hierarchy_model` states the model; this module is its engine. Architectures and
layers are packed into fixed-shape arrays (:func:`pack_architectures`, :func:`pack_layers`)
and :func:`evaluate_pairs` maps and costs every requested pair in one compiled call: the
spatial unrolling, every candidate loop order with its bottom-up allocation, the per-level
accesses, port stalls, on/off-loading and drain, and the choice of the fastest order (ties
within 0.5 % go to the least energy).

Indices used throughout: operands ``W I O`` = 0 1 2; directions ``fh tl fl th`` = 0 1 2 3;
layer dimensions ``B K G OX OY C FX FY`` = 0 ... 7.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from .architecture import DIRECTIONS, LAYER_DIMS, OPERANDS, RELEVANT, Architecture
from .layers import Layer

MAX_ARRAY_DIMS = 6
MAX_MAPPING = 8
MAX_MEMORIES = 10
MAX_PORTS = 4
MAX_LOOPS = 64
#: columns of the scalar output, in order
SCALARS: tuple[str, ...] = (
    "latency_cycles",
    "ideal_cycles",
    "temporal_cycles",
    "stall_cycles",
    "onload_cycles",
    "offload_cycles",
    "drain_cycles",
    "energy_pj",
    "mac_energy_pj",
    "spatial_utilization",
    "utilization",
)
_REL = np.array([[ld in RELEVANT[op] for ld in LAYER_DIMS] for op in OPERANDS], dtype=np.bool_)
_B, _K, _G, _OX, _OY, _C, _FX, _FY = range(8)
#: candidate loop dimensions (in the order permutations are generated) and the outer ones
_PERMUTED = np.array([_K, _OX, _OY, _C, _FX, _FY], dtype=np.int64)


@dataclass(frozen=True)
class PackedArchitectures:
    """Architectures as padded arrays (first axis: architecture)."""

    n_dims: np.ndarray  # (A,)
    arr_size: np.ndarray  # (A, D)
    systolic: np.ndarray  # (A, D) bool
    sm_n: np.ndarray  # (A, D) mapping entries per array dim
    sm_ld: np.ndarray  # (A, D, E) layer dim index, -1: not a layer dim
    sm_f: np.ndarray  # (A, D, E)
    n_mem: np.ndarray  # (A,)
    mem_size: np.ndarray  # (A, M) bits
    mem_rpj: np.ndarray  # (A, M)
    mem_wpj: np.ndarray  # (A, M)
    mem_served: np.ndarray  # (A, M, D) bool
    mem_ops: np.ndarray  # (A, M, 3) bool
    chain: np.ndarray  # (A, 3, M) memory index of each operand's levels, innermost first
    n_chain: np.ndarray  # (A, 3)
    port_of: np.ndarray  # (A, M, 3, 4) port index within the memory, -1: none
    bw_max: np.ndarray  # (A, M, P)
    bw_min: np.ndarray  # (A, M, P)
    prec: np.ndarray  # (A, 4) W, I, O (partial sums), O_final
    units: np.ndarray  # (A,)
    mac_pj: np.ndarray  # (A,)
    cycles_per_iteration: np.ndarray  # (A,) array cycles per temporal iteration (bit-serial IMC > 1)

    def arrays(self) -> tuple[np.ndarray, ...]:
        return tuple(getattr(self, f) for f in self.__dataclass_fields__)


def _check_limits(arch: Architecture) -> None:
    where = f"architecture {arch.name!r}"
    if len(arch.array.dims) > MAX_ARRAY_DIMS:
        raise ValueError(f"{where}: at most {MAX_ARRAY_DIMS} array dimensions are supported")
    if len(arch.memories) > MAX_MEMORIES:
        raise ValueError(f"{where}: at most {MAX_MEMORIES} memory levels are supported")
    for m in arch.memories:
        if len(m.ports) > MAX_PORTS:
            raise ValueError(f"{where}: memory {m.name!r} has more than {MAX_PORTS} ports")
    for d, entries in arch.spatial_mapping.items():
        if len(entries) > MAX_MAPPING:
            raise ValueError(f"{where}: array dim {d!r} unrolls more than {MAX_MAPPING} entries")


def pack_architectures(archs: Sequence[Architecture]) -> PackedArchitectures:
    """Pack ``archs`` for :func:`evaluate_pairs` (raises ``ValueError`` past the size limits)."""
    n = len(archs)
    D, E, M, P = MAX_ARRAY_DIMS, MAX_MAPPING, MAX_MEMORIES, MAX_PORTS
    out = {
        "n_dims": np.zeros(n, np.int64),
        "arr_size": np.ones((n, D), np.int64),
        "systolic": np.zeros((n, D), np.bool_),
        "sm_n": np.zeros((n, D), np.int64),
        "sm_ld": np.full((n, D, E), -1, np.int64),
        "sm_f": np.ones((n, D, E), np.int64),
        "n_mem": np.zeros(n, np.int64),
        "mem_size": np.ones((n, M)),
        "mem_rpj": np.zeros((n, M)),
        "mem_wpj": np.zeros((n, M)),
        "mem_served": np.zeros((n, M, D), np.bool_),
        "mem_ops": np.zeros((n, M, 3), np.bool_),
        "chain": np.full((n, 3, M), -1, np.int64),
        "n_chain": np.zeros((n, 3), np.int64),
        "port_of": np.full((n, M, 3, 4), -1, np.int64),
        "bw_max": np.ones((n, M, P)),
        "bw_min": np.ones((n, M, P)),
        "prec": np.ones((n, 4), np.int64),
        "units": np.ones(n, np.int64),
        "mac_pj": np.zeros(n),
        "cycles_per_iteration": np.ones(n),
    }
    ld_index = {ld: i for i, ld in enumerate(LAYER_DIMS)}
    for a, arch in enumerate(archs):
        _check_limits(arch)
        names = list(arch.array.dims)
        out["n_dims"][a] = len(names)
        for d, name in enumerate(names):
            out["arr_size"][a, d] = int(arch.array.dims[name])
            out["systolic"][a, d] = name in arch.array.systolic_dims
            entries = arch.spatial_mapping.get(name, ())
            out["sm_n"][a, d] = len(entries)
            for e, (ld, f) in enumerate(entries):
                out["sm_ld"][a, d, e] = ld_index.get(ld, -1)
                out["sm_f"][a, d, e] = int(f)
        out["n_mem"][a] = len(arch.memories)
        for m, mem in enumerate(arch.memories):
            out["mem_size"][a, m] = mem.size_bits
            out["mem_rpj"][a, m] = mem.read_pj
            out["mem_wpj"][a, m] = mem.write_pj
            for d, name in enumerate(names):
                out["mem_served"][a, m, d] = name in mem.served_dims
            port_index = {p.name: i for i, p in enumerate(mem.ports)}
            for i, p in enumerate(mem.ports):
                out["bw_max"][a, m, i] = p.bw_max
                out["bw_min"][a, m, i] = p.bw_min
            for o, op in enumerate(OPERANDS):
                out["mem_ops"][a, m, o] = op in mem.operands
                for k, direction in enumerate(DIRECTIONS):
                    port = mem.allocation.get((op, direction))
                    if port is not None:
                        out["port_of"][a, m, o, k] = port_index[port]
        for o, op in enumerate(OPERANDS):
            chain = [i for i, mem in enumerate(arch.memories) if op in mem.operands]
            out["n_chain"][a, o] = len(chain)
            out["chain"][a, o, : len(chain)] = chain
        out["prec"][a] = [int(arch.precision[k]) for k in ("W", "I", "O", "O_final")]
        out["units"][a] = arch.array.units
        out["mac_pj"][a] = arch.array.mac_pj
        out["cycles_per_iteration"][a] = arch.array.cycles_per_iteration
    return PackedArchitectures(**out)


def pack_layers(layers: Sequence[Layer]) -> tuple[np.ndarray, np.ndarray]:
    """``(shape, macs)``: per layer ``B K G OX OY C FX FY stride in_h in_w`` and its MACs."""
    shape = np.array(
        [
            (l.N, l.k_per_group, l.groups, l.Q, l.P, l.c_per_group, l.S, l.R, l.stride, l.H, l.W)
            for l in layers
        ],
        dtype=np.int64,
    ).reshape(len(layers), 11)
    return shape, np.array([float(l.macs) for l in layers])


def evaluate_pairs(
    archs: PackedArchitectures,
    layer_shape: np.ndarray,
    layer_macs: np.ndarray,
    arch_index: np.ndarray,
    layer_index: np.ndarray,
    max_orders: int = 720,
    mac_energy: np.ndarray | None = None,
    split_loops: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Map and cost each pair ``(archs[arch_index[i]], layers[layer_index[i]])``.

    ``mac_energy[i]`` (pJ) is pair ``i``'s MAC energy; by default MACs x the array's ``mac_pj``
    (in-memory-compute arrays give a mapping-dependent one, see :mod:`.imc`). ``split_loops``
    also tries, per loop order, parting one dimension's prime factors between its place and
    the outermost position (as LOMA's orders can; about 10x more candidates).

    Returns ``(scalars, reads, writes, level_energy, order)``: ``scalars[i]`` holds the
    :data:`SCALARS` columns; ``reads/writes/level_energy[i, m]`` are memory ``m``'s
    accesses (words of its ports' width) and energy (pJ); ``order[i]`` lists the layer
    dimension of each temporal loop of the chosen mapping, innermost first (-1 pads).
    """
    n = len(arch_index)
    scalars = np.zeros((n, len(SCALARS)))
    reads = np.zeros((n, MAX_MEMORIES))
    writes = np.zeros((n, MAX_MEMORIES))
    energy = np.zeros((n, MAX_MEMORIES))
    order = np.full((n, MAX_LOOPS), -1, np.int64)
    arch_index = np.ascontiguousarray(arch_index, np.int64)
    layer_index = np.ascontiguousarray(layer_index, np.int64)
    layer_macs = np.ascontiguousarray(layer_macs, np.float64)
    if mac_energy is None:
        mac_energy = layer_macs[layer_index] * archs.mac_pj[arch_index]
    compiled: Any = _evaluate_all  # the packed fields go in positionally
    compiled(
        *archs.arrays(),
        np.ascontiguousarray(layer_shape, np.int64),
        layer_macs,
        np.ascontiguousarray(mac_energy, np.float64),
        arch_index,
        layer_index,
        int(max_orders),
        bool(split_loops),
        _REL,
        scalars,
        reads,
        writes,
        energy,
        order,
    )
    return scalars, reads, writes, energy, order


# --------------------------------------------------------------------------- compiled core
@njit(cache=True, inline="always")
def _window(out: int, k: int, stride: int, real: int) -> int:
    span = out * k if stride >= k else (out - 1) * stride + k
    return max(1, min(real, span))


@njit(cache=True)
def _footprint(op: int, e: np.ndarray, stride: int, in_h: int, in_w: int) -> int:
    if op == 0:
        return e[1] * e[2] * e[5] * e[6] * e[7]
    if op == 2:
        return e[0] * e[1] * e[2] * e[3] * e[4]
    ix = _window(e[3], e[6], stride, in_w)
    iy = _window(e[4], e[7], stride, in_h)
    return e[0] * e[2] * e[5] * ix * iy


@njit(cache=True)
def _words(elements: float, bits: int, transfers: float, bw_max: float, bw_min: float) -> float:
    if elements <= 0 or transfers <= 0:
        return 0.0
    per = math.ceil(elements * bits / bw_min) * bw_min / bw_max
    return per * transfers


@njit(cache=True)
def _cycles(elements: float, bits: int, bw_max: float) -> float:
    if elements <= 0:
        return 0.0
    return float(math.ceil(elements * bits / bw_max))


@njit(cache=True)
def _prime_factors(n: int, out: np.ndarray) -> int:
    """Prime factors of ``n`` into ``out``, largest first; returns how many."""
    k, p = 0, 2
    while n > 1 and p * p <= n:
        while n % p == 0:
            out[k] = p
            k += 1
            n //= p
        p += 1
    if n > 1:
        out[k] = n
        k += 1
    # reverse (they were found smallest first)
    for i in range(k // 2):
        out[i], out[k - 1 - i] = out[k - 1 - i], out[i]
    return k


@njit(cache=True)
def _next_permutation(a: np.ndarray, n: int) -> bool:
    """Advance ``a[:n]`` to the next lexicographic permutation (itertools' order on indices)."""
    i = n - 2
    while i >= 0 and a[i] >= a[i + 1]:
        i -= 1
    if i < 0:
        return False
    j = n - 1
    while a[j] <= a[i]:
        j -= 1
    a[i], a[j] = a[j], a[i]
    lo, hi = i + 1, n - 1
    while lo < hi:
        a[lo], a[hi] = a[hi], a[lo]
        lo += 1
        hi -= 1
    return True


@njit(cache=True)
def _allocate(
    loop_ld: np.ndarray,
    loop_f: np.ndarray,
    n_loops: int,
    chain: np.ndarray,
    n_chain: np.ndarray,
    inside: np.ndarray,
    mem_ops: np.ndarray,
    mem_size: np.ndarray,
    prec: np.ndarray,
    stride: int,
    in_h: int,
    in_w: int,
    bound: np.ndarray,
    ext: np.ndarray,
    fpc: np.ndarray,
    lv: np.ndarray,
    nb: np.ndarray,
) -> None:
    """Greedy bottom-up assignment of the loops to every operand's levels (shared capacity).

    ``bound[op, j]``: number of loops (innermost first) at or below the operand's j-th level.
    """
    for op in range(3):
        lv[op] = 0
        nb[op] = 0
        for d in range(8):
            ext[op, d] = inside[chain[op, 0], d]
        fpc[op] = _footprint(op, ext[op], stride, in_h, in_w)  # current tile of each operand
    for i in range(n_loops):
        if lv[0] == n_chain[0] - 1 and lv[1] == n_chain[1] - 1 and lv[2] == n_chain[2] - 1:
            break  # every operand is at its outermost level: the remaining loops all go there
        ld, f = loop_ld[i], loop_f[i]
        for op in range(3):
            while True:
                m = chain[op, lv[op]]
                if lv[op] == n_chain[op] - 1:
                    ext[op, ld] *= f
                    fpc[op] = _footprint(op, ext[op], stride, in_h, in_w)
                    break
                # the level's tiles if this operand's tile takes the loop too
                old = ext[op, ld]
                ext[op, ld] = old * f
                grown = _footprint(op, ext[op], stride, in_h, in_w)
                ext[op, ld] = old
                tot = 0.0
                for o2 in range(3):
                    if mem_ops[m, o2] and chain[o2, lv[o2]] == m:
                        tot += (grown if o2 == op else fpc[o2]) * prec[o2]
                if tot <= mem_size[m]:
                    ext[op, ld] = old * f
                    fpc[op] = grown
                    break
                bound[op, nb[op]] = i
                nb[op] += 1
                lv[op] += 1
                nxt = chain[op, lv[op]]
                for d in range(8):
                    ext[op, d] = inside[nxt, d]
                for i2 in range(i):
                    ext[op, loop_ld[i2]] *= loop_f[i2]
                fpc[op] = _footprint(op, ext[op], stride, in_h, in_w)
    for op in range(3):
        while nb[op] < n_chain[op]:
            bound[op, nb[op]] = n_loops
            nb[op] += 1


@njit(cache=True)
def _stall(busy: np.ndarray, stall_acc: np.ndarray, n_mem: int, temporal: float) -> float:
    """Stall cycles: the slowest port's (ports work in parallel)."""
    stall = 0.0
    for m in range(n_mem):
        for p in range(busy.shape[1]):
            stall = max(stall, stall_acc[m, p], busy[m, p] - temporal)
    return stall


@njit(cache=True)
def _prefix_suffix(
    loop_ld: np.ndarray,
    loop_f: np.ndarray,
    n_loops: int,
    rel: np.ndarray,
    cum: np.ndarray,
    suf: np.ndarray,
    suf_rel: np.ndarray,
    nxt: np.ndarray,
    top_irr: np.ndarray,
    no_red: np.ndarray,
) -> None:
    """Per boundary ``k`` (a tile holding loops ``[0, k)``): ``cum[k]`` the extent of each
    dimension below it; ``suf[k]`` the product of the loops above; per operand ``suf_rel`` the
    product of the relevant loops above, ``nxt`` the first relevant loop above, ``top_irr`` the
    run of irrelevant loops at the top of the tile; ``no_red[k]``: no reduction loop above."""
    for d in range(8):
        cum[0, d] = 1
    for op in range(3):
        top_irr[op, 0] = 1
    for k in range(n_loops):
        ld, f = loop_ld[k], loop_f[k]
        for d in range(8):
            cum[k + 1, d] = cum[k, d]
        cum[k + 1, ld] *= f
        for op in range(3):
            top_irr[op, k + 1] = 1 if rel[op, ld] else top_irr[op, k] * f
    suf[n_loops] = 1
    no_red[n_loops] = True
    for op in range(3):
        suf_rel[op, n_loops] = 1
        nxt[op, n_loops] = n_loops
    for k in range(n_loops - 1, -1, -1):
        ld, f = loop_ld[k], loop_f[k]
        suf[k] = suf[k + 1] * f
        no_red[k] = no_red[k + 1] and not ((ld == 5 or ld == 6 or ld == 7) and f != 1)
        for op in range(3):
            if rel[op, ld]:
                suf_rel[op, k] = suf_rel[op, k + 1] * f
                nxt[op, k] = k
            else:
                suf_rel[op, k] = suf_rel[op, k + 1]
                nxt[op, k] = nxt[op, k + 1]


@njit(cache=True)
def _cost(
    loop_ld: np.ndarray,
    loop_f: np.ndarray,
    n_loops: int,
    bound: np.ndarray,
    chain: np.ndarray,
    n_chain: np.ndarray,
    inside: np.ndarray,
    act_nb: np.ndarray,
    act_b: np.ndarray,
    n_mem: int,
    mem_size: np.ndarray,
    mem_rpj: np.ndarray,
    mem_wpj: np.ndarray,
    port_of: np.ndarray,
    bw_max: np.ndarray,
    bw_min: np.ndarray,
    prec: np.ndarray,
    rel: np.ndarray,
    stride: int,
    in_h: int,
    in_w: int,
    lv_reads: np.ndarray,
    lv_writes: np.ndarray,
    lv_energy: np.ndarray,
    busy: np.ndarray,
    stall_acc: np.ndarray,
    load: np.ndarray,
    offl: np.ndarray,
    e1: np.ndarray,
    e2: np.ndarray,
    cum: np.ndarray,
    suf: np.ndarray,
    suf_rel: np.ndarray,
    nxt: np.ndarray,
    top_irr: np.ndarray,
    no_red: np.ndarray,
    limit: float,
    cpi: float,
) -> tuple[float, float, float, float]:
    """Cost of one allocated loop order: ``(temporal, stall, onload, offload)`` cycles; the
    per-level accesses and energy are left in ``lv_reads / lv_writes / lv_energy``. One
    temporal iteration takes ``cpi`` array cycles (bit-serial in-memory compute).

    Costing stops early, with an infinite stall, once the cycles so far pass ``limit``.

    Each access (``w = _words(...)``, then the level's count and energy) and each port
    transfer (cycles, busy time, stall) is written out in place rather than through a helper:
    numba helpers taking the ledger arrays made this function 1.5x to 2x slower, inlined or
    not (measured on 768 ResNet-18 template pairs)."""
    for m in range(n_mem):
        lv_reads[m] = 0.0
        lv_writes[m] = 0.0
        lv_energy[m] = 0.0
        for p in range(busy.shape[1]):
            busy[m, p] = 0.0
            stall_acc[m, p] = 0.0
    for op in range(3):
        load[op] = 0.0
        offl[op] = 0.0
    _prefix_suffix(loop_ld, loop_f, n_loops, rel, cum, suf, suf_rel, nxt, top_irr, no_red)
    iterations = suf[0]
    temporal = iterations * cpi  # cycles
    for op in range(3):
        bits_in = prec[op]
        for j in range(n_chain[op]):
            m = chain[op, j]
            k_lo = bound[op, j - 1] if j > 0 else 0
            inst = act_b[m, op] if j > 0 else act_nb[m]
            for d in range(8):
                e1[d] = inside[m, d] * cum[k_lo, d]
            fp_down = _footprint(op, e1, stride, in_h, in_w)
            # refills (loops above the tile, less the stationary run right above), distinct tiles
            refills = suf[nxt[op, k_lo]]
            distinct = suf_rel[op, k_lo]
            child = chain[op, j - 1] if j > 0 else -1
            for d in range(8):
                e2[d] = inside[child, d] * cum[k_lo, d] if j > 0 else cum[k_lo, d]
            child_fp = _footprint(op, e2, stride, in_h, in_w)
            period = temporal / max(1, refills)
            if j > 0:
                dbl = child_fp * bits_in <= 0.5 * mem_size[child]
                if dbl:
                    window = period
                else:
                    window = period / max(1, top_irr[op, k_lo])
            else:
                window = period
            once = j > 0 and refills == 1
            if op < 2:
                # tl of this level, to its children
                p_tl = port_of[m, op, 1]
                if p_tl >= 0:
                    w = _words(fp_down, bits_in, refills * inst, bw_max[m, p_tl], bw_min[m, p_tl])
                    lv_reads[m] += w
                    lv_energy[m] += w * mem_rpj[m]
                if j > 0:
                    copies = act_b[child, op] if j > 1 else act_nb[child]
                    p_fh = port_of[child, op, 0]
                    if p_fh >= 0:
                        w = _words(
                            child_fp, bits_in, refills * copies, bw_max[child, p_fh], bw_min[child, p_fh]
                        )
                        lv_writes[child] += w
                        lv_energy[child] += w * mem_wpj[child]
                    if j == 1:  # the first innermost tile must be in before compute starts
                        c1 = _cycles(fp_down, bits_in, bw_max[m, p_tl]) if p_tl >= 0 else 0.0
                        c2 = _cycles(child_fp, bits_in, bw_max[child, p_fh]) if p_fh >= 0 else 0.0
                        load[op] += max(c1, c2)
                        if once:
                            continue
                    if p_fh >= 0 and refills > 0:
                        cyc = _cycles(child_fp, bits_in, bw_max[child, p_fh])
                        busy[child, p_fh] += cyc * refills
                        stall_acc[child, p_fh] += max(0.0, cyc - window) * refills
                if p_tl >= 0 and refills > 0:
                    cyc = _cycles(fp_down, bits_in, bw_max[m, p_tl])
                    busy[m, p_tl] += cyc * refills
                    stall_acc[m, p_tl] += max(0.0, cyc - window) * refills
            else:
                if j == 0:  # a MAC has no accumulator: every product goes through level 0
                    back = iterations - distinct
                    refills = iterations
                else:
                    back = refills - distinct
                psum, fin = prec[2], prec[3]
                final_bits = fin if no_red[k_lo] else psum
                p_fl = port_of[m, 2, 2]
                p_tl = port_of[m, 2, 1]
                if p_fl >= 0:
                    w = _words(fp_down, psum, back * inst, bw_max[m, p_fl], bw_min[m, p_fl])
                    lv_writes[m] += w
                    lv_energy[m] += w * mem_wpj[m]
                    w = _words(fp_down, final_bits, distinct * inst, bw_max[m, p_fl], bw_min[m, p_fl])
                    lv_writes[m] += w
                    lv_energy[m] += w * mem_wpj[m]
                if p_tl >= 0:
                    w = _words(fp_down, psum, back * inst, bw_max[m, p_tl], bw_min[m, p_tl])
                    lv_reads[m] += w
                    lv_energy[m] += w * mem_rpj[m]
                if j > 0:
                    ci = act_nb[child]
                    p_th = port_of[child, 2, 3]
                    p_fh = port_of[child, 2, 0]
                    if p_th >= 0:
                        w = _words(child_fp, psum, back * ci, bw_max[child, p_th], bw_min[child, p_th])
                        lv_reads[child] += w
                        lv_energy[child] += w * mem_rpj[child]
                        w = _words(
                            child_fp, final_bits, distinct * ci, bw_max[child, p_th], bw_min[child, p_th]
                        )
                        lv_reads[child] += w
                        lv_energy[child] += w * mem_rpj[child]
                    if p_fh >= 0:
                        w = _words(child_fp, psum, back * ci, bw_max[child, p_fh], bw_min[child, p_fh])
                        lv_writes[child] += w
                        lv_energy[child] += w * mem_wpj[child]
                    if once:  # written back once: what does not fit the compute time is off-loading
                        c1 = _cycles(fp_down, final_bits, bw_max[m, p_fl]) if p_fl >= 0 else 0.0
                        c2 = _cycles(child_fp, final_bits, bw_max[child, p_th]) if p_th >= 0 else 0.0
                        offl[op] += max(0.0, max(c1, c2) - temporal)
                        continue
                    if p_th >= 0 and refills > 0:
                        cyc = _cycles(child_fp, psum, bw_max[child, p_th])
                        busy[child, p_th] += cyc * refills
                        stall_acc[child, p_th] += max(0.0, cyc - window) * refills
                    if p_fh >= 0 and back > 0:
                        cyc = _cycles(child_fp, psum, bw_max[child, p_fh])
                        busy[child, p_fh] += cyc * back
                        stall_acc[child, p_fh] += max(0.0, cyc - window) * back
                if p_fl >= 0 and refills > 0:
                    cyc = _cycles(fp_down, psum, bw_max[m, p_fl])
                    busy[m, p_fl] += cyc * refills
                    stall_acc[m, p_fl] += max(0.0, cyc - window) * refills
                if p_tl >= 0 and back > 0:
                    cyc = _cycles(fp_down, psum, bw_max[m, p_tl])
                    busy[m, p_tl] += cyc * back
                    stall_acc[m, p_tl] += max(0.0, cyc - window) * back
        # the rest only adds cycles: an order already past the limit is dropped here
        if op < 2 and temporal + _stall(busy, stall_acc, n_mem, temporal) + max(load[0], load[1]) > limit:
            return temporal, np.inf, 0.0, 0.0
    stall = _stall(busy, stall_acc, n_mem, temporal)
    onload = max(load[0], max(load[1], load[2]))
    offload = max(offl[0], max(offl[1], offl[2]))
    return temporal, stall, onload, offload


@njit(cache=True)
def _build_loops(
    perm: np.ndarray,
    n_perm: int,
    perm_dims: np.ndarray,
    factors: np.ndarray,
    n_factors: np.ndarray,
    temporal_d: np.ndarray,
    split_t: int,
    split_k: int,
    split_dir: int,
    loop_ld: np.ndarray,
    loop_f: np.ndarray,
) -> int:
    """The temporal loops (innermost first) of permutation ``perm``: each dimension's prime
    factors together, then B and G. With ``split_t >= 0`` the dimension at position
    ``split_t`` keeps only part of its factors there (``split_dir`` 0: its ``split_k``
    largest, 1: all but them) and the rest run outermost, above the other permuted dims."""
    n_loops = 0
    for t in range(n_perm + 2):
        if t < n_perm:
            ld = perm_dims[perm[t]]
        elif t == n_perm:
            if split_t >= 0:  # the split-off factors
                ld = perm_dims[perm[split_t]]
                for k in range(n_factors[ld]):
                    if (k < split_k) != (split_dir == 0):
                        loop_ld[n_loops] = ld
                        loop_f[n_loops] = factors[ld, k]
                        n_loops += 1
            ld = 0  # B
        else:
            ld = 2  # G
        if t >= n_perm and temporal_d[ld] <= 1:
            continue
        for k in range(n_factors[ld]):
            if t == split_t and (k < split_k) != (split_dir == 0):
                continue
            loop_ld[n_loops] = ld
            loop_f[n_loops] = factors[ld, k]
            n_loops += 1
    return n_loops


@njit(cache=True)
def _evaluate_all(
    n_dims: np.ndarray,
    arr_size: np.ndarray,
    systolic: np.ndarray,
    sm_n: np.ndarray,
    sm_ld: np.ndarray,
    sm_f: np.ndarray,
    n_mem_a: np.ndarray,
    mem_size_a: np.ndarray,
    mem_rpj_a: np.ndarray,
    mem_wpj_a: np.ndarray,
    mem_served: np.ndarray,
    mem_ops_a: np.ndarray,
    chain_a: np.ndarray,
    n_chain_a: np.ndarray,
    port_of_a: np.ndarray,
    bw_max_a: np.ndarray,
    bw_min_a: np.ndarray,
    prec_a: np.ndarray,
    units_a: np.ndarray,
    mac_pj_a: np.ndarray,
    cpi_a: np.ndarray,
    layer_shape: np.ndarray,
    layer_macs: np.ndarray,
    pair_mac_e: np.ndarray,
    arch_index: np.ndarray,
    layer_index: np.ndarray,
    max_orders: int,
    split: bool,
    rel: np.ndarray,
    out_scalars: np.ndarray,
    out_reads: np.ndarray,
    out_writes: np.ndarray,
    out_energy: np.ndarray,
    out_order: np.ndarray,
) -> None:
    D = arr_size.shape[1]
    M = mem_size_a.shape[1]
    P = bw_max_a.shape[2]
    sp_u = np.ones((D, 8), np.int64)
    sp_has = np.zeros((D, 8), np.bool_)
    sp_seq = np.zeros((D, 8), np.int64)
    sp_cnt = np.zeros(D, np.int64)
    left = np.zeros(8, np.int64)
    unroll = np.ones(8, np.int64)
    temporal_d = np.ones(8, np.int64)
    used_eff = np.ones(D)
    counted = np.zeros(8, np.bool_)
    inside = np.ones((M, 8), np.int64)
    act_nb = np.ones(M)
    act_b = np.ones((M, 3))
    factors = np.zeros((8, 64), np.int64)
    n_factors = np.zeros(8, np.int64)
    perm_dims = np.zeros(6, np.int64)
    perm = np.zeros(6, np.int64)
    loop_ld = np.zeros(MAX_LOOPS, np.int64)
    loop_f = np.ones(MAX_LOOPS, np.int64)
    bound = np.zeros((3, M), np.int64)
    ext = np.ones((3, 8), np.int64)
    fpc = np.zeros(3, np.int64)
    lv_reads = np.zeros(M)
    lv_writes = np.zeros(M)
    lv_energy = np.zeros(M)
    busy = np.zeros((M, P))
    stall_acc = np.zeros((M, P))
    load = np.zeros(3)
    offl = np.zeros(3)
    e1 = np.ones(8, np.int64)
    e2 = np.ones(8, np.int64)
    cum = np.ones((MAX_LOOPS + 1, 8), np.int64)
    suf = np.ones(MAX_LOOPS + 1, np.int64)
    suf_rel = np.ones((3, MAX_LOOPS + 1), np.int64)
    nxt = np.zeros((3, MAX_LOOPS + 1), np.int64)
    top_irr = np.ones((3, MAX_LOOPS + 1), np.int64)
    no_red = np.ones(MAX_LOOPS + 1, np.bool_)
    lv = np.zeros(3, np.int64)
    nb = np.zeros(3, np.int64)
    # candidates per permutation: as is, or (split) one dimension's factors parted in two
    per_perm = 1 + (2 * 6 * MAX_LOOPS if split else 0)
    lat_of = np.zeros(max(1, max_orders) * per_perm)
    en_of = np.zeros(max(1, max_orders) * per_perm)
    cand = np.zeros((max(1, max_orders) * per_perm, 4), np.int64)  # perm no., split t, k, dir
    for q in range(len(arch_index)):
        a = arch_index[q]
        sh = layer_shape[layer_index[q]]
        stride, in_h, in_w = sh[8], sh[9], sh[10]
        nd = n_dims[a]
        n_mem = n_mem_a[a]
        chain = chain_a[a]
        n_chain = n_chain_a[a]
        # ---- spatial unrolling
        for d in range(8):
            left[d] = sh[d]
        for d in range(nd):
            sp_cnt[d] = 0
            for ld in range(8):
                sp_u[d, ld] = 1
                sp_has[d, ld] = False
            room = arr_size[a, d]
            for e in range(sm_n[a, d]):
                ld = sm_ld[a, d, e]
                if ld < 0:
                    continue
                u = max(1, min(sm_f[a, d, e], min(left[ld], room)))
                if not sp_has[d, ld]:
                    sp_has[d, ld] = True
                    sp_seq[d, sp_cnt[d]] = ld
                    sp_cnt[d] += 1
                sp_u[d, ld] *= u
                left[ld] = (left[ld] + u - 1) // u
                room //= u
        for ld in range(8):
            unroll[ld] = 1
            for d in range(nd):
                unroll[ld] *= sp_u[d, ld]
            temporal_d[ld] = (sh[ld] + unroll[ld] - 1) // unroll[ld]
            counted[ld] = False
        for d in range(nd):
            eff = 1.0
            for s in range(sp_cnt[d]):
                ld = sp_seq[d, s]
                u = sp_u[d, ld]
                if counted[ld]:
                    eff *= u
                else:
                    eff *= sh[ld] / (unroll[ld] * temporal_d[ld]) * u
                counted[ld] = True
            used_eff[d] = eff
        for m in range(n_mem):
            for ld in range(8):
                inside[m, ld] = 1
            act_nb[m] = 1.0
            for op in range(3):
                act_b[m, op] = 1.0
            for d in range(nd):
                if mem_served[a, m, d]:
                    for ld in range(8):
                        inside[m, ld] *= sp_u[d, ld]
                else:
                    act_nb[m] *= used_eff[d]
                    for op in range(3):
                        hit = False
                        for ld in range(8):
                            if sp_has[d, ld] and rel[op, ld]:
                                hit = True
                        if hit:
                            act_b[m, op] *= used_eff[d]
        # results leave a systolic dimension one unit a cycle
        drain = 0.0
        for d in range(nd):
            if systolic[a, d]:
                used = 1
                for s in range(sp_cnt[d]):
                    used *= sp_u[d, sp_seq[d, s]]
                drain += max(0, used - 1)
        macs = layer_macs[layer_index[q]]
        units = units_a[a]
        cpi = cpi_a[a]
        ideal = math.ceil(math.ceil(macs / units) * cpi)
        mac_e = pair_mac_e[q]
        # ---- candidate orders: permutations of the dims with more than one iteration, each
        # dimension's prime factors together (largest innermost), then B and G outermost
        n_perm = 0
        for t in range(6):
            ld = _PERMUTED[t]
            if temporal_d[ld] > 1:
                perm_dims[n_perm] = ld
                n_perm += 1
        for ld in range(8):
            n_factors[ld] = _prime_factors(temporal_d[ld], factors[ld])
        for t in range(n_perm):
            perm[t] = t
        n_orders = 0
        n_perms = 0
        best_lat = np.inf
        while True:
            for option in range(per_perm):
                split_t, split_k, split_dir = -1, 0, 0
                if option > 0:  # option - 1 = (t * MAX_LOOPS + k) * 2 + dir
                    split_dir = (option - 1) % 2
                    split_k = ((option - 1) // 2) % MAX_LOOPS
                    split_t = (option - 1) // 2 // MAX_LOOPS
                    # a split of the outermost permuted dim would change nothing
                    if split_t >= n_perm - 1 or split_k < 1:
                        continue
                    if split_k >= n_factors[perm_dims[perm[split_t]]]:
                        continue
                n_loops = _build_loops(
                    perm, n_perm, perm_dims, factors, n_factors, temporal_d, split_t, split_k,
                    split_dir, loop_ld, loop_f,
                )  # fmt: skip
                _allocate(
                    loop_ld, loop_f, n_loops, chain, n_chain, inside, mem_ops_a[a], mem_size_a[a],
                    prec_a[a], stride, in_h, in_w, bound, ext, fpc, lv, nb,
                )  # fmt: skip
                temporal, stall, onload, offload = _cost(
                    loop_ld, loop_f, n_loops, bound, chain, n_chain, inside, act_nb, act_b, n_mem,
                    mem_size_a[a], mem_rpj_a[a], mem_wpj_a[a], port_of_a[a], bw_max_a[a], bw_min_a[a],
                    prec_a[a], rel, stride, in_h, in_w, lv_reads, lv_writes, lv_energy, busy,
                    stall_acc, load, offl, e1, e2, cum, suf, suf_rel, nxt, top_irr, no_red,
                    best_lat * 1.005 - drain, cpi,
                )  # fmt: skip
                lat = temporal + stall + onload + offload + drain
                energy = 0.0
                for m in range(n_mem):
                    energy += lv_energy[m]
                lat_of[n_orders] = lat
                en_of[n_orders] = mac_e + energy
                cand[n_orders, 0] = n_perms
                cand[n_orders, 1] = split_t
                cand[n_orders, 2] = split_k
                cand[n_orders, 3] = split_dir
                best_lat = min(best_lat, lat)
                n_orders += 1
            n_perms += 1
            if n_perms >= max_orders or not _next_permutation(perm, n_perm):
                break
        # ---- the fastest order; ties within 0.5 % go to the least energy (first one wins)
        pick, pick_e = 0, np.inf
        for k in range(n_orders):
            if lat_of[k] <= best_lat * 1.005 and en_of[k] < pick_e:
                pick, pick_e = k, en_of[k]
        for t in range(n_perm):
            perm[t] = t
        for _ in range(cand[pick, 0]):
            _next_permutation(perm, n_perm)
        n_loops = _build_loops(
            perm, n_perm, perm_dims, factors, n_factors, temporal_d, cand[pick, 1], cand[pick, 2],
            cand[pick, 3], loop_ld, loop_f,
        )  # fmt: skip
        for i in range(n_loops):
            out_order[q, i] = loop_ld[i]
        _allocate(
            loop_ld, loop_f, n_loops, chain, n_chain, inside, mem_ops_a[a], mem_size_a[a],
            prec_a[a], stride, in_h, in_w, bound, ext, fpc, lv, nb,
        )  # fmt: skip
        temporal, stall, onload, offload = _cost(
            loop_ld, loop_f, n_loops, bound, chain, n_chain, inside, act_nb, act_b, n_mem,
            mem_size_a[a], mem_rpj_a[a], mem_wpj_a[a], port_of_a[a], bw_max_a[a], bw_min_a[a],
            prec_a[a], rel, stride, in_h, in_w, lv_reads, lv_writes, lv_energy, busy,
            stall_acc, load, offl, e1, e2, cum, suf, suf_rel, nxt, top_irr, no_red, np.inf, cpi,
        )  # fmt: skip
        latency = temporal + stall + onload + offload + drain
        lv_sum = 0.0
        for m in range(n_mem):
            lv_sum += lv_energy[m]
            out_reads[q, m] = lv_reads[m]
            out_writes[q, m] = lv_writes[m]
            out_energy[q, m] = lv_energy[m]
        out_scalars[q, 0] = latency
        out_scalars[q, 1] = ideal
        out_scalars[q, 2] = temporal
        out_scalars[q, 3] = stall
        out_scalars[q, 4] = onload
        out_scalars[q, 5] = offload
        out_scalars[q, 6] = drain
        out_scalars[q, 7] = mac_e + lv_sum
        out_scalars[q, 8] = mac_e
        out_scalars[q, 9] = ideal / temporal
        out_scalars[q, 10] = macs * cpi / (latency * units)
