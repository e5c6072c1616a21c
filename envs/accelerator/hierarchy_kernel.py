"""The hierarchy model's mapper and cost, compiled with numba, for many (architecture, layer) pairs.

:mod:`.hierarchy_model` states the model; this module is its engine. Architectures and
layers are packed into fixed-shape arrays (:func:`pack_architectures`, :func:`pack_layers`)
and :func:`evaluate_pairs` maps and costs every requested pair in one compiled call, in three
steps per pair:

1. **spatial** (:func:`_spatial_step`): the spatial unrolling, what runs in time, what each
   memory level's instance holds and how many instances are active, the systolic drain;
2. **search** (:func:`_search`): every candidate loop order with its bottom-up allocation
   (:func:`allocate`, :func:`tile_tables`) and cost (:func:`cost_order`), keeping
   the best by the mapper goal (``latency``: the fastest, ties within 0.5 % to the least
   energy; ``energy``: the least energy, ties within 0.5 % to the fastest; ``edp``: the least
   energy-delay product, ties within 0.5 % to the least energy);
3. **output** (:func:`_output_step`): the chosen order costed again and written out.

The search skips orders that cannot differ from one already costed: once every operand has
reached its outermost level, the loops above only matter through the run of loops
irrelevant to an operand right above its tiles (:func:`_first_of_its_class`); and, for a
square layer and unrolling, the mirror image (OX<->OY, FX<->FY) of an earlier order
(:func:`_mirror_table`). Over the whole set of orders (the default) of five or more
permuted dims (:data:`TREE_MIN_DIMS`) it walks the permutation tree depth first
(:func:`_search_tree`), allocating each prefix of the loop nest once, and drops a whole
subtree when a lower bound of the mapper goal over it is past the tie band of the best so
far: the stall of the innermost level alone (:func:`innermost_stall`) and every cost term
the prefix fixes (:func:`_prefix_bound`).
These keep the results identical and the chosen order the first of its kind, as a full
search would (``benchmarks/accelerator_exactness.py``, ``tests/test_accelerator_search_exact.py``).

All compiled code lives in this one module on purpose: numba's on-disk cache
(``cache=True``) checks only the file of the function it loads, so a callee in another
file could change without its cached callers being recompiled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numba import get_num_threads, njit, prange

from .architecture import DIRECTIONS, LAYER_DIMS, OPERANDS, RELEVANT, Architecture
from .layers import Layer

N_DIMS = len(LAYER_DIMS)
N_OPS = len(OPERANDS)
_DIM = {d: i for i, d in enumerate(LAYER_DIMS)}
B, K, G, OX, OY, C, FX, FY = (_DIM[d] for d in ("B", "K", "G", "OX", "OY", "C", "FX", "FY"))
W_OP, I_OP, O_OP = (OPERANDS.index(o) for o in ("W", "I", "O"))
FH, TL, FL, TH = (DIRECTIONS.index(d) for d in ("fh", "tl", "fl", "th"))
#: the reduction dimensions (an output tile is final once none of them runs above it)
REDUCTION = np.array([d in ("C", "FX", "FY") for d in LAYER_DIMS], dtype=np.bool_)
#: ``REL[op, dim]``: the operand depends on the layer dimension
REL = np.array([[ld in RELEVANT[op] for ld in LAYER_DIMS] for op in OPERANDS], dtype=np.bool_)
#: columns of :attr:`ArchView.prec`: the operand precisions, then the final outputs'
PREC_O_FINAL = N_OPS


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
_COL = {name: i for i, name in enumerate(SCALARS)}
COL_LATENCY, COL_IDEAL, COL_TEMPORAL, COL_STALL = (
    _COL[n] for n in ("latency_cycles", "ideal_cycles", "temporal_cycles", "stall_cycles")
)
COL_ONLOAD, COL_OFFLOAD, COL_DRAIN = (_COL[n] for n in ("onload_cycles", "offload_cycles", "drain_cycles"))
COL_ENERGY, COL_MAC_ENERGY = _COL["energy_pj"], _COL["mac_energy_pj"]
COL_SPATIAL_UTIL, COL_UTIL = _COL["spatial_utilization"], _COL["utilization"]
#: columns of :func:`pack_layers`' shape matrix: the layer dimensions, then the geometry
LAYER_COLUMNS: tuple[str, ...] = (*LAYER_DIMS, "stride", "in_h", "in_w")
#: the mapper goals of :func:`evaluate_pairs` (``objective`` is the index)
MAPPER_OBJECTIVES: tuple[str, ...] = ("latency", "energy", "edp")
_GOAL_LATENCY, _GOAL_ENERGY, _GOAL_EDP = range(len(MAPPER_OBJECTIVES))
#: the mapper goal's tie band: candidates within this factor of the best tie
TIE = 1.005
#: candidate loop dimensions (in the order permutations are generated); B and G run outermost
_PERMUTED = np.array([K, OX, OY, C, FX, FY], dtype=np.int64)
#: per layer dimension, the one operand it is irrelevant to (-1: none or several)
_IRRELEVANT_TO = np.array(
    [int(np.flatnonzero(~REL[:, d])[0]) if (~REL[:, d]).sum() == 1 else -1 for d in range(len(LAYER_DIMS))],
    dtype=np.int64,
)
#: ``n!`` for every number of permuted dims
_FACTORIAL = np.array([math.factorial(n) for n in range(len(_PERMUTED) + 1)], dtype=np.int64)
#: candidates per permutation in split mode: as is, or one dimension's factors parted in two
_SPLIT_OPTIONS = 1 + 2 * len(_PERMUTED) * MAX_LOOPS


class PackedArchitectures(NamedTuple):
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


class PairResults(NamedTuple):
    """:func:`evaluate_pairs`' output, one row per pair."""

    scalars: np.ndarray  # (n, len(SCALARS)), columns COL_*
    reads: np.ndarray  # (n, MAX_MEMORIES) words of the level's port width
    writes: np.ndarray  # (n, MAX_MEMORIES)
    level_energy: np.ndarray  # (n, MAX_MEMORIES) pJ
    order: np.ndarray  # (n, MAX_LOOPS) layer dim of each temporal loop, innermost first; -1 pads


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


def _empty_pack(n: int) -> dict[str, np.ndarray]:
    D, E, M, P = MAX_ARRAY_DIMS, MAX_MAPPING, MAX_MEMORIES, MAX_PORTS
    n_ops, n_dirs = len(OPERANDS), len(DIRECTIONS)
    return {
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
        "mem_ops": np.zeros((n, M, n_ops), np.bool_),
        "chain": np.full((n, n_ops, M), -1, np.int64),
        "n_chain": np.zeros((n, n_ops), np.int64),
        "port_of": np.full((n, M, n_ops, n_dirs), -1, np.int64),
        "bw_max": np.ones((n, M, P)),
        "bw_min": np.ones((n, M, P)),
        "prec": np.ones((n, n_ops + 1), np.int64),
        "units": np.ones(n, np.int64),
        "mac_pj": np.zeros(n),
        "cycles_per_iteration": np.ones(n),
    }


def pack_architectures(archs: Sequence[Architecture]) -> PackedArchitectures:
    """Pack ``archs`` for :func:`evaluate_pairs` (raises ``ValueError`` past the size limits)."""
    out = _empty_pack(len(archs))
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
        out["prec"][a] = [int(arch.precision[k]) for k in (*OPERANDS, "O_final")]
        out["units"][a] = arch.array.units
        out["mac_pj"][a] = arch.array.mac_pj
        out["cycles_per_iteration"][a] = arch.array.cycles_per_iteration
    return PackedArchitectures(**out)


