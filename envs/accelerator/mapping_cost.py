"""Cost of one GIVEN mapping of a layer on an :class:`~.architecture.Architecture`.

The hierarchy model (:mod:`.hierarchy_model`) searches loop orders itself and keeps the best;
the mapping-search env (:mod:`.mapping_env`) lets an agent choose the whole mapping instead.
This module costs such a choice with the same compiled cost function the mapper uses
(:mod:`.hierarchy_kernel`), so a mapping the mapper would pick costs exactly what the mapper
reports for it (tested).

A mapping is written as ZigZag writes its temporal mappings (Mei et al., IEEE TC 2021):

* ``spatial``: per array dimension the layer dimensions it unrolls, with factors;
* ``loops``: the temporal loops, innermost first, each a layer dimension and a factor;
* ``levels``: per operand, how many of those loops (from the innermost) lie at or below each
  of its memory levels but the outermost (which holds all of them). Operands sharing a
  memory may take different numbers of loops there (ZigZag's per-operand allocation).

A mapping is *infeasible* -- :class:`InfeasibleMappingError`, whose message says why -- when
an unrolling exceeds the array, the loops do not tile the layer, the tiles a memory holds
exceed its size (capacity), or a data movement the mapping needs has no port (a level that
must send partial sums back down, or receive tiles, without a port for it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from archgym.errors import SimulationError

from . import hierarchy_kernel as kernel
from .architecture import DIRECTIONS, LAYER_DIMS, OPERANDS, RELEVANT, Architecture
from .hierarchy_model import LayerCost, LevelRecord, layer_dims, mac_energy_pj, spatial_unrolling
from .layers import Layer

_LD = {ld: i for i, ld in enumerate(LAYER_DIMS)}


class InfeasibleMappingError(SimulationError):
    """A mapping the hardware cannot run (the message names the reason)."""


@dataclass(frozen=True)
class LayerMapping:
    """A complete mapping of one layer (see the module docstring)."""

    spatial: Mapping[str, tuple[tuple[str, int], ...]]
    loops: tuple[tuple[str, int], ...]
    levels: Mapping[str, tuple[int, ...]]

    def describe(self) -> str:
        """One line: ``D1: K16 D2: C16 | loops K2 C4 OX7 ... | W [3] I [2] O [1, 4]``."""
        sp = " ".join(f"{d}: " + ",".join(f"{ld}{f}" for ld, f in e) for d, e in self.spatial.items())
        lp = " ".join(f"{ld}{f}" for ld, f in self.loops)
        lv = " ".join(f"{op} {list(self.levels.get(op, ()))}" for op in OPERANDS)
        return f"{sp} | loops {lp} | {lv}"


@dataclass(frozen=True)
class SpatialSetup:
    """Per-(architecture, spatial unrolling, layer) quantities the cost function reads."""

    temporal: dict[str, int]
    inside: np.ndarray  # (M, 8) spatial extent of each dimension inside one memory instance
    act_nb: np.ndarray  # (M,) active instances of each memory
    act_b: np.ndarray  # (M, 3) active instances per operand (broadcast-aware)
    drain: float


def spatial_setup(arch: Architecture, layer: Layer) -> SpatialSetup:
    """Step 1 of the model (:mod:`.hierarchy_model`): the unrolling, what each memory instance
    sees of it and how many instances work (padding counts as idle units)."""
    dims = layer_dims(layer)
    unroll_of = spatial_unrolling(arch, dims)
    names = list(arch.array.dims)
    total = {ld: math.prod(u.get(ld, 1) for u in unroll_of.values()) for ld in LAYER_DIMS}
    temporal = {ld: -(-dims[ld] // total[ld]) for ld in LAYER_DIMS}
    counted: set[str] = set()
    used_eff = {}
    for d in names:
        eff = 1.0
        for ld, u in unroll_of[d].items():
            pad = 1.0 if ld in counted else dims[ld] / (total[ld] * temporal[ld])
            eff *= pad * u
            counted.add(ld)
        used_eff[d] = eff
    rel = [[ld in RELEVANT[op] for ld in LAYER_DIMS] for op in OPERANDS]
    n_mem = len(arch.memories)
    inside = np.ones((n_mem, 8), np.int64)
    act_nb = np.ones(n_mem)
    act_b = np.ones((n_mem, 3))
    for m, mem in enumerate(arch.memories):
        for d in names:
            if d in mem.served_dims:
                for ld, u in unroll_of[d].items():
                    inside[m, _LD[ld]] *= u
                continue
            act_nb[m] *= used_eff[d]
            for o in range(3):
                if any(rel[o][_LD[ld]] for ld in unroll_of[d]):
                    act_b[m, o] *= used_eff[d]
    drain = 0.0
    for d in arch.array.systolic_dims:
        drain += max(0, math.prod(unroll_of.get(d, {}).values()) - 1)
    return SpatialSetup(temporal, inside, act_nb, act_b, drain)


def _check_spatial(arch: Architecture, layer: Layer, mapping: LayerMapping) -> None:
    dims = layer_dims(layer)
    for d, entries in mapping.spatial.items():
        if d not in arch.array.dims:
            raise InfeasibleMappingError(
                f"spatial: no array dimension {d!r} (have {', '.join(arch.array.dims)})"
            )
        used = math.prod(int(f) for _, f in entries)
        if used > arch.array.dims[d]:
            raise InfeasibleMappingError(
                f"spatial: {d} unrolls {'x'.join(f'{ld}{f}' for ld, f in entries)} = {used} > array size "
                f"{arch.array.dims[d]}"
            )
        for ld, f in entries:
            if ld not in dims or int(f) < 1:
                raise InfeasibleMappingError(f"spatial: {d} unrolls unknown dimension or factor {ld} x {f}")


def _loops(mapping: LayerMapping, temporal: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
    got = dict.fromkeys(LAYER_DIMS, 1)
    for ld, f in mapping.loops:
        if ld not in got or int(f) < 1:
            raise InfeasibleMappingError(f"temporal: unknown loop {ld} x {f}")
        got[ld] *= int(f)
    for ld in LAYER_DIMS:
        if got[ld] != temporal[ld]:
            raise InfeasibleMappingError(
                f"temporal: the loops over {ld} multiply to {got[ld]}, but {temporal[ld]} iterations "
                "are left after the spatial unrolling"
            )
    if len(mapping.loops) > kernel.MAX_LOOPS:
        raise InfeasibleMappingError(f"temporal: more than {kernel.MAX_LOOPS} loops")
    loop_ld = np.zeros(kernel.MAX_LOOPS, np.int64)
    loop_f = np.ones(kernel.MAX_LOOPS, np.int64)
    for i, (ld, f) in enumerate(mapping.loops):
        loop_ld[i], loop_f[i] = _LD[ld], int(f)
    return loop_ld, loop_f


def _bounds(arch: Architecture, mapping: LayerMapping) -> np.ndarray:
    n_loops = len(mapping.loops)
    bound = np.zeros((3, len(arch.memories)), np.int64)
    for o, op in enumerate(OPERANDS):
        chain = arch.levels(op)
        given = tuple(int(b) for b in mapping.levels.get(op, ()))
        if len(given) != len(chain) - 1:
            raise InfeasibleMappingError(
                f"allocation: operand {op} has {len(chain)} memory levels, so {len(chain) - 1} loop counts "
                f"are needed, got {len(given)}"
            )
        full = (*given, n_loops)
        if any(b < 0 or b > n_loops for b in full) or any(a > b for a, b in zip(full, full[1:])):
            raise InfeasibleMappingError(
                f"allocation: operand {op}'s loop counts {list(full)} must rise to {n_loops}"
            )
        bound[o, : len(full)] = full
    return bound


def loop_extents(loop_ld: np.ndarray, loop_f: np.ndarray) -> np.ndarray:
    """``cum[k]``: each dimension's extent over the ``k`` innermost loops."""
    cum = np.ones((len(loop_ld) + 1, 8), np.int64)
    for k in range(len(loop_ld)):
        cum[k + 1] = cum[k]
        cum[k + 1, loop_ld[k]] *= loop_f[k]
    return cum


