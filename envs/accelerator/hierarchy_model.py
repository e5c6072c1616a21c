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
   holds still fit its size.
   The mapper keeps the order with the least latency, then energy (ZigZag's default goal).
3. **Accesses.** A level's tile of an operand is its footprint over the loops below it and
   the spatial unrolling of the array dimensions the level serves (inputs: the sliding
   window ``(OX-1) stride + FX``, never beyond the real input). It is refilled once per
   iteration of the loops above it, except a run of loops irrelevant to the operand right
   above (the data stays: stationarity). Outputs go up after every refill; a refill that is
   not the first of its tile reads the partial sums back. Accesses are counted in words of
   the port's ``bw_max`` bits at ``bw_min`` granularity per transfer, as ZigZag counts them;
   energy = accesses x per-access energy + MACs x MAC energy.
4. **Latency** = ideal cycles + stalls + on-loading + off-loading + systolic drain:
   * each transfer between two levels must fit its window: the time between refills if the
     tile fits in half the level (double buffering), otherwise only the last iterations of
     the innermost irrelevant loop run of that level; a port's stall sums over the transfers
     it carries, and the slowest port sets the stall (ports work in parallel);
   * on-loading: the first tile of every level of W and I is loaded before compute starts;
     off-loading: the last output tiles are written back after it (through their ports);
   * drain: results leave a systolic dimension one unit a cycle.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from .architecture import OPERANDS, RELEVANT, Architecture, MemoryLevel, Port
from .layers import Layer


@dataclass
class LevelRecord:
    """Accesses (words of the port width) and energy (pJ) of one memory level for one layer."""

    reads: float = 0.0
    writes: float = 0.0
    energy_pj: float = 0.0
    by_operand: dict[str, float] = field(default_factory=dict)


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


def _prime_factors(n: int) -> list[int]:
    out, p = [], 2
    while n > 1 and p * p <= n:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    if n > 1:
        out.append(n)
    return sorted(out, reverse=True)


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


class _Layer:
    """Per-layer constants shared by all candidate orders."""

    def __init__(self, arch: Architecture, layer: Layer) -> None:
        self.arch, self.layer = arch, layer
        self.dims = layer_dims(layer)
        self.spatial = spatial_unrolling(arch, self.dims)
        unroll = {ld: 1 for ld in self.dims}
        for used in self.spatial.values():
            for ld, u in used.items():
                unroll[ld] *= u
        self.unroll = unroll
        self.temporal = {ld: math.ceil(self.dims[ld] / unroll[ld]) for ld in self.dims}
        self.stride = layer.stride
        self.in_h, self.in_w = layer.H, layer.W  # rows/cols really fetched (no padding)
        self.prec = {k: int(v) for k, v in arch.precision.items()}
        self.levels = {op: arch.levels(op) for op in OPERANDS}
        # spatial extents inside one instance of each memory (the array dims it serves)
        self.inside: dict[str, dict[str, int]] = {}
        for m in arch.memories:
            ext = {ld: 1 for ld in self.dims}
            for d in m.served_dims:
                for ld, u in self.spatial.get(d, {}).items():
                    ext[ld] *= u
            self.inside[m.name] = ext
        self.mac_ext = {ld: 1 for ld in self.dims}
        # units doing useful work on average along each array dimension: a dimension of D
        # unrolled by u over T = ceil(D/u) steps keeps D/T units busy (the last step is partial)
        self.used: dict[str, float] = {}
        counted: set[str] = set()
        for d, used in self.spatial.items():
            eff = 1.0
            for ld, u in used.items():
                eff *= u if ld in counted else self.dims[ld] / (self.unroll[ld] * self.temporal[ld]) * u
                counted.add(ld)
            self.used[d] = eff

    def active(self, m: MemoryLevel, broadcast: str | None = None) -> float:
        """Instances of ``m`` doing useful work on average (idle PEs' memories are not accessed).

        With ``broadcast`` (an input operand, for levels above the innermost), copies that
        differ only along array dimensions unrolling dimensions irrelevant to it hold the
        same data, which is read once and broadcast, so they count once.
        """
        dims = [d for d in self.arch.array.dims if d not in m.served_dims]
        if broadcast is not None:
            rel = RELEVANT[broadcast]
            dims = [d for d in dims if any(ld in rel for ld in self.spatial.get(d, {}))]
        return math.prod(self.used.get(d, 1.0) for d in dims)

    def footprint(self, op: str, ext: dict[str, int]) -> int:
        e = ext
        if op == "W":
            return e["K"] * e["G"] * e["C"] * e["FX"] * e["FY"]
        if op == "O":
            return e["B"] * e["K"] * e["G"] * e["OX"] * e["OY"]
        ix = _window(e["OX"], e["FX"], self.stride, self.in_w)
        iy = _window(e["OY"], e["FY"], self.stride, self.in_h)
        return e["B"] * e["G"] * e["C"] * ix * iy


def _window(out: int, k: int, stride: int, real: int) -> int:
    span = out * k if stride >= k else (out - 1) * stride + k
    return max(1, min(real, span))


@dataclass
class _Alloc:
    loops: list[tuple[str, int]]  # innermost first
    bound: dict[str, list[int]]  # operand -> per level: number of loops at or below it


def _allocate(ctx: _Layer, loops: list[tuple[str, int]]) -> _Alloc:
    """Greedy bottom-up assignment of ``loops`` to every operand's levels (shared capacity)."""
    arch = ctx.arch
    lv = {op: 0 for op in OPERANDS}
    bound: dict[str, list[int]] = {op: [] for op in OPERANDS}
    ext = {op: dict(ctx.inside[ctx.levels[op][0].name]) for op in OPERANDS}

    def tile_bits(m: MemoryLevel, ext_by_op: dict[str, dict[str, int]]) -> float:
        tot = 0.0
        for op in m.operands:
            if ctx.levels[op][lv[op]] is m:
                bits = ctx.prec["O"] if op == "O" else ctx.prec[op]
                tot += ctx.footprint(op, ext_by_op[op]) * bits
        return tot

    for i, (ld, f) in enumerate(loops):
        for op in OPERANDS:
            levels = ctx.levels[op]
            while True:
                m = levels[lv[op]]
                if lv[op] == len(levels) - 1:
                    ext[op][ld] *= f
                    break
                trial = dict(ext)
                trial[op] = dict(ext[op])
                trial[op][ld] *= f
                if tile_bits(m, trial) <= m.size_bits:
                    ext[op] = trial[op]
                    break
                bound[op].append(i)  # level lv[op] holds loops [0, i)
                lv[op] += 1
                nxt = levels[lv[op]]
                grown = dict(ctx.inside[nxt.name])
                for ld2, f2 in loops[:i]:
                    grown[ld2] *= f2
                ext[op] = grown
    n = len(loops)
    for op in OPERANDS:
        while len(bound[op]) < len(ctx.levels[op]):
            bound[op].append(n)
    del arch
    return _Alloc(loops, bound)


def _ext_below(ctx: _Layer, loops: list[tuple[str, int]], k: int, base: dict[str, int]) -> dict[str, int]:
    e = dict(base)
    for ld, f in loops[:k]:
        e[ld] *= f
    return e


def _refills(loops: list[tuple[str, int]], k: int, op: str) -> tuple[int, int, int]:
    """(refills, distinct tiles, stationary run) of a tile holding loops [0, k)."""
    rel = RELEVANT[op]
    above = loops[k:]
    j = 0
    while j < len(above) and above[j][0] not in rel:
        j += 1
    refills = math.prod(f for _, f in above[j:])
    distinct = math.prod(f for ld, f in above if ld in rel)
    return refills, distinct, math.prod(f for _, f in above[:j])


def _top_irrelevant(loops: list[tuple[str, int]], k: int, op: str) -> int:
    """Size of the run of loops irrelevant to ``op`` at the top of a tile holding [0, k)."""
    rel, run = RELEVANT[op], 1
    for ld, f in reversed(loops[:k]):
        if ld in rel:
            break
        run *= f
    return run


def _words(elements_per_transfer: float, bits: int, transfers: float, port: Port | None) -> float:
    if port is None or elements_per_transfer <= 0 or transfers <= 0:
        return 0.0
    per = math.ceil(elements_per_transfer * bits / port.bw_min) * port.bw_min / port.bw_max
    return per * transfers


def _cycles(elements: float, bits: int, port: Port | None) -> float:
    if port is None or elements <= 0:
        return 0.0
    return math.ceil(elements * bits / port.bw_max)


class _Ledger:
    """Accumulates accesses, energy and port traffic while one mapping is costed."""

    def __init__(self, arch: Architecture) -> None:
        self.levels = {m.name: LevelRecord() for m in arch.memories}
        self.port_busy: dict[tuple[str, str], float] = {}
        self.port_stall: dict[tuple[str, str], float] = {}
        self.port_load: dict[tuple[str, str], float] = {}
        self.port_offload: dict[tuple[str, str], float] = {}

    def access(
        self, m: MemoryLevel, op: str, direction: str, elements: float, bits: int, transfers: float
    ) -> None:
        port = m.port(op, direction)
        words = _words(elements, bits, transfers, port)
        rec = self.levels[m.name]
        read = direction in ("tl", "th")
        if read:
            rec.reads += words
        else:
            rec.writes += words
        e = words * (m.read_pj if read else m.write_pj)
        rec.energy_pj += e
        rec.by_operand[op] = rec.by_operand.get(op, 0.0) + e

    def transfer(
        self,
        m: MemoryLevel,
        op: str,
        direction: str,
        elements: float,
        bits: int,
        transfers: float,
        window: float,
    ) -> float:
        """Port time of ``transfers`` moves of ``elements``; records stall against ``window`` each."""
        port = m.port(op, direction)
        if port is None or transfers <= 0:
            return 0.0
        cyc = _cycles(elements, bits, port)
        key = (m.name, port.name)
        self.port_busy[key] = self.port_busy.get(key, 0.0) + cyc * transfers
        self.port_stall[key] = self.port_stall.get(key, 0.0) + max(0.0, cyc - window) * transfers
        return cyc


def _cost(ctx: _Layer, alloc: _Alloc) -> LayerCost:
    arch, loops = ctx.arch, alloc.loops
    led = _Ledger(arch)
    temporal = math.prod(f for _, f in loops)
    for op in OPERANDS:
        levels = ctx.levels[op]
        bits_in = ctx.prec[op] if op != "O" else ctx.prec["O"]
        for j, m in enumerate(levels):
            k_lo = alloc.bound[op][j - 1] if j > 0 else 0
            child_inside = ctx.inside[levels[j - 1].name] if j > 0 else ctx.mac_ext
            inst = ctx.active(m, op if j > 0 else None)
            # data this level sends to (or gets from) its children, per instance of this level
            fp_down = ctx.footprint(op, _ext_below(ctx, loops, k_lo, ctx.inside[m.name]))
            refills, distinct, _ = _refills(loops, k_lo, op)
            child_fp = ctx.footprint(op, _ext_below(ctx, loops, k_lo, child_inside))
            # window between refills of the child tile
            period = temporal / max(1, refills)
            if j > 0:
                child = levels[j - 1]
                dbl = _fits_double(ctx, alloc, child, op)
                window = period if dbl else period / max(1, _top_irrelevant(loops, k_lo, op))
            else:
                window = period
            if op == "O" and j == 0:  # a MAC has no accumulator: every product goes through level 0
                refills, back = temporal, temporal - distinct
            else:
                back = refills - distinct
            once = j > 0 and refills == 1  # moved once: before (W, I) or after (O) the computation
            if op in ("W", "I"):
                led.access(m, op, "tl", fp_down, bits_in, refills * inst)
                if j > 0:
                    child = levels[j - 1]
                    copies = ctx.active(child, op if j > 1 else None)
                    led.access(child, op, "fh", child_fp, bits_in, refills * copies)
                    if j == 1:  # the first tile of the innermost level must be there before compute
                        cyc = max(
                            _cycles(fp_down, bits_in, m.port(op, "tl")),
                            _cycles(child_fp, bits_in, child.port(op, "fh")),
                        )
                        led.port_load[(op, m.name)] = led.port_load.get((op, m.name), 0.0) + cyc
                        if once:
                            continue
                    led.transfer(child, op, "fh", child_fp, bits_in, refills, window)
                led.transfer(m, op, "tl", fp_down, bits_in, refills, window)
            else:
                psum, fin = ctx.prec["O"], ctx.prec["O_final"]
                final_bits = fin if _no_reduction_above(loops, k_lo) else psum
                # outputs arriving from below: partial sums, and final values once per tile
                led.access(m, op, "fl", fp_down, psum, back * inst)
                led.access(m, op, "fl", fp_down, final_bits, distinct * inst)
                led.access(m, op, "tl", fp_down, psum, back * inst)
                if j > 0:
                    child = levels[j - 1]
                    ci = ctx.active(child)
                    led.access(child, op, "th", child_fp, psum, back * ci)
                    led.access(child, op, "th", child_fp, final_bits, distinct * ci)
                    led.access(child, op, "fh", child_fp, psum, back * ci)
                    if once:  # written back once: what does not fit the compute time is off-loading
                        cyc = max(
                            _cycles(fp_down, final_bits, m.port(op, "fl")),
                            _cycles(child_fp, final_bits, child.port(op, "th")),
                        )
                        key = (op, m.name)
                        led.port_offload[key] = led.port_offload.get(key, 0.0) + max(0.0, cyc - temporal)
                        continue
                    led.transfer(child, op, "th", child_fp, psum, refills, window)
                    led.transfer(child, op, "fh", child_fp, psum, back, window)
                led.transfer(m, op, "fl", fp_down, psum, refills, window)
                led.transfer(m, op, "tl", fp_down, psum, back, window)
    stall = 0.0
    for key, busy in led.port_busy.items():
        stall = max(stall, led.port_stall.get(key, 0.0), busy - temporal)
    # each operand's loads run level after level through its ports; operands load in parallel
    onload = max(_per_operand(led.port_load).values(), default=0.0)
    offload = max(_per_operand(led.port_offload).values(), default=0.0)
    drain = 0.0
    for d in arch.array.systolic_dims:
        used = math.prod(ctx.spatial.get(d, {}).values()) if ctx.spatial.get(d) else 1
        drain += max(0, used - 1)
    macs = float(ctx.layer.macs)
    ideal = math.ceil(macs / arch.array.units)
    latency = temporal + stall + onload + offload + drain
    mac_e = macs * arch.array.mac_pj
    energy = mac_e + sum(r.energy_pj for r in led.levels.values())
    return LayerCost(
        name=ctx.layer.name,
        macs=macs,
        latency_cycles=latency,
        ideal_cycles=float(ideal),
        temporal_cycles=float(temporal),
        stall_cycles=stall,
        onload_cycles=onload,
        offload_cycles=offload,
        drain_cycles=drain,
        energy_pj=energy,
        mac_energy_pj=mac_e,
        levels=led.levels,
        spatial_utilization=ideal / temporal,
        utilization=macs / (latency * arch.array.units),
        order=tuple(ld for ld, _ in loops),
    )


def _per_operand(book: dict[tuple[str, str], float]) -> dict[str, float]:
    """Per operand, its link times summed (its levels load one after another)."""
    out: dict[str, float] = {}
    for (op, _), cyc in book.items():
        out[op] = out.get(op, 0.0) + cyc
    return out


def _no_reduction_above(loops: list[tuple[str, int]], k: int) -> bool:
    return all(ld not in ("C", "FX", "FY") or f == 1 for ld, f in loops[k:])


def _fits_double(ctx: _Layer, alloc: _Alloc, m: MemoryLevel, op: str) -> bool:
    """ZigZag's double-buffering test: the operand's tile uses at most half of the level."""
    j = ctx.levels[op].index(m)
    k = alloc.bound[op][j]
    bits = ctx.prec[op] if op != "O" else ctx.prec["O"]
    return ctx.footprint(op, _ext_below(ctx, alloc.loops, k, ctx.inside[m.name])) * bits <= 0.5 * m.size_bits


def _orders(ctx: _Layer, limit: int) -> list[list[tuple[str, int]]]:
    """Candidate loop orders, innermost first: every order of the dimensions with more than
    one temporal iteration (a dimension's prime factors stay together, largest innermost),
    with groups ``G`` and batch ``B`` outermost (independent problems share nothing but the
    weights across ``B``); at most ``limit`` orders."""
    outer = [ld for ld in ("B", "G") if ctx.temporal[ld] > 1]
    dims = [ld for ld, t in ctx.temporal.items() if t > 1 and ld not in outer]
    factors = {ld: _prime_factors(ctx.temporal[ld]) for ld in dims + outer}
    out = []
    for perm in itertools.permutations(dims):
        out.append([(ld, f) for ld in (*perm, *outer) for f in factors[ld]])
        if len(out) >= limit:
            break
    return out or [[]]


def evaluate_layer(arch: Architecture, layer: Layer, max_orders: int = 720) -> LayerCost:
    """Map ``layer`` onto ``arch`` (best loop order by latency, then energy) and cost it."""
    ctx = _Layer(arch, layer)
    costs: list[LayerCost] = []
    for loops in _orders(ctx, max_orders):
        cost = _cost(ctx, _allocate(ctx, loops))
        costs.append(cost)
    fastest = min(c.latency_cycles for c in costs)
    # ties within 0.5 % of the fastest go to the least energy
    best = min((c for c in costs if c.latency_cycles <= fastest * 1.005), key=lambda c: c.energy_pj)
    return best


def evaluate_layers(arch: Architecture, layers: Sequence[Layer], max_orders: int = 720) -> list[LayerCost]:
    return [evaluate_layer(arch, layer, max_orders) for layer in layers]