def pack_layers(layers: Sequence[Layer]) -> tuple[np.ndarray, np.ndarray]:
    """``(shape, macs)``: per layer the :data:`LAYER_COLUMNS` and its MACs."""
    shape = np.array(
        [
            (l.N, l.k_per_group, l.groups, l.Q, l.P, l.c_per_group, l.S, l.R, l.stride, l.H, l.W)
            for l in layers
        ],
        dtype=np.int64,
    ).reshape(len(layers), len(LAYER_COLUMNS))
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
    objective: str = "latency",
    threads: int = 1,
) -> PairResults:
    """Map and cost each pair ``(archs[arch_index[i]], layers[layer_index[i]])``.

    ``mac_energy[i]`` (pJ) is pair ``i``'s MAC energy; by default MACs x the array's ``mac_pj``
    (in-memory-compute arrays give a mapping-dependent one, see :mod:`.imc`). ``split_loops``
    also tries, per loop order, parting one dimension's prime factors between its place and
    the outermost position (as LOMA's orders can; about 10x more candidates). ``objective``:
    the mapper goal, one of :data:`MAPPER_OBJECTIVES`.

    ``threads > 1`` shares the pairs across that many of numba's threads (at most
    ``NUMBA_NUM_THREADS``; each thread gets at least :data:`PARALLEL_MIN_PAIRS` pairs); the
    results are the same as on one thread. The threaded kernel compiles on its first use
    (tens of seconds, then cached on disk), so one thread is the default.
    """
    if objective not in MAPPER_OBJECTIVES:
        raise ValueError(f"mapper objective must be one of {', '.join(MAPPER_OBJECTIVES)}, got {objective!r}")
    n = len(arch_index)
    out = PairResults(
        np.zeros((n, len(SCALARS))),
        np.zeros((n, MAX_MEMORIES)),
        np.zeros((n, MAX_MEMORIES)),
        np.zeros((n, MAX_MEMORIES)),
        np.full((n, MAX_LOOPS), -1, np.int64),
    )
    arch_index = np.ascontiguousarray(arch_index, np.int64)
    layer_index = np.ascontiguousarray(layer_index, np.int64)
    layer_macs = np.ascontiguousarray(layer_macs, np.float64)
    if mac_energy is None:
        mac_energy = layer_macs[layer_index] * archs.mac_pj[arch_index]
    args = (
        archs,
        np.ascontiguousarray(layer_shape, np.int64),
        layer_macs,
        np.ascontiguousarray(mac_energy, np.float64),
        arch_index,
        layer_index,
        int(max_orders),
        bool(split_loops),
        MAPPER_OBJECTIVES.index(objective),
        out,
    )
    threads = min(int(threads), get_num_threads(), n // PARALLEL_MIN_PAIRS)
    if threads > 1:
        _evaluate_all_threads(*args, 4 * threads)
    else:
        _evaluate_all(*args)
    return out


# =========================================================================== costing one loop order
class ArchView(NamedTuple):
    """One architecture's packed description (see :class:`.hierarchy_kernel.PackedArchitectures`)."""

    n_mem: int
    mem_size: np.ndarray  # (M,) bits
    mem_rpj: np.ndarray  # (M,)
    mem_wpj: np.ndarray  # (M,)
    mem_ops: np.ndarray  # (M, 3) bool
    chain: np.ndarray  # (3, M) each operand's levels, innermost first
    n_chain: np.ndarray  # (3,)
    port_of: np.ndarray  # (M, 3, 4) port of (operand, direction), -1: none
    bw_max: np.ndarray  # (M, P)
    bw_min: np.ndarray  # (M, P)
    prec: np.ndarray  # (4,) W, I, O (partial sums), O_final


class Placement(NamedTuple):
    """The spatial step's result that the cost reads: per memory level the layer extents one
    instance holds (``inside``) and its active instances (``act_nb``: all, ``act_b[op]``: those
    with distinct data of the operand)."""

    inside: np.ndarray  # (M, 8)
    act_nb: np.ndarray  # (M,)
    act_b: np.ndarray  # (M, 3)


class Allocation(NamedTuple):
    """:func:`allocate`'s result and scratch: ``bound[op, j]`` the number of loops (innermost
    first) at or below the operand's j-th level."""

    bound: np.ndarray  # (3, M)
    ext: np.ndarray  # (3, 8) current tile extents
    fpc: np.ndarray  # (3,) current tile footprints
    lv: np.ndarray  # (3,) current level
    nb: np.ndarray  # (3,) bounds written
    state: np.ndarray  # (2,) columns ALLOC_O_BITS (an output's bits in its current level), ALLOC_TOP


#: columns of :attr:`Allocation.state`
ALLOC_O_BITS, ALLOC_TOP = 0, 1


class Tiles(NamedTuple):
    """Per boundary ``k`` (a tile holding loops ``[0, k)``), see :func:`tile_tables`."""

    cum: np.ndarray  # (L+1, 8) extent of each dimension below
    suf: np.ndarray  # (L+1,) product of the loops above
    suf_rel: np.ndarray  # (3, L+1) product of the operand's relevant loops above
    nxt: np.ndarray  # (3, L+1) first relevant loop above
    top_irr: np.ndarray  # (3, L+1) the run of irrelevant loops at the top of the tile
    no_red: np.ndarray  # (L+1,) no reduction loop above
    e1: np.ndarray  # (8,) scratch extents
    e2: np.ndarray  # (8,)


#: rows of :attr:`Ledger.level` (per memory level), :attr:`Ledger.port` (per port) and
#: :attr:`Ledger.operand` (per operand)
LEVEL_ROWS: tuple[str, ...] = ("reads", "writes", "energy")
PORT_ROWS: tuple[str, ...] = ("busy", "stall")
OPERAND_ROWS: tuple[str, ...] = ("onload", "offload")
READS, WRITES, ENERGY = (LEVEL_ROWS.index(r) for r in ("reads", "writes", "energy"))
BUSY, STALL = (PORT_ROWS.index(r) for r in ("busy", "stall"))
ONLOAD, OFFLOAD = (OPERAND_ROWS.index(r) for r in ("onload", "offload"))


class Ledger(NamedTuple):
    """What one loop order costs: per level accesses (words) and energy (pJ), per port busy
    and stall cycles, per operand on- and off-loading cycles."""

    level: np.ndarray  # (3, M) rows LEVEL_ROWS
    port: np.ndarray  # (2, M, P) rows PORT_ROWS
    operand: np.ndarray  # (2, 3) rows OPERAND_ROWS


@njit(cache=True)
def new_allocation(n_mem: int) -> Allocation:
    return Allocation(
        np.zeros((N_OPS, n_mem), np.int64),
        np.ones((N_OPS, N_DIMS), np.int64),
        np.zeros(N_OPS, np.int64),
        np.zeros(N_OPS, np.int64),
        np.zeros(N_OPS, np.int64),
        np.zeros(2, np.int64),
    )


@njit(cache=True)
def new_tiles(max_loops: int) -> Tiles:
    return Tiles(
        np.ones((max_loops + 1, N_DIMS), np.int64),
        np.ones(max_loops + 1, np.int64),
        np.ones((N_OPS, max_loops + 1), np.int64),
        np.zeros((N_OPS, max_loops + 1), np.int64),
        np.ones((N_OPS, max_loops + 1), np.int64),
        np.ones(max_loops + 1, np.bool_),
        np.ones(N_DIMS, np.int64),
        np.ones(N_DIMS, np.int64),
    )


@njit(cache=True)
def new_ledger(n_mem: int, n_ports: int) -> Ledger:
    return Ledger(
        np.zeros((len(LEVEL_ROWS), n_mem)),
        np.zeros((len(PORT_ROWS), n_mem, n_ports)),
        np.zeros((len(OPERAND_ROWS), N_OPS)),
    )


# Speed note: numba reads of a named tuple's array inside loops, and ``inline="always"``
# helpers taking arrays, each add reference counting that LLVM does not remove (measured:
# 2.5x to 6x slower on a small model of this cost). So every function unpacks its named
# tuples once at the top, and the helpers are plain compiled functions taking arrays, which
# LLVM inlines without that overhead.


# ------------------------------------------------------------------------------ geometry
@njit(cache=True, inline="always")
def _window(out: int, k: int, stride: int, real: int) -> int:
    span = out * k if stride >= k else (out - 1) * stride + k
    return max(1, min(real, span))


@njit(cache=True)
def footprint(op: int, e: np.ndarray, stride: int, in_h: int, in_w: int) -> int:
    """Elements of operand ``op`` in a tile of extents ``e`` (inputs: the sliding window)."""
    if op == W_OP:
        return e[K] * e[G] * e[C] * e[FX] * e[FY]
    if op == O_OP:
        return e[B] * e[K] * e[G] * e[OX] * e[OY]
    ix = _window(e[OX], e[FX], stride, in_w)
    iy = _window(e[OY], e[FY], stride, in_h)
    return e[B] * e[G] * e[C] * ix * iy


@njit(cache=True)
def _row_footprint(op: int, e: np.ndarray, r: int, stride: int, in_h: int, in_w: int) -> int:
    """:func:`footprint` of the extents ``e[r]`` (no row view: numba builds one per call)."""
    if op == W_OP:
        return e[r, K] * e[r, G] * e[r, C] * e[r, FX] * e[r, FY]
    if op == O_OP:
        return e[r, B] * e[r, K] * e[r, G] * e[r, OX] * e[r, OY]
    ix = _window(e[r, OX], e[r, FX], stride, in_w)
    iy = _window(e[r, OY], e[r, FY], stride, in_h)
    return e[r, B] * e[r, G] * e[r, C] * ix * iy


@njit(cache=True)
def words(elements: float, bits: int, transfers: float, bw_max: float, bw_min: float) -> float:
    """Accesses in words of ``bw_max`` bits, at ``bw_min`` granularity per transfer."""
    if elements <= 0 or transfers <= 0:
        return 0.0
    per = math.ceil(elements * bits / bw_min) * bw_min / bw_max
    return per * transfers


@njit(cache=True)
def cycles(elements: float, bits: int, bw_max: float) -> float:
    if elements <= 0:
        return 0.0
    return float(math.ceil(elements * bits / bw_max))


# ------------------------------------------------------------------------------ allocation
@njit(cache=True)
def last_reduction(loop_ld: np.ndarray, loop_f: np.ndarray, n_loops: int) -> int:
    """Index of the outermost temporal reduction loop (``C FX FY``, factor > 1); -1 if none."""
    last = -1
    for i in range(n_loops):
        if REDUCTION[loop_ld[i]] and loop_f[i] != 1:
            last = i
    return last


@njit(cache=True)
def output_bits(
    inside: np.ndarray,
    chain: np.ndarray,
    n_chain: np.ndarray,
    prec: np.ndarray,
    j: int,
    start: int,
    last_red: int,
) -> int:
    """Bits an output takes in the ``j``-th output level, whose loops start at ``start``: final
    outputs once every reduction loop runs below it and the level sums over the whole spatial
    reduction (as ZigZag's LOMA memory allocator sizes an output tile), else partial sums."""
    if last_red >= start:
        return prec[O_OP]
    m, top = chain[O_OP, j], chain[O_OP, n_chain[O_OP] - 1]
    for d in range(N_DIMS):
        if REDUCTION[d] and inside[m, d] != inside[top, d]:
            return prec[O_OP]
    return prec[PREC_O_FINAL]


@njit(cache=True)
def allocate(
    loop_ld: np.ndarray,
    loop_f: np.ndarray,
    n_loops: int,
    av: ArchView,
    pl: Placement,
    shape: np.ndarray,
    al: Allocation,
) -> int:
    """Greedy bottom-up assignment of the loops to every operand's levels (shared capacity).

    Fills ``al.bound``; returns the index of the first loop placed after every operand
    reached its outermost level (``n_loops`` if none): the order of the loops from there on
    cannot change the allocation.
    """
    last_red = last_reduction(loop_ld, loop_f, n_loops)
    allocation_start(av, pl, shape, al, last_red)
    allocate_loops(loop_ld, loop_f, 0, n_loops, last_red, av, pl, shape, al)
    return allocation_end(n_loops, av, al)


@njit(cache=True)
def allocation_start(av: ArchView, pl: Placement, shape: np.ndarray, al: Allocation, last_red: int) -> None:
    """Start :func:`allocate`: every operand at its innermost level, no loop placed.

    ``last_red`` (see :func:`last_reduction`) only enters through ``last_red >= start`` for
    loop indices ``start`` already reached, so a caller that allocates a loop nest part by
    part (:func:`allocate_loops`) may pass any value past the loops placed so far while a
    reduction loop is still to come."""
    stride, in_h, in_w = shape[N_DIMS], shape[N_DIMS + 1], shape[N_DIMS + 2]
    chain, n_chain, prec, inside = av.chain, av.n_chain, av.prec, pl.inside
    ext, fpc, lv, nb, st = al.ext, al.fpc, al.lv, al.nb, al.state
    for op in range(N_OPS):
        lv[op] = 0
        nb[op] = 0
        for d in range(N_DIMS):
            ext[op, d] = inside[chain[op, 0], d]
        fpc[op] = _row_footprint(op, ext, op, stride, in_h, in_w)  # current tile of each operand
    st[ALLOC_O_BITS] = output_bits(inside, chain, n_chain, prec, 0, 0, last_red)
    st[ALLOC_TOP] = -1


@njit(cache=True)
def allocate_loops(
    loop_ld: np.ndarray,
    loop_f: np.ndarray,
    lo: int,
    hi: int,
    last_red: int,
    av: ArchView,
    pl: Placement,
    shape: np.ndarray,
    al: Allocation,
) -> None:
    """Place loops ``lo..hi-1`` (all below them placed already) in :func:`allocate`'s greedy
    order; stops, recording the index in ``al.state[ALLOC_TOP]``, once every operand is at
    its outermost level."""
    stride, in_h, in_w = shape[N_DIMS], shape[N_DIMS + 1], shape[N_DIMS + 2]
    chain, n_chain, mem_ops, mem_size, prec = av.chain, av.n_chain, av.mem_ops, av.mem_size, av.prec
    inside = pl.inside
    bound, ext, fpc, lv, nb, st = al.bound, al.ext, al.fpc, al.lv, al.nb, al.state
    if st[ALLOC_TOP] >= 0:
        return
    o_bits = st[ALLOC_O_BITS]
    for i in range(lo, hi):
        if lv[W_OP] == n_chain[W_OP] - 1 and lv[I_OP] == n_chain[I_OP] - 1 and lv[O_OP] == n_chain[O_OP] - 1:
            st[ALLOC_TOP] = i  # every operand is at its outermost level: the remaining loops all go there
            break
        ld, f = loop_ld[i], loop_f[i]
        for op in range(N_OPS):
            while True:
                m = chain[op, lv[op]]
                if lv[op] == n_chain[op] - 1:
                    ext[op, ld] *= f
                    fpc[op] = _row_footprint(op, ext, op, stride, in_h, in_w)
                    break
                # the level's tiles if this operand's tile takes the loop too
                old = ext[op, ld]
                ext[op, ld] = old * f
                grown = _row_footprint(op, ext, op, stride, in_h, in_w)
                ext[op, ld] = old
                tot = 0.0
                for o2 in range(N_OPS):
                    if mem_ops[m, o2] and chain[o2, lv[o2]] == m:
                        tot += (grown if o2 == op else fpc[o2]) * (o_bits if o2 == O_OP else prec[o2])
                if tot <= mem_size[m]:
                    ext[op, ld] = old * f
                    fpc[op] = grown
                    break
                bound[op, nb[op]] = i
                nb[op] += 1
                lv[op] += 1
                if op == O_OP:
                    o_bits = output_bits(inside, chain, n_chain, prec, lv[op], i, last_red)
                nxt = chain[op, lv[op]]
                for d in range(N_DIMS):
                    ext[op, d] = inside[nxt, d]
                for i2 in range(i):
                    ext[op, loop_ld[i2]] *= loop_f[i2]
                fpc[op] = _row_footprint(op, ext, op, stride, in_h, in_w)
    st[ALLOC_O_BITS] = o_bits


@njit(cache=True)
def allocation_end(n_loops: int, av: ArchView, al: Allocation) -> int:
    """Finish :func:`allocate` (the levels not reached hold every loop); returns its ``top``."""
    bound, nb, n_chain = al.bound, al.nb, av.n_chain
    for op in range(N_OPS):
        while nb[op] < n_chain[op]:
            bound[op, nb[op]] = n_loops
            nb[op] += 1
    top = al.state[ALLOC_TOP]
    return n_loops if top < 0 else top


# ------------------------------------------------------------------------------ tile tables
@njit(cache=True)
def tile_tables(loop_ld: np.ndarray, loop_f: np.ndarray, n_loops: int, tt: Tiles) -> None:
    """Per boundary ``k``: extents below, products above, first relevant loop above, the
    irrelevant run at the top of the tile, and whether a reduction loop runs above."""
    cum, suf, suf_rel, nxt, top_irr, no_red = tt.cum, tt.suf, tt.suf_rel, tt.nxt, tt.top_irr, tt.no_red
    for d in range(N_DIMS):
        cum[0, d] = 1
    for op in range(N_OPS):
        top_irr[op, 0] = 1
    for k in range(n_loops):
        ld, f = loop_ld[k], loop_f[k]
        for d in range(N_DIMS):
            cum[k + 1, d] = cum[k, d]
        cum[k + 1, ld] *= f
        for op in range(N_OPS):
            top_irr[op, k + 1] = 1 if REL[op, ld] else top_irr[op, k] * f
    suf[n_loops] = 1
    no_red[n_loops] = True
    for op in range(N_OPS):
        suf_rel[op, n_loops] = 1
        nxt[op, n_loops] = n_loops
    for k in range(n_loops - 1, -1, -1):
        ld, f = loop_ld[k], loop_f[k]
        suf[k] = suf[k + 1] * f
        no_red[k] = no_red[k + 1] and not (REDUCTION[ld] and f != 1)
        for op in range(N_OPS):
            if REL[op, ld]:
                suf_rel[op, k] = suf_rel[op, k + 1] * f
                nxt[op, k] = k
            else:
                suf_rel[op, k] = suf_rel[op, k + 1]
                nxt[op, k] = nxt[op, k + 1]


# ------------------------------------------------------------------------------ the ledger
@njit(cache=True)
def _read(level: np.ndarray, m: int, w: float, pj: float) -> None:
    level[READS, m] += w
    level[ENERGY, m] += w * pj


@njit(cache=True)
def _write(level: np.ndarray, m: int, w: float, pj: float) -> None:
    level[WRITES, m] += w
    level[ENERGY, m] += w * pj


@njit(cache=True)
def _transfer(port: np.ndarray, m: int, p: int, cyc: float, window: float, times: float) -> None:
    """``times`` transfers of ``cyc`` cycles on port ``p`` of level ``m``, each within ``window``."""
    port[BUSY, m, p] += cyc * times
    port[STALL, m, p] += max(0.0, cyc - window) * times


@njit(cache=True)
def port_stall(port: np.ndarray, n_mem: int, temporal: float) -> float:
    """Stall cycles: the slowest port's (ports work in parallel)."""
    stall = 0.0
    for m in range(n_mem):
        for p in range(port.shape[2]):
            stall = max(stall, port[STALL, m, p], port[BUSY, m, p] - temporal)
    return stall


# ------------------------------------------------------------------------------ the cost
@njit(cache=True)
def cost_order(
    loop_ld: np.ndarray,
    loop_f: np.ndarray,
    n_loops: int,
    av: ArchView,
    pl: Placement,
    al: Allocation,
    shape: np.ndarray,
    tt: Tiles,
    lg: Ledger,
    cpi: float,
    lat_limit: float,
    en_limit: float,
    upto: int = MAX_LOOPS + 1,
) -> tuple[float, float, float, float]:
    """Cost of one allocated loop order: ``(temporal, stall, onload, offload)`` cycles; the
    per-level accesses and energy are left in the ledger. One temporal iteration takes
    ``cpi`` array cycles (bit-serial in-memory compute).

    With ``upto < n_loops``, a lower bound on the cost of every order sharing the first
    ``upto`` loops (with the allocation of those loops; see :func:`_prefix_bound`): only
    the (operand, level) terms that those loops fix are counted, each exactly as in the
    full cost and in the same order.

    Per operand and level (innermost first): the tile sent down and the child's tile, the
    refills (loops above less the stationary run right above) and distinct tiles, the time
    window of a refill (the whole period if the child's tile fits half the child, double
    buffered; else only the last iterations of its top irrelevant run), then the accesses
    and port transfers. Costing stops early, with an infinite stall, once the cycles so far
    pass ``lat_limit`` or the memory energy so far passes ``en_limit``.

    The per-level accounting is written out here rather than in per-level helpers: numba
    increments and decrements the reference count of every array a non-inlined call
    receives, and per level that made the cost 2x slower (measured on 4,800 ResNet-18
    template pairs).
    """
    stride, in_h, in_w = shape[N_DIMS], shape[N_DIMS + 1], shape[N_DIMS + 2]
    chain, n_chain, prec, mem_size, n_mem = av.chain, av.n_chain, av.prec, av.mem_size, av.n_mem
    port_of, bw_max, bw_min, mem_rpj, mem_wpj = av.port_of, av.bw_max, av.bw_min, av.mem_rpj, av.mem_wpj
    inside, act_nb, act_b, bound = pl.inside, pl.act_nb, pl.act_b, al.bound
    cum, suf, suf_rel, nxt, top_irr, no_red = tt.cum, tt.suf, tt.suf_rel, tt.nxt, tt.top_irr, tt.no_red
    e1, e2 = tt.e1, tt.e2
    level, port, opc = lg.level, lg.port, lg.operand
    _reset(level, port, opc, n_mem)
    tile_tables(loop_ld, loop_f, n_loops, tt)
    iterations = suf[0]
    temporal = iterations * cpi  # cycles
    for op in range(N_OPS):
        bits = prec[op]
        for j in range(n_chain[op]):
            # ---- the level's tile geometry
            m = chain[op, j]
            child = chain[op, j - 1] if j > 0 else -1
            k_lo = bound[op, j - 1] if j > 0 else 0
            if upto < n_loops and (k_lo >= upto or nxt[op, k_lo] >= upto):
                continue  # set by loops past the prefix: counted as 0 in a prefix's bound
            inst = act_b[m, op] if j > 0 else act_nb[m]
            for d in range(N_DIMS):
                e1[d] = inside[m, d] * cum[k_lo, d]
                e2[d] = inside[child, d] * cum[k_lo, d] if j > 0 else cum[k_lo, d]
            fp_down = footprint(op, e1, stride, in_h, in_w)
            child_fp = footprint(op, e2, stride, in_h, in_w)
            refills = suf[nxt[op, k_lo]]
            distinct = suf_rel[op, k_lo]
            period = temporal / max(1, refills)
            window = period
            if j > 0 and not child_fp * bits <= 0.5 * mem_size[child]:
                window = period / max(1, top_irr[op, k_lo])
            if op < O_OP:
                # ---- weights / inputs: reads down to the child and the child's writes
                p_tl = port_of[m, op, TL]
                if p_tl >= 0:
                    w = words(fp_down, bits, refills * inst, bw_max[m, p_tl], bw_min[m, p_tl])
                    _read(level, m, w, mem_rpj[m])
                if j > 0:
                    copies = act_b[child, op] if j > 1 else act_nb[child]
                    p_fh = port_of[child, op, FH]
                    if p_fh >= 0:
                        w = words(child_fp, bits, refills * copies, bw_max[child, p_fh], bw_min[child, p_fh])
                        _write(level, child, w, mem_wpj[child])
                    if j == 1:  # the first innermost tile must be in before compute starts
                        c1 = cycles(fp_down, bits, bw_max[m, p_tl]) if p_tl >= 0 else 0.0
                        c2 = cycles(child_fp, bits, bw_max[child, p_fh]) if p_fh >= 0 else 0.0
                        opc[ONLOAD, op] += max(c1, c2)
                        if refills == 1:
                            continue
                    if p_fh >= 0 and refills > 0:
                        cyc = cycles(child_fp, bits, bw_max[child, p_fh])
                        _transfer(port, child, p_fh, cyc, window, refills)
                if p_tl >= 0 and refills > 0:
                    _transfer(port, m, p_tl, cycles(fp_down, bits, bw_max[m, p_tl]), window, refills)
                continue
            # ---- outputs: partial sums up and back, final outputs, the child's side
            once = j > 0 and refills == 1
            if j == 0:  # a MAC has no accumulator: every product goes through level 0
                back = iterations - distinct
                refills = iterations
            else:
                back = refills - distinct
            final_bits = prec[PREC_O_FINAL] if no_red[k_lo] else bits
            p_fl = port_of[m, O_OP, FL]
            p_tl = port_of[m, O_OP, TL]
            if p_fl >= 0:
                bmax, bmin = bw_max[m, p_fl], bw_min[m, p_fl]
                _write(level, m, words(fp_down, bits, back * inst, bmax, bmin), mem_wpj[m])
                _write(level, m, words(fp_down, final_bits, distinct * inst, bmax, bmin), mem_wpj[m])
            if p_tl >= 0:
                _read(
                    level, m, words(fp_down, bits, back * inst, bw_max[m, p_tl], bw_min[m, p_tl]), mem_rpj[m]
                )
            if j > 0:
                ci = act_nb[child]
                p_th = port_of[child, O_OP, TH]
                p_fh = port_of[child, O_OP, FH]
                if p_th >= 0:
                    bmax, bmin = bw_max[child, p_th], bw_min[child, p_th]
                    _read(level, child, words(child_fp, bits, back * ci, bmax, bmin), mem_rpj[child])
                    _read(
                        level, child, words(child_fp, final_bits, distinct * ci, bmax, bmin), mem_rpj[child]
                    )
                if p_fh >= 0:
                    w = words(child_fp, bits, back * ci, bw_max[child, p_fh], bw_min[child, p_fh])
                    _write(level, child, w, mem_wpj[child])
                if once:  # written back once: what does not fit the compute time is off-loading
                    c1 = cycles(fp_down, final_bits, bw_max[m, p_fl]) if p_fl >= 0 else 0.0
                    c2 = cycles(child_fp, final_bits, bw_max[child, p_th]) if p_th >= 0 else 0.0
                    opc[OFFLOAD, op] += max(0.0, max(c1, c2) - temporal)
                    continue
                if p_th >= 0 and refills > 0:
                    _transfer(port, child, p_th, cycles(child_fp, bits, bw_max[child, p_th]), window, refills)
                if p_fh >= 0 and back > 0:
                    _transfer(port, child, p_fh, cycles(child_fp, bits, bw_max[child, p_fh]), window, back)
            if p_fl >= 0 and refills > 0:
                _transfer(port, m, p_fl, cycles(fp_down, bits, bw_max[m, p_fl]), window, refills)
            if p_tl >= 0 and back > 0:
                _transfer(port, m, p_tl, cycles(fp_down, bits, bw_max[m, p_tl]), window, back)
        # the rest only adds cycles (energy): an order already past the limit is dropped here
        if op < O_OP and _past_limits(level, port, opc, n_mem, temporal, lat_limit, en_limit):
            return temporal, np.inf, 0.0, 0.0
    stall = port_stall(port, n_mem, temporal)
    onload = max(opc[ONLOAD, W_OP], max(opc[ONLOAD, I_OP], opc[ONLOAD, O_OP]))
    offload = max(opc[OFFLOAD, W_OP], max(opc[OFFLOAD, I_OP], opc[OFFLOAD, O_OP]))
    return temporal, stall, onload, offload


@njit(cache=True)
def _reset(level: np.ndarray, port: np.ndarray, opc: np.ndarray, n_mem: int) -> None:
    for m in range(n_mem):
        for r in range(level.shape[0]):
            level[r, m] = 0.0
        for p in range(port.shape[2]):
            port[BUSY, m, p] = 0.0
            port[STALL, m, p] = 0.0
    for op in range(N_OPS):
        opc[ONLOAD, op] = 0.0
        opc[OFFLOAD, op] = 0.0


@njit(cache=True)
def _past_limits(
    level: np.ndarray,
    port: np.ndarray,
    opc: np.ndarray,
    n_mem: int,
    temporal: float,
    lat_limit: float,
    en_limit: float,
) -> bool:
    if temporal + port_stall(port, n_mem, temporal) + max(opc[ONLOAD, W_OP], opc[ONLOAD, I_OP]) > lat_limit:
        return True
    if en_limit < np.inf:
        e = 0.0
        for m in range(n_mem):
            e += level[ENERGY, m]
        return e > en_limit
    return False


@njit(cache=True)
def innermost_stall(
    loop_ld: np.ndarray,
    loop_f: np.ndarray,
    n_loops: int,
    av: ArchView,
    pl: Placement,
    shape: np.ndarray,
    port: np.ndarray,
    cpi: float,
) -> tuple[float, float]:
    """``(temporal, stall bound)`` of a loop order before its allocation: the stall of the
    innermost level's transfers alone (every MAC's operand reads and partial-sum writes), which
    depend only on the runs of loops irrelevant to each operand at the bottom of the nest.

    The transfers are the innermost-level ones :func:`cost_order` adds to the same ports,
    computed with the same expressions and in the same order (W, I, O); every other transfer
    only adds non-negative cycles, and rounded sums grow with each term, so :func:`cost_order`'s
    stall is at least this bound, bit for bit. ``port`` is scratch (a :class:`Ledger` port table).
    """
    stride, in_h, in_w = shape[N_DIMS], shape[N_DIMS + 1], shape[N_DIMS + 2]
    chain, prec, port_of, bw_max, inside = av.chain, av.prec, av.port_of, av.bw_max, pl.inside
    for m in range(av.n_mem):
        for p in range(port.shape[2]):
            port[BUSY, m, p] = 0.0
            port[STALL, m, p] = 0.0
    iterations = 1
    for i in range(n_loops):
        iterations *= loop_f[i]
    temporal = iterations * cpi
    for op in range(N_OPS):
        k = 0
        while k < n_loops and not REL[op, loop_ld[k]]:
            k += 1
        refills = 1  # the loops above the first relevant one (cost_order's suf[nxt[op, 0]])
        distinct = 1  # the relevant loops (suf_rel[op, 0])
        for i in range(n_loops):
            if i >= k:
                refills *= loop_f[i]
            if REL[op, loop_ld[i]]:
                distinct *= loop_f[i]
        m = chain[op, 0]
        fp = _row_footprint(op, inside, m, stride, in_h, in_w)
        bits = prec[op]
        window = temporal / max(1, refills)
        p_tl = port_of[m, op, TL]
        if op < O_OP:
            if p_tl >= 0 and refills > 0:
                _transfer(port, m, p_tl, cycles(fp, bits, bw_max[m, p_tl]), window, refills)
            continue
        back = iterations - distinct
        p_fl = port_of[m, O_OP, FL]
        if p_fl >= 0 and iterations > 0:
            _transfer(port, m, p_fl, cycles(fp, bits, bw_max[m, p_fl]), window, iterations)
        if p_tl >= 0 and back > 0:
            _transfer(port, m, p_tl, cycles(fp, bits, bw_max[m, p_tl]), window, back)
    return temporal, port_stall(port, av.n_mem, temporal)


# --------------------------------------------------------------------------- compiled state
class Spatial(NamedTuple):
    """The spatial step's scratch and result for one pair (``D`` array dims)."""

    unroll_of: np.ndarray  # (D, 8) unrolling of each layer dim on each array dim
    has: np.ndarray  # (D, 8) bool: the array dim unrolls the layer dim
    seq: np.ndarray  # (D, 8) the layer dims an array dim unrolls, in mapping order
    cnt: np.ndarray  # (D,)
    left: np.ndarray  # (8,) extent left to unroll
    unroll: np.ndarray  # (8,) total unrolling of each layer dim
    temporal: np.ndarray  # (8,) what runs in time
    used_eff: np.ndarray  # (D,) units in use on each array dim (fractional: padding)
    counted: np.ndarray  # (8,) bool


class Loops(NamedTuple):
    """The temporal loops: each dimension's prime factors, the permuted dims, the current
    permutation and loop nest (innermost first)."""

    factors: np.ndarray  # (8, MAX_LOOPS) largest first
    n_factors: np.ndarray  # (8,)
    perm_dims: np.ndarray  # (6,)
    perm: np.ndarray  # (6,)
    loop_ld: np.ndarray  # (MAX_LOOPS,)
    loop_f: np.ndarray  # (MAX_LOOPS,)


class Candidates(NamedTuple):
    """Per costed candidate: latency, energy, and (permutation no., split t, k, dir)."""

    lat: np.ndarray
    en: np.ndarray
    key: np.ndarray  # (n, 4)


class Tree(NamedTuple):
    """:func:`_search_tree`'s state per depth ``r`` (``r`` permuted dims placed, innermost
    first): the allocation of the loops placed so far (:class:`Allocation`'s arrays with a
    leading depth axis), the next child to try, where the depth's loops start, the last
    reduction loop placed and a lower bound of the mapper goal in the subtree."""

    bound: np.ndarray  # (R, 3, M)
    ext: np.ndarray  # (R, 3, 8)
    fpc: np.ndarray  # (R, 3)
    lv: np.ndarray  # (R, 3)
    nb: np.ndarray  # (R, 3)
    state: np.ndarray  # (R, 2)
    child: np.ndarray  # (R,)
    pos: np.ndarray  # (R,)
    last_red: np.ndarray  # (R,)
    goal_lb: np.ndarray  # (R,) a lower bound of the mapper goal in the subtree
    al: Allocation  # scratch for a prefix's bound


class Scratch(NamedTuple):
    sp: Spatial
    pl: Placement
    lp: Loops
    al: Allocation
    tt: Tiles
    lg: Ledger
    cands: Candidates
    tree: Tree


@njit(cache=True)
def _scratch(n_dims: int, n_mem: int, n_ports: int, n_cands: int) -> Scratch:
    n_ld, n_perm = len(LAYER_DIMS), len(_PERMUTED)
    sp = Spatial(
        np.ones((n_dims, n_ld), np.int64),
        np.zeros((n_dims, n_ld), np.bool_),
        np.zeros((n_dims, n_ld), np.int64),
        np.zeros(n_dims, np.int64),
        np.zeros(n_ld, np.int64),
        np.ones(n_ld, np.int64),
        np.ones(n_ld, np.int64),
        np.ones(n_dims),
        np.zeros(n_ld, np.bool_),
    )
    pl = Placement(np.ones((n_mem, n_ld), np.int64), np.ones(n_mem), np.ones((n_mem, len(OPERANDS))))
    lp = Loops(
        np.zeros((n_ld, MAX_LOOPS), np.int64),
        np.zeros(n_ld, np.int64),
        np.zeros(n_perm, np.int64),
        np.zeros(n_perm, np.int64),
        np.zeros(MAX_LOOPS, np.int64),
        np.ones(MAX_LOOPS, np.int64),
    )
    cands = Candidates(np.zeros(n_cands), np.zeros(n_cands), np.zeros((n_cands, 4), np.int64))
    r = n_perm + 1
    tree = Tree(
        np.zeros((r, N_OPS, n_mem), np.int64),
        np.ones((r, N_OPS, N_DIMS), np.int64),
        np.zeros((r, N_OPS), np.int64),
        np.zeros((r, N_OPS), np.int64),
        np.zeros((r, N_OPS), np.int64),
        np.zeros((r, 2), np.int64),
        np.zeros(r, np.int64),
        np.zeros(r, np.int64),
        np.zeros(r, np.int64),
        np.zeros(r),
        new_allocation(n_mem),
    )
    al, tt, lg = new_allocation(n_mem), new_tiles(MAX_LOOPS), new_ledger(n_mem, n_ports)
    return Scratch(sp, pl, lp, al, tt, lg, cands, tree)


@njit(cache=True)
def _view(archs: PackedArchitectures, a: int) -> ArchView:
    return ArchView(
        archs.n_mem[a],
        archs.mem_size[a],
        archs.mem_rpj[a],
        archs.mem_wpj[a],
        archs.mem_ops[a],
        archs.chain[a],
        archs.n_chain[a],
        archs.port_of[a],
        archs.bw_max[a],
        archs.bw_min[a],
        archs.prec[a],
    )


# --------------------------------------------------------------------------- the driver
#: pairs per thread below which :func:`evaluate_pairs` stays on one thread
PARALLEL_MIN_PAIRS = 32


@njit(cache=True)
def _evaluate_all(
    archs: PackedArchitectures,
    layer_shape: np.ndarray,
    layer_macs: np.ndarray,
    pair_mac_e: np.ndarray,
    arch_index: np.ndarray,
    layer_index: np.ndarray,
    max_orders: int,
    split: bool,
    goal: int,
    out: PairResults,
) -> None:
    n = len(arch_index)
    _evaluate_range(
        archs,
        layer_shape,
        layer_macs,
        pair_mac_e,
        arch_index,
        layer_index,
        max_orders,
        split,
        goal,
        out,
        0,
        n,
    )


@njit(cache=True, parallel=True)
def _evaluate_all_threads(
    archs: PackedArchitectures,
    layer_shape: np.ndarray,
    layer_macs: np.ndarray,
    pair_mac_e: np.ndarray,
    arch_index: np.ndarray,
    layer_index: np.ndarray,
    max_orders: int,
    split: bool,
    goal: int,
    out: PairResults,
    n_chunks: int,
) -> None:
    """:func:`_evaluate_all` with the pairs split in ``n_chunks`` runs across numba's threads
    (each with its own scratch; every pair's result is computed exactly as on one thread)."""
    n = len(arch_index)
    for c in prange(n_chunks):
        lo, hi = c * n // n_chunks, (c + 1) * n // n_chunks
        _evaluate_range(
            archs,
            layer_shape,
            layer_macs,
            pair_mac_e,
            arch_index,
            layer_index,
            max_orders,
            split,
            goal,
            out,
            lo,
            hi,
        )


@njit(cache=True)
def _evaluate_range(
    archs: PackedArchitectures,
    layer_shape: np.ndarray,
    layer_macs: np.ndarray,
    pair_mac_e: np.ndarray,
    arch_index: np.ndarray,
    layer_index: np.ndarray,
    max_orders: int,
    split: bool,
    goal: int,
    out: PairResults,
    lo: int,
    hi: int,
) -> None:
    """Pairs ``lo..hi-1`` with one scratch: the loop both drivers run."""
    per_perm = _SPLIT_OPTIONS if split else 1
    ws = _scratch(
        archs.arr_size.shape[1], archs.mem_size.shape[1], archs.bw_max.shape[2], max(1, max_orders) * per_perm
    )
    for q in range(lo, hi):
        _evaluate_pair(
            archs,
            layer_shape,
            layer_macs,
            pair_mac_e,
            arch_index,
            layer_index,
            max_orders,
            per_perm,
            goal,
            out,
            ws,
            q,
        )


@njit(cache=True)
def _evaluate_pair(
    archs: PackedArchitectures,
    layer_shape: np.ndarray,
    layer_macs: np.ndarray,
    pair_mac_e: np.ndarray,
    arch_index: np.ndarray,
    layer_index: np.ndarray,
    max_orders: int,
    per_perm: int,
    goal: int,
    out: PairResults,
    ws: Scratch,
    q: int,
) -> None:
    """Pair ``q``'s three steps (spatial, search, output) in the scratch ``ws``."""
    a = arch_index[q]
    shape = layer_shape[layer_index[q]]
    av = _view(archs, a)
    drain = _spatial_step(archs, a, shape, ws.sp, ws.pl)
    n_perm = _loop_factors(ws.sp.temporal, ws.lp)
    pick = _search(
        av, shape, ws, n_perm, drain, pair_mac_e[q], archs.cycles_per_iteration[a], max_orders, per_perm, goal
    )
    _output_step(
        av, shape, ws, n_perm, pick, drain, pair_mac_e[q], layer_macs[layer_index[q]], archs, a, q, out
    )


# --------------------------------------------------------------------------- 1. spatial
@njit(cache=True)
def _spatial_step(archs: PackedArchitectures, a: int, shape: np.ndarray, sp: Spatial, pl: Placement) -> float:
    """Unroll the layer on the array, fill ``sp`` (what runs in time) and ``pl`` (per level what
    one instance holds and how many are active); return the systolic drain cycles."""
    nd = archs.n_dims[a]
    _unroll(archs, a, shape, sp)
    unroll_of, has, seq, cnt, used_eff = sp.unroll_of, sp.has, sp.seq, sp.cnt, sp.used_eff
    inside, act_nb, act_b = pl.inside, pl.act_nb, pl.act_b
    served = archs.mem_served[a]
    for m in range(archs.n_mem[a]):
        for ld in range(len(LAYER_DIMS)):
            inside[m, ld] = 1
        act_nb[m] = 1.0
        for op in range(len(OPERANDS)):
            act_b[m, op] = 1.0
        for d in range(nd):
            if served[m, d]:
                for ld in range(len(LAYER_DIMS)):
                    inside[m, ld] *= unroll_of[d, ld]
            else:
                act_nb[m] *= used_eff[d]
                for op in range(len(OPERANDS)):
                    if _unrolls_relevant(has, d, op):
                        act_b[m, op] *= used_eff[d]
    # results leave a systolic dimension one unit a cycle
    drain = 0.0
    for d in range(nd):
        if archs.systolic[a, d]:
            used = 1
            for s in range(cnt[d]):
                used *= unroll_of[d, seq[d, s]]
            drain += max(0, used - 1)
    return drain


@njit(cache=True)
def _unrolls_relevant(has: np.ndarray, d: int, op: int) -> bool:
    for ld in range(len(LAYER_DIMS)):  # noqa: SIM110 (a compiled loop)
        if has[d, ld] and REL[op, ld]:
            return True
    return False


@njit(cache=True)
def _unroll(archs: PackedArchitectures, a: int, shape: np.ndarray, sp: Spatial) -> None:
    """Each array dim unrolls its mapping's layer dims in order, each clipped to the extent
    left and the room left; then the temporal extents and the units in use per array dim."""
    nd = archs.n_dims[a]
    n_ld = len(LAYER_DIMS)
    unroll_of, has, seq, cnt, left = sp.unroll_of, sp.has, sp.seq, sp.cnt, sp.left
    unroll, temporal, used_eff, counted = sp.unroll, sp.temporal, sp.used_eff, sp.counted
    sm_n, sm_ld, sm_f = archs.sm_n[a], archs.sm_ld[a], archs.sm_f[a]
    for d in range(n_ld):
        left[d] = shape[d]
    for d in range(nd):
        cnt[d] = 0
        for ld in range(n_ld):
            unroll_of[d, ld] = 1
            has[d, ld] = False
        room = archs.arr_size[a, d]
        for e in range(sm_n[d]):
            ld = sm_ld[d, e]
            if ld < 0:
                continue
            u = max(1, min(sm_f[d, e], min(left[ld], room)))
            if not has[d, ld]:
                has[d, ld] = True
                seq[d, cnt[d]] = ld
                cnt[d] += 1
            unroll_of[d, ld] *= u
            left[ld] = (left[ld] + u - 1) // u
            room //= u
    for ld in range(n_ld):
        unroll[ld] = 1
        for d in range(nd):
            unroll[ld] *= unroll_of[d, ld]
        temporal[ld] = (shape[ld] + unroll[ld] - 1) // unroll[ld]
        counted[ld] = False
    for d in range(nd):
        eff = 1.0
        for s in range(cnt[d]):
            ld = seq[d, s]
            u = unroll_of[d, ld]
            if counted[ld]:
                eff *= u
            else:
                eff *= shape[ld] / (unroll[ld] * temporal[ld]) * u
            counted[ld] = True
        used_eff[d] = eff


# --------------------------------------------------------------------------- 2. search
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
def _loop_factors(temporal: np.ndarray, lp: Loops) -> int:
    """Prime factors of every temporal extent; the permuted dims are those with more than
    one iteration. Returns how many are permuted (the permutation is reset)."""
    perm_dims, perm, factors, n_factors = lp.perm_dims, lp.perm, lp.factors, lp.n_factors
    n_perm = 0
    for t in range(len(_PERMUTED)):
        ld = _PERMUTED[t]
        if temporal[ld] > 1:
            perm_dims[n_perm] = ld
            n_perm += 1
    for ld in range(len(LAYER_DIMS)):
        n_factors[ld] = _prime_factors(temporal[ld], factors[ld])
    for t in range(n_perm):
        perm[t] = t
    return n_perm


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
def _build_loops(
    perm: np.ndarray,
    n_perm: int,
    perm_dims: np.ndarray,
    factors: np.ndarray,
    n_factors: np.ndarray,
    temporal: np.ndarray,
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
                        n_loops = _push_loop(loop_ld, loop_f, n_loops, ld, factors[ld, k])
            ld = B
        else:
            ld = G
        if t >= n_perm and temporal[ld] <= 1:
            continue
        for k in range(n_factors[ld]):
            if t == split_t and (k < split_k) != (split_dir == 0):
                continue
            n_loops = _push_loop(loop_ld, loop_f, n_loops, ld, factors[ld, k])
    return n_loops


@njit(cache=True)
def _push_loop(loop_ld: np.ndarray, loop_f: np.ndarray, n_loops: int, ld: int, f: int) -> int:
    loop_ld[n_loops] = ld
    loop_f[n_loops] = f
    return n_loops + 1


@njit(cache=True)
def _first_of_its_class(
    perm: np.ndarray, n_perm: int, perm_dims: np.ndarray, n_factors: np.ndarray, top: int
) -> bool:
    """Whether permutation ``perm`` (grouped factors, no split) is the first, in the search
    order, of the orders it cannot differ from.

    Loops from index ``top`` on lie above every operand's outermost boundary: they change
    neither the allocation nor any tile; they only set, per operand, the run of loops
    irrelevant to it right above a boundary (its stationarity). Each permuted dimension is
    irrelevant to exactly one operand, so the suffix of dimensions placed after ``top``
    matters only through its leading run of dimensions irrelevant to the same operand, as a
    set. The first order with a given prefix and run set has the run ascending, then the
    smallest other dimension not irrelevant to that operand, then the rest ascending.
    """
    pos, r = 0, 0
    while r < n_perm and pos < top:
        pos += n_factors[perm_dims[perm[r]]]
        r += 1
    if r >= n_perm - 1:
        return True
    cls = _IRRELEVANT_TO[perm_dims[perm[r]]]
    for t in range(r, n_perm):
        if _IRRELEVANT_TO[perm_dims[perm[t]]] < 0:
            return True  # not a single operand's: no shortcut
    t = r + 1
    while t < n_perm and _IRRELEVANT_TO[perm_dims[perm[t]]] == cls:
        if perm[t] < perm[t - 1]:
            return False
        t += 1
    for u in range(t + 1, n_perm):
        if perm[u] < perm[t] and _IRRELEVANT_TO[perm_dims[perm[u]]] != cls:
            return False
        if u > t + 1 and perm[u] < perm[u - 1]:
            return False
    return True


#: the mirror image of a layer dimension: OX <-> OY and FX <-> FY (the others are their own)
_MIRROR = np.arange(N_DIMS, dtype=np.int64)
_MIRROR[OX], _MIRROR[OY], _MIRROR[FX], _MIRROR[FY] = OY, OX, FY, FX


@njit(cache=True)
def _mirror_table(
    shape: np.ndarray,
    temporal: np.ndarray,
    inside: np.ndarray,
    n_mem: int,
    perm_dims: np.ndarray,
    n_perm: int,
) -> np.ndarray:
    """Per permuted position, the position of its mirror-image dimension (``[-1]``: the pair is
    not symmetric).

    A layer and unrolling that look the same with rows and columns swapped (square output,
    kernel and input, the same unrolling of OX as of OY and of FX as of FY in every memory,
    hence the same temporal factors) cost the same under an order and under its mirror
    image: every footprint, allocation, refill and port transfer is computed from the same
    integers (OX and OY, FX and FY have the same relevance to every operand).
    """
    out = np.full(max(1, n_perm), -1, np.int64)
    if shape[OX] != shape[OY] or shape[FX] != shape[FY] or shape[N_DIMS + 1] != shape[N_DIMS + 2]:
        return out
    if temporal[OX] != temporal[OY] or temporal[FX] != temporal[FY]:
        return out
    for m in range(n_mem):
        if inside[m, OX] != inside[m, OY] or inside[m, FX] != inside[m, FY]:
            return out
    for t in range(n_perm):
        for u in range(n_perm):
            if perm_dims[u] == _MIRROR[perm_dims[t]]:
                out[t] = u
    return out


@njit(cache=True)
def _mirrored_earlier(perm: np.ndarray, n_perm: int, mirror: np.ndarray) -> bool:
    """Whether the mirror image of ``perm`` comes before it in the search order."""
    for t in range(n_perm):
        m = mirror[perm[t]]
        if m != perm[t]:
            return m < perm[t]
    return False


@njit(cache=True, inline="always")
def _goal_value(goal: int, lat: float, en: float) -> float:
    if goal == _GOAL_LATENCY:
        return lat
    if goal == _GOAL_ENERGY:
        return en
    return lat * en


@njit(cache=True, inline="always")
def _tie_value(goal: int, lat: float, en: float) -> float:
    return lat if goal == _GOAL_ENERGY else en


@njit(cache=True)
def _split_option(
    option: int, perm: np.ndarray, n_perm: int, perm_dims: np.ndarray, n_factors: np.ndarray
) -> tuple[int, int, int]:
    """``(t, k, dir)`` of split candidate ``option`` (``t = -1``: none or not applicable)."""
    if option == 0:
        return -1, 0, 0
    split_dir = (option - 1) % 2  # option - 1 = (t * MAX_LOOPS + k) * 2 + dir
    split_k = ((option - 1) // 2) % MAX_LOOPS
    split_t = (option - 1) // 2 // MAX_LOOPS
    # a split of the outermost permuted dim would change nothing
    if split_t >= n_perm - 1 or split_k < 1 or split_k >= n_factors[perm_dims[perm[split_t]]]:
        return -2, 0, 0
    return split_t, split_k, split_dir


@njit(cache=True)
def _search(
    av: ArchView,
    shape: np.ndarray,
    ws: Scratch,
    n_perm: int,
    drain: float,
    mac_e: float,
    cpi: float,
    max_orders: int,
    per_perm: int,
    goal: int,
) -> int:
    """Cost every candidate order; return the index in ``ws.cands`` of the best by ``goal``
    (ties within the factor :data:`TIE` go to the least energy, or for the energy goal the fastest; the
    first one wins)."""
    if per_perm == 1 and max_orders >= _FACTORIAL[n_perm] and n_perm >= TREE_MIN_DIMS:
        return _search_tree(av, shape, ws, n_perm, drain, mac_e, cpi, goal)
    perm, perm_dims, factors, n_factors = ws.lp.perm, ws.lp.perm_dims, ws.lp.factors, ws.lp.n_factors
    loop_ld, loop_f, temporal_d = ws.lp.loop_ld, ws.lp.loop_f, ws.sp.temporal
    c_lat, c_en, c_key = ws.cands.lat, ws.cands.en, ws.cands.key
    n_cand, n_perms, best = 0, 0, np.inf
    mirror = _mirror_table(shape, temporal_d, ws.pl.inside, av.n_mem, perm_dims, n_perm)
    while True:
        if mirror[0] >= 0 and _mirrored_earlier(perm, n_perm, mirror):
            n_perms += 1  # costs exactly what its mirror image, an earlier order, costs
            if n_perms >= max_orders or not _next_permutation(perm, n_perm):
                break
            continue
        for option in range(per_perm):
            split_t, split_k, split_dir = _split_option(option, perm, n_perm, perm_dims, n_factors)
            if split_t == -2:
                continue
            n_loops = _build_loops(
                perm,
                n_perm,
                perm_dims,
                factors,
                n_factors,
                temporal_d,
                split_t,
                split_k,
                split_dir,
                loop_ld,
                loop_f,
            )
            if goal != _GOAL_ENERGY and best < np.inf:
                temporal, bound = innermost_stall(loop_ld, loop_f, n_loops, av, ws.pl, shape, ws.lg.port, cpi)
                lat_bound = temporal + bound + drain
                if _goal_value(goal, lat_bound, mac_e) > best * TIE:
                    continue  # past the tie band whatever the rest costs: not a candidate
            top = allocate(loop_ld, loop_f, n_loops, av, ws.pl, shape, ws.al)
            if option == 0 and not _first_of_its_class(perm, n_perm, perm_dims, n_factors, top):
                continue  # costs what an earlier order cost
            lat_limit, en_limit = _limits(goal, best, drain, mac_e)
            cost = cost_order(
                loop_ld, loop_f, n_loops, av, ws.pl, ws.al, shape, ws.tt, ws.lg, cpi, lat_limit, en_limit
            )
            lat, en = _latency_energy(cost, drain, mac_e, ws.lg.level[ENERGY], av.n_mem)
            c_lat[n_cand] = lat
            c_en[n_cand] = en
            c_key[n_cand, 0] = n_perms
            c_key[n_cand, 1] = split_t
            c_key[n_cand, 2] = split_k
            c_key[n_cand, 3] = split_dir
            best = min(best, _goal_value(goal, lat, en))
            n_cand += 1
        n_perms += 1
        if n_perms >= max_orders or not _next_permutation(perm, n_perm):
            break
    return _pick(goal, n_cand, best, c_lat, c_en)


# ------------------------------------------------------------------ 2b. search as a tree
@njit(cache=True)
def _search_tree(
    av: ArchView,
    shape: np.ndarray,
    ws: Scratch,
    n_perm: int,
    drain: float,
    mac_e: float,
    cpi: float,
    goal: int,
) -> int:
    """:func:`_search` over every permutation (grouped factors, no split), as a depth-first
    walk of the permutation tree in the search order (position ``r`` of the order is depth
    ``r``, innermost first), with the same candidates, keys and pick.

    The allocation of the loops placed so far is kept per depth (:class:`Tree`), so each
    order only allocates the loops that differ from the previous order's. A subtree is
    dropped whole when no order in it can be the pick or lower the best: its mirror image
    comes earlier (:func:`_mirrored_earlier` is decided by the first non-self-mirrored dim),
    or a lower bound of the mapper goal over the subtree is past the tie band of the best so
    far: the stall of the innermost level (:func:`innermost_stall`, fixed once the innermost
    run and the dim after it are placed) and the cost terms its prefix fixes
    (:func:`_prefix_bound`).
    """
    perm, perm_dims, factors, n_factors = ws.lp.perm, ws.lp.perm_dims, ws.lp.factors, ws.lp.n_factors
    loop_ld, loop_f, temporal_d = ws.lp.loop_ld, ws.lp.loop_f, ws.sp.temporal
    c_lat, c_en, c_key = ws.cands.lat, ws.cands.en, ws.cands.key
    tr, al = ws.tree, ws.al
    child, pos, last_red, goal_lb = tr.child, tr.pos, tr.last_red, tr.goal_lb
    a_arrays = (al.bound, al.ext, al.fpc, al.lv, al.nb, al.state)
    t_arrays = (tr.bound, tr.ext, tr.fpc, tr.lv, tr.nb, tr.state)
    mirror = _mirror_table(shape, temporal_d, ws.pl.inside, av.n_mem, perm_dims, n_perm)
    big = MAX_LOOPS + 1  # past every loop index: a reduction loop is still to come
    n_cand, best = 0, np.inf
    allocation_start(av, ws.pl, shape, al, big if _reduction_left(perm, 0, perm_dims, n_perm) else -1)
    _copy_allocation(*a_arrays, *t_arrays, 0, True)
    child[0], pos[0], last_red[0], goal_lb[0] = 0, 0, -1, 0.0
    d, fresh = 0, True  # fresh: ``al`` is the allocation saved at depth d
    while d >= 0:
        c = _next_child(perm, d, child[d], n_perm)
        if c >= n_perm or (best < np.inf and goal_lb[d] > best * TIE):
            d, fresh = d - 1, False  # no child left, or none can be a candidate any more
            continue
        child[d] = c + 1
        perm[d] = c
        if mirror[0] >= 0 and _mirrored_earlier(perm, d + 1, mirror):
            continue  # every order below costs exactly what its mirror image, an earlier order, costs
        ld = perm_dims[c]
        hi = _push_factors(loop_ld, loop_f, pos[d], ld, factors, n_factors)
        pos[d + 1] = hi
        last_red[d + 1] = hi - 1 if REDUCTION[ld] else last_red[d]
        goal_lb[d + 1] = goal_lb[d]
        if goal != _GOAL_ENERGY and _decides_innermost_run(perm, d + 1, perm_dims, n_perm):
            n_loops = _push_completion(perm, d + 1, n_perm, perm_dims, factors, n_factors, temporal_d, loop_ld, loop_f, hi)  # fmt: skip
            temporal, bound = innermost_stall(loop_ld, loop_f, n_loops, av, ws.pl, shape, ws.lg.port, cpi)
            goal_lb[d + 1] = max(goal_lb[d + 1], _goal_value(goal, temporal + bound + drain, mac_e))
        if best < np.inf and goal_lb[d + 1] > best * TIE:
            continue  # past the tie band whatever the rest costs: no order below is a candidate
        if not fresh:
            _copy_allocation(*a_arrays, *t_arrays, d, False)
        fresh = False
        left = _reduction_left(perm, d + 1, perm_dims, n_perm)
        allocate_loops(loop_ld, loop_f, pos[d], hi, big if left else last_red[d + 1], av, ws.pl, shape, al)
        if best < np.inf and d + 1 <= n_perm - PREFIX_BOUND_MIN_LEFT:
            n_loops = _push_completion(perm, d + 1, n_perm, perm_dims, factors, n_factors, temporal_d, loop_ld, loop_f, hi)  # fmt: skip
            lat_b, en_b = _prefix_bound(
                loop_ld, loop_f, n_loops, hi, av, ws.pl, al, tr.al, shape, ws.tt, ws.lg, cpi, drain, mac_e, goal, best
            )  # fmt: skip
            goal_lb[d + 1] = max(goal_lb[d + 1], _goal_value(goal, lat_b, en_b))
            if goal_lb[d + 1] > best * TIE:
                continue  # no order below reaches the tie band
        if d + 1 < n_perm:
            _copy_allocation(*a_arrays, *t_arrays, d + 1, True)
            child[d + 1] = 0
            d, fresh = d + 1, True
            continue
        # a leaf: a whole order
        n_loops = _push_outer(loop_ld, loop_f, hi, temporal_d, factors, n_factors)
        allocate_loops(loop_ld, loop_f, hi, n_loops, last_red[d + 1], av, ws.pl, shape, al)
        top = allocation_end(n_loops, av, al)
        if not _first_of_its_class(perm, n_perm, perm_dims, n_factors, top):
            continue  # costs what an earlier order cost
        lat_limit, en_limit = _limits(goal, best, drain, mac_e)
        cost = cost_order(
            loop_ld, loop_f, n_loops, av, ws.pl, al, shape, ws.tt, ws.lg, cpi, lat_limit, en_limit
        )
        lat, en = _latency_energy(cost, drain, mac_e, ws.lg.level[ENERGY], av.n_mem)
        c_lat[n_cand], c_en[n_cand] = lat, en
        c_key[n_cand, 0], c_key[n_cand, 1], c_key[n_cand, 2], c_key[n_cand, 3] = _rank(perm, n_perm), -1, 0, 0
        best = min(best, _goal_value(goal, lat, en))
        n_cand += 1
    return _pick(goal, n_cand, best, c_lat, c_en)


@njit(cache=True)
def _limits(goal: int, best: float, drain: float, mac_e: float) -> tuple[float, float]:
    """:func:`cost_order`'s ``(lat_limit, en_limit)``: past them an order is past the tie band."""
    lat_limit = best * TIE - drain if goal == _GOAL_LATENCY else np.inf
    en_limit = best * TIE - mac_e if goal == _GOAL_ENERGY else np.inf
    return lat_limit, en_limit


@njit(cache=True)
def _latency_energy(
    cost: tuple[float, float, float, float], drain: float, mac_e: float, level_energy: np.ndarray, n_mem: int
) -> tuple[float, float]:
    """``(latency, energy)`` from :func:`cost_order`'s result (energy ``inf`` if it stopped early)."""
    temporal, stall, onload, offload = cost
    energy = 0.0
    for m in range(n_mem):
        energy += level_energy[m]
    return temporal + stall + onload + offload + drain, mac_e + energy if stall < np.inf else np.inf


#: permuted dims from which :func:`_search` walks the tree (fewer: a few orders, which the
#: lexicographic loop costs faster than the walk bounds them; measured on MobileNetV2)
TREE_MIN_DIMS = 5
#: permuted dims left below which :func:`_search_tree` bounds no prefix (a subtree of fewer
#: orders costs about as much to cost as to bound)
PREFIX_BOUND_MIN_LEFT = 2


@njit(cache=True)
def _prefix_bound(
    loop_ld: np.ndarray,
    loop_f: np.ndarray,
    n_loops: int,
    upto: int,
    av: ArchView,
    pl: Placement,
    al: Allocation,
    scratch: Allocation,
    shape: np.ndarray,
    tt: Tiles,
    lg: Ledger,
    cpi: float,
    drain: float,
    mac_e: float,
    goal: int,
    best: float,
) -> tuple[float, float]:
    """``(latency, energy)`` lower bounds of every order whose first ``upto`` loops are those
    of ``loop_ld`` (allocated in ``al``; the rest of ``loop_ld`` is any completion).

    Why it is a bound, bit for bit: the allocation of the first ``upto`` loops does not
    depend on the loops above (greedy and bottom-up; the output precision only asks whether
    a reduction loop is still to come, a property of the set of dims above), and a level
    boundary placed among them stays where it is. Given the boundary ``k`` of an (operand,
    level), its costs read the extents below ``k`` (the prefix), the loops above the first
    relevant loop above ``k`` (a product fixed by the prefix once that loop is in it), the
    relevant loops above ``k`` and whether a reduction loop runs above it (products and
    properties of a set). So each term :func:`cost_order` counts with ``upto`` is the same
    number in every order of the subtree; the terms it leaves out are non-negative, and a
    rounded sum of non-negative terms taken in the same order never decreases when a term
    is added, nor does a maximum; latency and energy are such sums and maxima. A subtree is
    also past the limits that :func:`cost_order` stops at when its bound is.
    """
    bound, nb, n_chain = scratch.bound, al.nb, av.n_chain
    for op in range(N_OPS):
        for j in range(n_chain[op]):
            bound[op, j] = al.bound[op, j] if j < nb[op] else n_loops  # not placed yet: past the prefix
    lat_limit, en_limit = _limits(goal, best, drain, mac_e)
    cost = cost_order(
        loop_ld, loop_f, n_loops, av, pl, scratch, shape, tt, lg, cpi, lat_limit, en_limit, upto
    )
    return _latency_energy(cost, drain, mac_e, lg.level[ENERGY], av.n_mem)


@njit(cache=True)
def _pick(goal: int, n_cand: int, best: float, c_lat: np.ndarray, c_en: np.ndarray) -> int:
    """The first candidate within the tie band of ``best`` with the least tie value."""
    pick, pick_t = 0, np.inf
    for k in range(n_cand):
        lat, en = c_lat[k], c_en[k]
        if _goal_value(goal, lat, en) <= best * TIE and _tie_value(goal, lat, en) < pick_t:
            pick, pick_t = k, _tie_value(goal, lat, en)
    return pick


@njit(cache=True)
def _next_child(perm: np.ndarray, r: int, start: int, n_perm: int) -> int:
    """The smallest dim index ``>= start`` not in ``perm[:r]`` (``n_perm``: none)."""
    c = start
    while c < n_perm:
        free = True
        for t in range(r):
            if perm[t] == c:
                free = False
                break
        if free:
            return c
        c += 1
    return n_perm


@njit(cache=True)
def _reduction_left(perm: np.ndarray, r: int, perm_dims: np.ndarray, n_perm: int) -> bool:
    """Whether a reduction dim is among the permuted dims not in ``perm[:r]``."""
    for u in range(n_perm):
        if REDUCTION[perm_dims[u]]:
            placed = False
            for t in range(r):
                if perm[t] == u:
                    placed = True
            if not placed:
                return True
    return False


@njit(cache=True)
def _decides_innermost_run(perm: np.ndarray, r: int, perm_dims: np.ndarray, n_perm: int) -> bool:
    """Whether ``perm[:r]`` is the shortest prefix that fixes :func:`innermost_stall`: the run
    of dims irrelevant to the innermost dim's operand and the dim after it (or every dim)."""
    cls = _IRRELEVANT_TO[perm_dims[perm[0]]]
    for t in range(1, r - 1):
        if _IRRELEVANT_TO[perm_dims[perm[t]]] != cls:
            return False
    if r >= 2 and _IRRELEVANT_TO[perm_dims[perm[r - 1]]] != cls:
        return True
    return r == n_perm


@njit(cache=True)
def _push_factors(
    loop_ld: np.ndarray, loop_f: np.ndarray, at: int, ld: int, factors: np.ndarray, n_factors: np.ndarray
) -> int:
    """Write dim ``ld``'s loops (its prime factors, largest first) from ``at``; returns the end."""
    for k in range(n_factors[ld]):
        at = _push_loop(loop_ld, loop_f, at, ld, factors[ld, k])
    return at


@njit(cache=True)
def _push_outer(
    loop_ld: np.ndarray,
    loop_f: np.ndarray,
    at: int,
    temporal: np.ndarray,
    factors: np.ndarray,
    n_factors: np.ndarray,
) -> int:
    """Write the B and G loops above the permuted dims (as :func:`_build_loops`)."""
    for ld in (B, G):
        if temporal[ld] > 1:
            at = _push_factors(loop_ld, loop_f, at, ld, factors, n_factors)
    return at


@njit(cache=True)
def _push_completion(
    perm: np.ndarray,
    r: int,
    n_perm: int,
    perm_dims: np.ndarray,
    factors: np.ndarray,
    n_factors: np.ndarray,
    temporal: np.ndarray,
    loop_ld: np.ndarray,
    loop_f: np.ndarray,
    at: int,
) -> int:
    """Complete the loops of ``perm[:r]`` (written up to ``at``) with the first order of its
    subtree (the other dims ascending, then B and G); returns the number of loops."""
    c = _next_child(perm, r, 0, n_perm)
    while c < n_perm:
        at = _push_factors(loop_ld, loop_f, at, perm_dims[c], factors, n_factors)
        c = _next_child(perm, r, c + 1, n_perm)
    return _push_outer(loop_ld, loop_f, at, temporal, factors, n_factors)


@njit(cache=True)
def _rank(perm: np.ndarray, n_perm: int) -> int:
    """The position of ``perm`` in the search order (its Lehmer code)."""
    rank = 0
    for i in range(n_perm):
        smaller = 0
        for j in range(i + 1, n_perm):
            if perm[j] < perm[i]:
                smaller += 1
        rank += smaller * _FACTORIAL[n_perm - 1 - i]
    return rank


@njit(cache=True)
def _copy_allocation(
    bound: np.ndarray,
    ext: np.ndarray,
    fpc: np.ndarray,
    lv: np.ndarray,
    nb: np.ndarray,
    st: np.ndarray,
    t_bound: np.ndarray,
    t_ext: np.ndarray,
    t_fpc: np.ndarray,
    t_lv: np.ndarray,
    t_nb: np.ndarray,
    t_st: np.ndarray,
    r: int,
    save: bool,
) -> None:
    """Copy an :class:`Allocation`'s arrays to (``save``) or from depth ``r`` of the
    :class:`Tree`'s, element by element (numba's whole-array assignment checks for overlap
    and may copy twice; and passing the named tuples costs more than the copy)."""
    for op in range(N_OPS):
        for m in range(bound.shape[1]):
            if save:
                t_bound[r, op, m] = bound[op, m]
            else:
                bound[op, m] = t_bound[r, op, m]
        for d in range(N_DIMS):
            if save:
                t_ext[r, op, d] = ext[op, d]
            else:
                ext[op, d] = t_ext[r, op, d]
        if save:
            t_fpc[r, op], t_lv[r, op], t_nb[r, op] = fpc[op], lv[op], nb[op]
        else:
            fpc[op], lv[op], nb[op] = t_fpc[r, op], t_lv[r, op], t_nb[r, op]
    for k in range(st.shape[0]):
        if save:
            t_st[r, k] = st[k]
        else:
            st[k] = t_st[r, k]


# --------------------------------------------------------------------------- 3. output
@njit(cache=True)
def _output_step(
    av: ArchView,
    shape: np.ndarray,
    ws: Scratch,
    n_perm: int,
    pick: int,
    drain: float,
    mac_e: float,
    macs: float,
    archs: PackedArchitectures,
    a: int,
    q: int,
    out: PairResults,
) -> None:
    """Rebuild candidate ``pick``, cost it in full and write pair ``q``'s row of ``out``."""
    perm, perm_dims, factors, n_factors = ws.lp.perm, ws.lp.perm_dims, ws.lp.factors, ws.lp.n_factors
    loop_ld, loop_f, key = ws.lp.loop_ld, ws.lp.loop_f, ws.cands.key
    for t in range(n_perm):
        perm[t] = t
    for _ in range(key[pick, 0]):
        _next_permutation(perm, n_perm)
    n_loops = _build_loops(
        perm, n_perm, perm_dims, factors, n_factors, ws.sp.temporal, key[pick, 1], key[pick, 2], key[pick, 3],
        loop_ld, loop_f,
    )  # fmt: skip
    allocate(loop_ld, loop_f, n_loops, av, ws.pl, shape, ws.al)
    _cost_and_write(av, shape, ws, n_loops, drain, mac_e, macs, archs, a, q, out)


@njit(cache=True)
def _cost_and_write(
    av: ArchView,
    shape: np.ndarray,
    ws: Scratch,
    n_loops: int,
    drain: float,
    mac_e: float,
    macs: float,
    archs: PackedArchitectures,
    a: int,
    q: int,
    out: PairResults,
) -> None:
    """Cost the allocated loops of ``ws`` in full and write pair ``q``'s row of ``out``."""
    loop_ld, loop_f = ws.lp.loop_ld, ws.lp.loop_f
    for i in range(n_loops):
        out.order[q, i] = loop_ld[i]
    cpi = archs.cycles_per_iteration[a]
    temporal, stall, onload, offload = cost_order(
        loop_ld, loop_f, n_loops, av, ws.pl, ws.al, shape, ws.tt, ws.lg, cpi, np.inf, np.inf
    )
    latency = temporal + stall + onload + offload + drain
    level = ws.lg.level
    lv_sum = 0.0
    for m in range(av.n_mem):
        lv_sum += level[ENERGY, m]
        out.reads[q, m] = level[READS, m]
        out.writes[q, m] = level[WRITES, m]
        out.level_energy[q, m] = level[ENERGY, m]
    units = archs.units[a]
    ideal = math.ceil(math.ceil(macs / units) * cpi)
    row = out.scalars[q]
    row[COL_LATENCY] = latency
    row[COL_IDEAL] = ideal
    row[COL_TEMPORAL] = temporal
    row[COL_STALL] = stall
    row[COL_ONLOAD] = onload
    row[COL_OFFLOAD] = offload
    row[COL_DRAIN] = drain
    row[COL_ENERGY] = mac_e + lv_sum
    row[COL_MAC_ENERGY] = mac_e
    row[COL_SPATIAL_UTIL] = ideal / temporal
    row[COL_UTIL] = macs * cpi / (latency * units)


# =========================================================================== a given mapping
def cost_mapping(
    archs: PackedArchitectures,
    layer_shape: np.ndarray,
    layer_macs: float,
    mac_energy: float,
    loops: np.ndarray,
    bounds: np.ndarray | None = None,
) -> tuple[PairResults, np.ndarray, int]:
    """Cost one given temporal mapping of one layer (``layer_shape``: a row of
    :func:`pack_layers`) on the one architecture in ``archs`` (its spatial mapping as packed).

    ``loops``: ``(n, 2)`` rows ``(layer dim index, factor)``, innermost first. ``bounds``:
    ``(3, M)`` per operand the number of loops at or below each of its levels (innermost
    first; the last = n), or ``None`` for the model's greedy bottom-up allocation.

    Returns ``(results, temporal extents, over)``: ``results`` (one row), the temporal
    extent of each layer dimension after the spatial unrolling (the product of ``loops``'
    factors per dimension must equal it; the caller checks), and the index of the first
    memory level whose tiles exceed its size (-1: the mapping fits).
    """
    out = PairResults(
        np.zeros((1, len(SCALARS))),
        np.zeros((1, MAX_MEMORIES)),
        np.zeros((1, MAX_MEMORIES)),
        np.zeros((1, MAX_MEMORIES)),
        np.full((1, MAX_LOOPS), -1, np.int64),
    )
    loops = np.ascontiguousarray(loops, np.int64).reshape(-1, 2)
    if len(loops) > MAX_LOOPS:
        raise ValueError(f"at most {MAX_LOOPS} temporal loops, got {len(loops)}")
    given = np.full((len(OPERANDS), MAX_MEMORIES), -1, np.int64)
    if bounds is not None:
        b = np.asarray(bounds, np.int64)
        given[:, : b.shape[1]] = b
    temporal = np.ones(len(LAYER_DIMS), np.int64)
    over = _cost_given(
        archs,
        np.ascontiguousarray(layer_shape, np.int64),
        float(layer_macs),
        float(mac_energy),
        loops[:, 0].copy(),
        loops[:, 1].copy(),
        len(loops),
        given,
        bounds is not None,
        temporal,
        out,
    )
    return out, temporal, int(over)


@njit(cache=True)
def _cost_given(
    archs: PackedArchitectures,
    shape: np.ndarray,
    macs: float,
    mac_e: float,
    loop_ld: np.ndarray,
    loop_f: np.ndarray,
    n_loops: int,
    given: np.ndarray,
    use_given: bool,
    temporal_out: np.ndarray,
    out: PairResults,
) -> int:
    ws = _scratch(archs.arr_size.shape[1], archs.mem_size.shape[1], archs.bw_max.shape[2], 1)
    av = _view(archs, 0)
    drain = _spatial_step(archs, 0, shape, ws.sp, ws.pl)
    for ld in range(len(LAYER_DIMS)):
        temporal_out[ld] = ws.sp.temporal[ld]
    for i in range(n_loops):
        ws.lp.loop_ld[i] = loop_ld[i]
        ws.lp.loop_f[i] = loop_f[i]
    allocate(ws.lp.loop_ld, ws.lp.loop_f, n_loops, av, ws.pl, shape, ws.al)
    if use_given:
        for op in range(len(OPERANDS)):
            for j in range(av.n_chain[op]):
                ws.al.bound[op, j] = given[op, j]
    over = _capacity_violation(av, ws, n_loops, shape)
    _cost_and_write(av, shape, ws, n_loops, drain, mac_e, macs, archs, 0, 0, out)
    return over


@njit(cache=True)
def _capacity_violation(av: ArchView, ws: Scratch, n_loops: int, shape: np.ndarray) -> int:
    """The first memory level whose operands' tiles (over the loops allocated to and below
    it) exceed its size; -1 if none."""
    stride, in_h, in_w = shape[N_DIMS], shape[N_DIMS + 1], shape[N_DIMS + 2]
    chain, n_chain, bound, inside = av.chain, av.n_chain, ws.al.bound, ws.pl.inside
    cum, e1 = ws.tt.cum, ws.tt.e1
    tile_tables(ws.lp.loop_ld, ws.lp.loop_f, n_loops, ws.tt)
    last_red = last_reduction(ws.lp.loop_ld, ws.lp.loop_f, n_loops)
    held = np.zeros(av.n_mem)
    for op in range(len(OPERANDS)):
        for j in range(n_chain[op] - 1):  # the outermost level holds everything
            m = chain[op, j]
            for d in range(N_DIMS):
                e1[d] = inside[m, d] * cum[bound[op, j], d]
            bits = av.prec[op]
            if op == O_OP:
                bits = output_bits(
                    inside, chain, n_chain, av.prec, j, bound[op, j - 1] if j > 0 else 0, last_red
                )
            held[m] += footprint(op, e1, stride, in_h, in_w) * bits
    for m in range(av.n_mem):
        if held[m] > av.mem_size[m]:
            return m
    return -1