def tile_bits(
    arch: Architecture, layer: Layer, setup: SpatialSetup, m: int, op: str, ext: np.ndarray
) -> float:
    """Bits of ``op``'s tile in one instance of memory ``m`` covering the loop extents ``ext``."""
    o = OPERANDS.index(op)
    elements = _footprint(o, setup.inside[m] * ext, layer)
    return float(elements) * int(arch.precision[op])


def _check_capacity(arch: Architecture, layer: Layer, setup: SpatialSetup, loop_ld, loop_f, bound) -> None:
    """Every memory must hold the tiles of all the operands it keeps (shared capacity)."""
    cum = loop_extents(loop_ld, loop_f)
    prec = np.array([int(arch.precision[k]) for k in ("W", "I", "O", "O_final")], np.int64)
    chain = np.full((len(OPERANDS), len(arch.memories)), -1, np.int64)
    for o, op in enumerate(OPERANDS):
        for j, mem in enumerate(arch.levels(op)):
            chain[o, j] = arch.memories.index(mem)
    n_chain = (chain >= 0).sum(axis=1)
    last_red = kernel.last_reduction(loop_ld, loop_f, len(loop_ld))
    for m, mem in enumerate(arch.memories):
        bits, parts = 0.0, []
        for o, op in enumerate(OPERANDS):
            if op not in mem.operands:
                continue
            j = arch.levels(op).index(mem)
            ext = setup.inside[m] * cum[bound[o, j]]
            elements = _footprint(o, ext, layer)
            start = int(bound[o, j - 1]) if j > 0 else 0
            op_bits = prec[o]
            if op == "O":  # final outputs above every reduction loop, as the mapper sizes them
                op_bits = kernel.output_bits(setup.inside, chain, n_chain, prec, j, start, last_red)
            bits += elements * op_bits
            parts.append(f"{op} {elements}")
        if bits > mem.size_bits:
            raise InfeasibleMappingError(
                f"capacity: {mem.name} would hold {bits:.0f} bits ({', '.join(parts)} words) > its "
                f"{mem.size_bits:.0f} bits"
            )


