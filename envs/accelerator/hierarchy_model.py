"""Cost of one layer on a general :class:`~.architecture.Architecture`, with its own mapper.

Model (the loop-nest analysis of Timeloop, Parashar et al. ISPASS 2019, and ZigZag, Mei et al.
IEEE TC 2021; written from their papers, not their code):

1. **Spatial unrolling.** Each array dimension unrolls the layer dimensions of the spatial
   mapping, each clipped to the layer's extent and the room left. What is left runs in time:
   ``T[d] = ceil(D[d] / unroll[d])``; ``prod(T)`` is the ideal number of cycles.
2. **Temporal mapping (the mapper).** The temporal loops, split into prime factors, are
   ordered innermost-first; for each order of the layer dimensions (a dimension's factors stay
   together, largest first; groups and batch outermost) the factors are assigned bottom-up to
   every operand's memory levels: a level takes loops while the tiles of all operands it
   holds still fit its size (an output tile with every reduction loop, temporal and spatial,
   below it holds final outputs, at their precision; otherwise partial sums, as ZigZag's LOMA
   memory allocator sizes them). A GEMM on an architecture read from ZigZag's files uses
   only the mapping entries on a GEMM's loops (:meth:`~.architecture.Architecture.for_kind`).
   The mapper keeps the best order by its goal (``mapper_objective``, as ZigZag's ``opt``):
   ``latency`` (default; ties within 0.5 % go to the least energy), ``energy`` (ties to
   the least latency) or ``edp`` (energy x latency; ties to the least energy).
3. **Accesses.** A level's tile of an operand is its footprint over the loops below it and
   the spatial unrolling of the array dimensions the level serves (inputs: the sliding
   window ``(OX-1) stride + FX``, never beyond the real input). It is refilled once per
   iteration of the loops above it, except a run of loops irrelevant to the operand right
   above (the data stays: stationarity). Outputs go up after every refill; a refill that is
   not the first of its tile reads the partial sums back. Accesses are counted in words of
   the port's ``bw_max`` bits at ``bw_min`` granularity per transfer, as ZigZag counts them;
   energy = accesses x per-access energy + MACs x MAC energy (an in-memory-compute array:
   its macro model on the rows and columns in use, :mod:`.imc`).
4. **Latency** = ideal cycles + stalls + on-loading + off-loading + systolic drain (a
   bit-serial in-memory-compute array takes several cycles per temporal iteration; every
   period and window scales with it):
   * each transfer between two levels must fit its window: the time between refills if the
     tile fits in half the level (double buffering), otherwise only the last iterations of
     the innermost irrelevant loop run of that level; a port's stall sums over the transfers
     it carries, and the slowest port sets the stall (ports work in parallel);
   * on-loading: the first tile of every level of W and I is loaded before compute starts;
     off-loading: the last output tiles are written back after it (through their ports);
   * drain: results leave a systolic dimension one unit a cycle.

The mapper and cost run compiled (:mod:`.hierarchy_kernel`, numba), for any number of
(architecture, layer) pairs in one call: :func:`evaluate_layers` for one architecture,
:func:`evaluate_batch` for a batch of designs x a network.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import hierarchy_kernel as kernel
from .architecture import LAYER_DIMS, Architecture
from .imc import mapped_rows_cols
from .layers import Layer


@dataclass
class LevelRecord:
    """Accesses (words of the port width) and energy (pJ) of one memory level for one layer."""

    reads: float = 0.0
    writes: float = 0.0
    energy_pj: float = 0.0


@dataclass
class LayerCost:
    """One layer's result on one architecture."""

    name: str
    macs: float
    latency_cycles: float
    ideal_cycles: float
    temporal_cycles: float
    stall_cycles: float
    onload_cycles: float
    offload_cycles: float
    drain_cycles: float
    energy_pj: float
    mac_energy_pj: float
    levels: dict[str, LevelRecord]
    spatial_utilization: float
    utilization: float
    order: tuple[str, ...]

    def record(self) -> dict[str, object]:
        """Flat record: scalars plus ``accesses_<level>`` and ``energy_<level>_pj`` per level."""
        out: dict[str, object] = {
            "name": self.name,
            "macs": self.macs,
            "latency_cycles": self.latency_cycles,
            "energy_pj": self.energy_pj,
            "utilization": self.utilization,
            "spatial_utilization": self.spatial_utilization,
            "ideal_cycles": self.ideal_cycles,
            "temporal_cycles": self.temporal_cycles,
            "stall_cycles": self.stall_cycles,
            "onload_cycles": self.onload_cycles,
            "offload_cycles": self.offload_cycles,
            "drain_cycles": self.drain_cycles,
            "energy_mac_pj": self.mac_energy_pj,
        }
        for n, lv in self.levels.items():
            out[f"accesses_{n}"] = lv.reads + lv.writes
            out[f"energy_{n}_pj"] = lv.energy_pj
        return out