def _check_ports(arch: Architecture, bound: np.ndarray, loop_ld: np.ndarray, loop_f: np.ndarray) -> None:
    """Every data movement between an operand's levels needs a port on both sides."""
    n_loops = int(bound.max(initial=0))
    reduction = {_LD["C"], _LD["FX"], _LD["FY"]}
    for o, op in enumerate(OPERANDS):
        chain = arch.levels(op)
        for j in range(1, len(chain)):
            hi, lo = chain[j], chain[j - 1]
            needs = [(hi, "tl"), (lo, "fh")] if op != "O" else [(lo, "th"), (hi, "fl")]
            above = range(int(bound[o, j - 1]), n_loops)
            if op == "O" and any(loop_ld[k] in reduction and loop_f[k] > 1 for k in above):
                needs += [(hi, "tl"), (lo, "fh")]  # partial sums come back down
            for mem, direction in needs:
                if mem.port(op, direction) is None:
                    raise InfeasibleMappingError(
                        f"port: {mem.name} has no port for {op} {direction} ({_DIRECTION[direction]}), "
                        f"which this mapping needs"
                    )


_DIRECTION = dict(zip(DIRECTIONS, ("from the level above", "to the level below", "from below", "to above")))


def cost_mapping(arch: Architecture, layer: Layer, mapping: LayerMapping) -> LayerCost:
    """Cost ``mapping`` of ``layer`` on ``arch`` with the hierarchy model's cost function.

    Raises :class:`InfeasibleMappingError` (with the reason) for a mapping the hardware
    cannot run; see the module docstring.
    """
    _check_spatial(arch, layer, mapping)
    mapped = arch.with_spatial_mapping(mapping.spatial)
    setup = spatial_setup(mapped, layer)
    loop_ld, loop_f = _loops(mapping, setup.temporal)
    n_loops = len(mapping.loops)
    bound = _bounds(arch, mapping)
    _check_capacity(mapped, layer, setup, loop_ld[:n_loops], loop_f[:n_loops], bound)
    _check_ports(arch, bound, loop_ld[:n_loops], loop_f[:n_loops])
    return _cost(mapped, layer, setup, loop_ld, loop_f, n_loops, bound)


def _cost(
    arch: Architecture,
    layer: Layer,
    setup: SpatialSetup,
    loop_ld: np.ndarray,
    loop_f: np.ndarray,
    n_loops: int,
    bound: np.ndarray,
) -> LayerCost:
    n_mem = len(arch.memories)
    temporal, stall, onload, offload, rd, wr, en = _cost_loops(
        arch, layer, setup, loop_ld, loop_f, n_loops, bound
    )
    mac_e = mac_energy_pj(arch, layer)
    cpi = float(arch.array.cycles_per_iteration)
    latency = temporal + stall + onload + offload + setup.drain
    units = arch.array.units
    ideal = math.ceil(math.ceil(layer.macs / units) * cpi)
    return LayerCost(
        name=layer.name,
        macs=float(layer.macs),
        latency_cycles=float(latency),
        ideal_cycles=float(ideal),
        temporal_cycles=float(temporal),
        stall_cycles=float(stall),
        onload_cycles=float(onload),
        offload_cycles=float(offload),
        drain_cycles=float(setup.drain),
        energy_pj=float(mac_e + en[:n_mem].sum()),
        mac_energy_pj=float(mac_e),
        levels={
            mem.name: LevelRecord(float(rd[m]), float(wr[m]), float(en[m]))
            for m, mem in enumerate(arch.memories)
        },
        spatial_utilization=float(ideal / temporal),
        utilization=float(layer.macs * cpi / (latency * units)),
        order=tuple(LAYER_DIMS[int(i)] for i in loop_ld[:n_loops]),
    )