def layer_dims(layer: Layer) -> dict[str, int]:
    """A layer's extents in ZigZag's dimension names."""
    return {
        "B": layer.N,
        "K": layer.k_per_group,
        "G": layer.groups,
        "OX": layer.Q,
        "OY": layer.P,
        "C": layer.c_per_group,
        "FX": layer.S,
        "FY": layer.R,
    }


def spatial_unrolling(arch: Architecture, dims: dict[str, int]) -> dict[str, dict[str, int]]:
    """``{array dim: {layer dim: unroll}}`` after clipping to the layer and the array."""
    left = dict(dims)
    out: dict[str, dict[str, int]] = {}
    for d, size in arch.array.dims.items():
        room = size
        used: dict[str, int] = {}
        for ld, f in arch.spatial_mapping.get(d, ()):
            if ld not in left:
                continue
            u = max(1, min(int(f), left[ld], room))
            used[ld] = used.get(ld, 1) * u
            left[ld] = math.ceil(left[ld] / u)
            room //= u
        out[d] = used
    return out


def _divisors(n: int) -> list[int]:
    return [f for f in range(n, 0, -1) if n % f == 0]


def spatial_candidates(
    arch: Architecture, dims: dict[str, int], keep: int = 3
) -> list[dict[str, tuple[tuple[str, int], ...]]]:
    """The spatial mappings the mapper tries for a layer of extents ``dims``.

    Without :attr:`~.architecture.Architecture.spatial_hints`, the architecture's own. With
    them, as ZigZag's default spatial-mapping generator (Mei et al. IEEE TC 2021; not
    mixing layer dimensions on one array dimension): every hinted array dimension unrolls
    one of its hinted layer dimensions by a divisor of ``min(extent, array size)``; of the
    combinations that do not unroll a layer dimension beyond its extent, the ``keep`` with
    the most units in use are tried (ties: the more diverse unrolling, i.e. the smaller
    largest per-layer-dimension unrolling, then the larger unrollings of the first array
    dimensions first).
    """
    if not arch.spatial_hints:
        return [dict(arch.spatial_mapping)]
    fixed = spatial_unrolling(arch, dims)
    options = []
    for d, hinted in arch.spatial_hints.items():
        size, most = arch.array.dims[d], arch.spatial_limits.get(d, {})
        opts = [
            (ld, f) for ld in hinted if ld in dims for f in _divisors(min(dims[ld], size, most.get(ld, size)))
        ]
        options.append(sorted(opts, key=lambda o: -o[1]) or [(hinted[0], 1)])
    scored = []
    for rank, combo in enumerate(itertools.product(*options)):
        total = {ld: math.prod(u.values()) for ld, u in _per_layer_dim(fixed).items()}
        for ld, f in combo:
            total[ld] = total.get(ld, 1) * f
        if any(f > dims.get(ld, 1) for ld, f in total.items()):
            continue
        used = math.prod(total.values())
        scored.append((-(used + used / max(total.values()) - 1), rank, combo))
    scored.sort(key=lambda x: x[:2])
    out = []
    for _, _, combo in scored[:keep]:
        mapping = dict(arch.spatial_mapping)
        for d, (ld, f) in zip(arch.spatial_hints, combo):
            mapping[d] = ((ld, f),)
        out.append(mapping)
    return out


def _per_layer_dim(unrolling: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for d, used in unrolling.items():
        for ld, u in used.items():
            out.setdefault(ld, {})[d] = u
    return out


def unique_layers(layers: Sequence[Layer]) -> tuple[list[Layer], np.ndarray]:
    """The distinct layer shapes of ``layers`` and, per layer, the index of its shape."""
    first: dict[tuple, int] = {}
    distinct: list[Layer] = []
    where = np.empty(len(layers), np.int64)
    for i, layer in enumerate(layers):
        k = layer.shape_key
        if k not in first:
            first[k] = len(distinct)
            distinct.append(layer)
        where[i] = first[k]
    return distinct, where


def mac_energy_pj(arch: Architecture, layer: Layer) -> float:
    """MAC energy of ``layer`` on ``arch``: MACs x ``mac_pj``, or for an in-memory-compute
    array its macro model on the rows and columns the spatial unrolling uses (:mod:`.imc`)."""
    imc = arch.array.imc
    if imc is None:
        return float(layer.macs) * arch.array.mac_pj
    rows, cols = mapped_rows_cols(imc, spatial_unrolling(arch, layer_dims(layer)))
    return imc.layer_energy_pj(float(layer.macs), rows, cols)


def _pair_mac_energy(
    archs: Sequence[Architecture], layers: Sequence[Layer], ai: np.ndarray, li: np.ndarray
) -> np.ndarray | None:
    """Per-pair MAC energy when some architecture is IMC (None: the kernel's MACs x mac_pj)."""
    if all(a.array.imc is None for a in archs):
        return None
    return np.array([mac_energy_pj(archs[a], layers[q]) for a, q in zip(ai.tolist(), li.tolist())])


@dataclass(frozen=True)
class BatchCosts:
    """Per (design, layer) results of :func:`evaluate_batch`: arrays shaped ``(designs, layers)``
    (``reads``, ``writes``, ``level_energy_pj``: ``(designs, layers, memories)``)."""

    scalars: dict[str, np.ndarray]
    reads: np.ndarray
    writes: np.ndarray
    level_energy_pj: np.ndarray


MAPPER_OBJECTIVES = kernel.MAPPER_OBJECTIVES


def check_mapper_objective(objective: str) -> str:
    """``objective`` if it is one of :data:`MAPPER_OBJECTIVES`, else ``ValueError``."""
    if objective not in MAPPER_OBJECTIVES:
        raise ValueError(f"mapper_objective must be one of {', '.join(MAPPER_OBJECTIVES)}, got {objective!r}")
    return objective


def goal_key(objective: str, latency: float, energy: float) -> tuple[float, float]:
    """Sort key of a mapping under the mapper goal: the goal, then the tie-breaker."""
    if objective == "energy":
        return energy, latency
    if objective == "edp":
        return latency * energy, energy
    return latency, energy


def _kernel(
    archs: Sequence[Architecture],
    distinct: Sequence[Layer],
    ai: np.ndarray,
    li: np.ndarray,
    max_orders: int,
    split_loops: bool | None,
    objective: str = "latency",
    threads: int = 1,
) -> tuple[np.ndarray, ...]:
    """The kernel on pairs of architectures without hints; ``split_loops=None``: split for the
    in-memory-compute architectures only (one kernel call per setting)."""
    shape, macs = kernel.pack_layers(distinct)
    packed = kernel.pack_architectures(archs)
    mac_e = _pair_mac_energy(archs, distinct, ai, li)
    if split_loops is not None:
        return kernel.evaluate_pairs(
            packed, shape, macs, ai, li, max_orders, mac_e, split_loops, objective, threads
        )
    imc = np.array([a.array.imc is not None for a in archs], np.bool_)[ai]
    if not imc.any() or imc.all():
        return kernel.evaluate_pairs(
            packed, shape, macs, ai, li, max_orders, mac_e, bool(imc.any()), objective, threads
        )
    parts = [np.flatnonzero(~imc), np.flatnonzero(imc)]
    outs = [
        kernel.evaluate_pairs(
            packed,
            shape,
            macs,
            ai[p],
            li[p],
            max_orders,
            None if mac_e is None else mac_e[p],
            bool(flag),
            objective,
            threads,
        )
        for flag, p in enumerate(parts)
    ]
    merged = []
    for k in range(len(outs[0])):
        x = np.empty((len(ai), *outs[0][k].shape[1:]), outs[0][k].dtype)
        for p, o in zip(parts, outs):
            x[p] = o[k]
        merged.append(x)
    return tuple(merged)


def _as_applied(
    archs: Sequence[Architecture], distinct: Sequence[Layer], ai: np.ndarray, li: np.ndarray
) -> tuple[Sequence[Architecture], np.ndarray]:
    """The architectures as they apply to each pair's layer (:meth:`Architecture.for_kind`:
    a GEMM on an architecture read from ZigZag's files uses only the mapping entries on a
    GEMM's loops) and the pairs' new architecture indices."""
    if not any(a.gemm_dims for a in archs) or all(x.kind != "gemm" for x in distinct):
        return archs, ai
    out, index, ai = list(archs), {}, ai.copy()
    for q, (a, l_) in enumerate(zip(ai.tolist(), li.tolist())):
        view = archs[a].for_kind(distinct[l_].kind)
        if view is not archs[a]:
            if a not in index:
                index[a] = len(out)
                out.append(view)
            ai[q] = index[a]
    return out, ai


def _evaluate(
    archs: Sequence[Architecture],
    distinct: Sequence[Layer],
    ai: np.ndarray,
    li: np.ndarray,
    max_orders: int,
    split_loops: bool | None,
    objective: str = "latency",
    threads: int = 1,
) -> tuple[np.ndarray, ...]:
    """The kernel on pairs ``(archs[ai[i]], distinct[li[i]])``; an architecture with spatial
    hints is tried with each of its :func:`spatial_candidates` and the best by the mapper
    goal kept."""
    check_mapper_objective(objective)
    archs, ai = _as_applied(archs, distinct, ai, li)
    if all(not a.spatial_hints for a in archs):
        return _kernel(archs, distinct, ai, li, max_orders, split_loops, objective, threads)
    variants: list[Architecture] = []
    index: dict[tuple[int, str], int] = {}
    v_ai, v_li, owner = [], [], []
    for q, (a, l_) in enumerate(zip(ai.tolist(), li.tolist())):
        for mapping in spatial_candidates(archs[a], layer_dims(distinct[l_])):
            key = (a, repr(sorted(mapping.items())))
            if key not in index:
                index[key] = len(variants)
                variants.append(archs[a].with_spatial_mapping(mapping))
            v_ai.append(index[key])
            v_li.append(l_)
            owner.append(q)
    out = _kernel(
        variants,
        distinct,
        np.array(v_ai, np.int64),
        np.array(v_li, np.int64),
        max_orders,
        split_loops,
        objective,
        threads,
    )
    lat, en = out[0][:, kernel.COL_LATENCY].tolist(), out[0][:, kernel.COL_ENERGY].tolist()
    best = np.full(len(ai), -1, np.int64)
    for v, q in enumerate(owner):
        b = best[q]
        if b < 0 or goal_key(objective, lat[v], en[v]) < goal_key(objective, lat[b], en[b]):
            best[q] = v
    return tuple(x[best] for x in out)


def evaluate_batch(
    archs: Sequence[Architecture],
    layers: Sequence[Layer],
    max_orders: int = 720,
    split_loops: bool | None = None,
    mapper_objective: str = "latency",
    threads: int = 1,
) -> BatchCosts:
    """Map and cost every layer on every architecture (each distinct layer shape once); see
    :func:`evaluate_layers` for ``split_loops`` and ``mapper_objective``. ``threads > 1``
    shares the pairs across numba's threads (the same results; see
    :func:`~.hierarchy_kernel.evaluate_pairs`)."""
    distinct, where = unique_layers(layers)
    n_a, n_l = len(archs), len(distinct)
    ai = np.repeat(np.arange(n_a), n_l)
    li = np.tile(np.arange(n_l), n_a)
    sc, rd, wr, en, _ = _evaluate(archs, distinct, ai, li, max_orders, split_loops, mapper_objective, threads)
    m = kernel.MAX_MEMORIES
    sc = sc.reshape(n_a, n_l, -1)[:, where]
    return BatchCosts(
        {name: sc[..., i] for i, name in enumerate(kernel.SCALARS)},
        rd.reshape(n_a, n_l, m)[:, where],
        wr.reshape(n_a, n_l, m)[:, where],
        en.reshape(n_a, n_l, m)[:, where],
    )


def evaluate_layers(
    arch: Architecture,
    layers: Sequence[Layer],
    max_orders: int = 720,
    split_loops: bool | None = None,
    mapper_objective: str = "latency",
) -> list[LayerCost]:
    """Map each layer onto ``arch`` (the best loop order, and spatial unrolling where the
    architecture leaves it open, by ``mapper_objective``) and cost it.

    ``mapper_objective``: ``"latency"`` (default: the fastest mapping, ties within 0.5 %
    to the least energy), ``"energy"`` (the least energy, ties to the fastest) or ``"edp"``
    (the least energy-delay product, ties to the least energy), as ZigZag's ``opt``.

    ``split_loops``: the mapper also tries, for each loop order, running part of one
    dimension's prime factors outermost (e.g. ``OY 4`` inside a buffer and ``OY 7`` above it,
    as ZigZag's LOMA can), which matters when a small buffer cannot hold a whole dimension;
    about 10x more candidate orders. ``None`` (default): only for in-memory-compute arrays,
    whose one-weight cells force the weight-irrelevant loops innermost and the partial sums
    of the rest into the buffer above (measured against ZigZag, see the README); the
    digital-array results and speed stay those of the grouped-factor mapper.
    """
    distinct, where = unique_layers(layers)
    n = len(distinct)
    sc, rd, wr, en, order = _evaluate(
        [arch], distinct, np.zeros(n, np.int64), np.arange(n), max_orders, split_loops, mapper_objective
    )
    out = []
    for layer, q in zip(layers, where):
        v = dict(zip(kernel.SCALARS, sc[q].tolist()))
        levels = {
            mem.name: LevelRecord(float(rd[q, m]), float(wr[q, m]), float(en[q, m]))
            for m, mem in enumerate(arch.memories)
        }
        out.append(
            LayerCost(
                name=layer.name,
                macs=float(layer.macs),
                levels=levels,
                order=tuple(LAYER_DIMS[i] for i in order[q] if i >= 0),
                **v,
            )
        )
    return out


def evaluate_layer(
    arch: Architecture,
    layer: Layer,
    max_orders: int = 720,
    split_loops: bool | None = None,
    mapper_objective: str = "latency",
) -> LayerCost:
    """Map ``layer`` onto ``arch`` (best mapping by ``mapper_objective``) and cost it."""
    return evaluate_layers(arch, [layer], max_orders, split_loops, mapper_objective)[0]


@dataclass(frozen=True)
class MappingCost:
    """:func:`evaluate_mapping`'s result: the layer's cost under the given mapping, and whether
    the mapping fits the memories (``reason`` says which level overflows when it does not)."""

    cost: LayerCost
    feasible: bool
    reason: str = ""


def evaluate_mapping(
    arch: Architecture,
    layer: Layer,
    loops: Sequence[tuple[str, int]],
    spatial_mapping: Mapping[str, Sequence[tuple[str, int]]] | None = None,
    bounds: Mapping[str, Sequence[int]] | None = None,
) -> MappingCost:
    """Cost one given mapping of ``layer`` on ``arch`` (no search): the building block of a
    mapping-search env.

    Args:
        loops: the temporal loops ``(layer dim, factor)``, innermost first; per layer
            dimension the factors must multiply to its extent left after the spatial
            unrolling (``ValueError`` otherwise).
        spatial_mapping: ``{array dim: ((layer dim, factor), ...)}``; default the
            architecture's own (an architecture with spatial hints needs one).
        bounds: per operand ``"W" "I" "O"``, the number of loops (innermost first) at or
            below each of its memory levels, innermost level first, the last equal to
            ``len(loops)``; default the model's greedy bottom-up allocation.

    An infeasible mapping (some level's tiles exceed its size) is still costed, with
    ``feasible=False`` and the reason.
    """
    arch = (
        arch.for_kind(layer.kind) if spatial_mapping is None else arch.with_spatial_mapping(spatial_mapping)
    )
    if arch.spatial_hints:
        raise ValueError(f"architecture {arch.name!r} has spatial hints: give a spatial_mapping")
    index = {d: i for i, d in enumerate(LAYER_DIMS)}
    bad = [ld for ld, f in loops if ld not in index or int(f) < 1]
    if bad:
        raise ValueError(f"loops: unknown layer dims or factors < 1: {bad}")
    packed = kernel.pack_architectures([arch])
    shape, macs = kernel.pack_layers([layer])
    rows = np.array([(index[ld], int(f)) for ld, f in loops], np.int64).reshape(-1, 2)
    given = None if bounds is None else _bounds_matrix(arch, bounds, len(loops))
    res, temporal, over = kernel.cost_mapping(
        packed, shape[0], float(macs[0]), mac_energy_pj(arch, layer), rows, given
    )
    got = {ld: math.prod(int(f) for d, f in loops if d == ld) for ld in LAYER_DIMS}
    wrong = {ld: (got[ld], int(temporal[i])) for i, ld in enumerate(LAYER_DIMS) if got[ld] != temporal[i]}
    if wrong:
        raise ValueError(f"loops: factors per dim (given, needed) do not cover the layer: {wrong}")
    v = dict(zip(kernel.SCALARS, res.scalars[0].tolist()))
    levels = {
        mem.name: LevelRecord(float(res.reads[0, m]), float(res.writes[0, m]), float(res.level_energy[0, m]))
        for m, mem in enumerate(arch.memories)
    }
    order = tuple(LAYER_DIMS[i] for i in res.order[0] if i >= 0)
    cost = LayerCost(name=layer.name, macs=float(layer.macs), levels=levels, order=order, **v)
    if over < 0:
        return MappingCost(cost, True)
    return MappingCost(cost, False, f"memory {arch.memories[over].name!r}: its tiles exceed its size")


def _bounds_matrix(arch: Architecture, bounds: Mapping[str, Sequence[int]], n_loops: int) -> np.ndarray:
    out = np.full((3, len(arch.memories)), -1, np.int64)
    for o, op in enumerate(("W", "I", "O")):
        b = [int(x) for x in bounds.get(op, ())]
        n = len(arch.levels(op))
        if len(b) != n or b != sorted(b) or b[-1] != n_loops or b[0] < 0:
            raise ValueError(
                f"bounds[{op!r}]: {n} nondecreasing loop counts ending at {n_loops} (one per level), got {b}"
            )
        out[o, :n] = b
    return out