def mapper_mapping(arch: Architecture, layer: Layer, order: Sequence[str]) -> LayerMapping:
    """The mapping the built-in mapper (:func:`~.hierarchy_model.evaluate_layer`) chose, from the
    loop order it reports: each dimension's prime factors in order (largest innermost, as the
    mapper groups them) and its greedy bottom-up allocation. For architectures without
    spatial hints and digital arrays (the mapper's grouped-factor search)."""
    if arch.spatial_hints:
        raise ValueError("mapper_mapping: architectures with spatial hints pick their unrolling per layer")
    setup = spatial_setup(arch, layer)
    left = {ld: prime_factors(setup.temporal[ld]) for ld in LAYER_DIMS}
    loops = []
    for ld in order:
        loops.append((ld, left[ld].pop(0)))
    if any(left.values()):
        raise ValueError(f"mapper_mapping: order {list(order)} does not use every factor ({left})")
    loop_ld = np.zeros(kernel.MAX_LOOPS, np.int64)
    loop_f = np.ones(kernel.MAX_LOOPS, np.int64)
    for i, (ld, f) in enumerate(loops):
        loop_ld[i], loop_f[i] = _LD[ld], f
    bound = _allocate(arch, layer, setup, loop_ld, loop_f, len(loops))
    levels = {
        op: tuple(int(b) for b in bound[o, : len(arch.levels(op)) - 1]) for o, op in enumerate(OPERANDS)
    }
    used = spatial_unrolling(arch, layer_dims(layer))
    spatial = {d: tuple(u.items()) for d, u in used.items() if u}
    return LayerMapping(spatial, tuple(loops), levels)


def prime_factors(n: int) -> list[int]:
    """Prime factors of ``n``, largest first (the mapper's order within a dimension)."""
    out, p = [], 2
    while n > 1 and p * p <= n:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    if n > 1:
        out.append(n)
    return sorted(out, reverse=True)


# ------------------------------------------------------------------ the kernel's entry points
def _footprint(op: int, ext: np.ndarray, layer: Layer) -> int:
    """Elements of operand ``op``'s tile over the loop extents ``ext`` (inputs: sliding windows)."""
    return int(kernel.footprint(op, np.ascontiguousarray(ext, np.int64), layer.stride, layer.H, layer.W))


def _kernel_inputs(arch: Architecture, layer: Layer, setup: SpatialSetup) -> tuple[Any, Any, Any]:
    """The architecture's view, the layer's packed shape and the padded placement, for the kernel."""
    p = kernel.pack_architectures([arch])
    M, n_mem = kernel.MAX_MEMORIES, len(arch.memories)
    inside, act_nb, act_b = np.ones((M, 8), np.int64), np.ones(M), np.ones((M, 3))
    inside[:n_mem], act_nb[:n_mem], act_b[:n_mem] = setup.inside, setup.act_nb, setup.act_b
    view = kernel.ArchView(
        p.n_mem[0], p.mem_size[0], p.mem_rpj[0], p.mem_wpj[0], p.mem_ops[0], p.chain[0], p.n_chain[0],
        p.port_of[0], p.bw_max[0], p.bw_min[0], p.prec[0],
    )  # fmt: skip
    return view, kernel.pack_layers([layer])[0][0], kernel.Placement(inside, act_nb, act_b)


def _allocate(
    arch: Architecture,
    layer: Layer,
    setup: SpatialSetup,
    loop_ld: np.ndarray,
    loop_f: np.ndarray,
    n_loops: int,
) -> np.ndarray:
    """The mapper's greedy bottom-up allocation of the loops: ``bound`` (3, memories)."""
    view, shape, placement = _kernel_inputs(arch, layer, setup)
    al = kernel.new_allocation(kernel.MAX_MEMORIES)
    kernel.allocate(loop_ld, loop_f, n_loops, view, placement, shape, al)  # reads placement.inside only
    return np.asarray(al.bound)[:, : len(arch.memories)]


def _cost_loops(
    arch: Architecture,
    layer: Layer,
    setup: SpatialSetup,
    loop_ld: np.ndarray,
    loop_f: np.ndarray,
    n_loops: int,
    bound: np.ndarray,
) -> tuple[float, float, float, float, np.ndarray, np.ndarray, np.ndarray]:
    """The kernel's cost of one allocated loop order: ``(temporal, stall, onload, offload)``
    cycles and per memory reads, writes (words) and energy (pJ)."""
    view, shape, placement = _kernel_inputs(arch, layer, setup)
    M, n_mem = kernel.MAX_MEMORIES, len(arch.memories)
    al = kernel.new_allocation(M)
    al.bound[:, :n_mem] = bound
    lg = kernel.new_ledger(M, kernel.MAX_PORTS)
    cpi = float(arch.array.cycles_per_iteration)
    out = kernel.cost_order(
        loop_ld, loop_f, n_loops, view, placement, al, shape, kernel.new_tiles(kernel.MAX_LOOPS), lg, cpi,
        np.inf, np.inf,
    )  # fmt: skip
    level = lg.level[:, :n_mem]
    return (*out, level[kernel.READS].copy(), level[kernel.WRITES].copy(), level[kernel.ENERGY].copy())
