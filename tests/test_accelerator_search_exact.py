"""The hierarchy mapper's pruned search picks what costing every loop order would pick.

The compiled search skips loop orders it can prove cannot be chosen (a stall bound past the
tie band, mirror images of symmetric layers, orders that cost what an earlier one cost). Here
every order of the grouped-factor search is costed on its own through
:func:`~archgym.envs.accelerator.hierarchy_model.evaluate_mapping` (the same compiled cost
and greedy allocation, no search) and the mapper goal's rule applied by hand: the search must
return the same order and, bit for bit, the same latency and energy.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from archgym.envs.accelerator import accelerator_design_space, load_workload
from archgym.envs.accelerator import hierarchy_kernel as kernel
from archgym.envs.accelerator.hierarchy_model import (
    evaluate_batch,
    evaluate_layer,
    evaluate_mapping,
    goal_key,
    layer_dims,
    spatial_unrolling,
)
from archgym.envs.accelerator.mapping_cost import prime_factors
from archgym.envs.accelerator.templates import template_architecture

TIE = 1.005
PERMUTED = ("K", "OX", "OY", "C", "FX", "FY")  # the kernel's order of candidate dimensions


def _every_order(arch, layer):
    """``(order, latency, energy)`` of every grouped-factor loop order, in the search order."""
    dims = layer_dims(layer)
    unroll = spatial_unrolling(arch, dims)
    total = {ld: int(np.prod([u.get(ld, 1) for u in unroll.values()])) for ld in dims}
    temporal = {ld: -(-dims[ld] // total[ld]) for ld in dims}
    permuted = [ld for ld in PERMUTED if temporal[ld] > 1]
    outer = [ld for ld in ("B", "G") if temporal[ld] > 1]
    for perm in itertools.permutations(permuted):
        loops = [(ld, f) for ld in (*perm, *outer) for f in prime_factors(temporal[ld])]
        cost = evaluate_mapping(arch, layer, loops).cost
        yield cost.order, cost.latency_cycles, cost.energy_pj


def _rule(candidates, goal: str):
    """The mapper goal's pick: within TIE of the best goal value, the best tie-breaker, the first."""
    keys = [goal_key(goal, lat, en) for _, lat, en in candidates]
    best = min(k[0] for k in keys)
    band = [i for i, k in enumerate(keys) if k[0] <= best * TIE]
    return candidates[min(band, key=lambda i: (keys[i][1], i))]


@pytest.mark.parametrize("goal", ["latency", "energy", "edp"])
def test_pruned_search_picks_what_the_full_search_picks(goal):
    space = accelerator_design_space()
    rng = np.random.default_rng(3)
    layers = load_workload("resnet18").layers
    picks = [layers[i] for i in (1, 12)]  # 3x3 convolutions, 56x56x64 and 14x14x256
    checked = 0
    for idx in space.sample_indices(rng, 3):
        arch = template_architecture(space.from_indices(idx))
        for layer in picks:
            order, lat, en = _rule(list(_every_order(arch, layer)), goal)
            got = evaluate_layer(arch, layer, mapper_objective=goal)
            assert (got.order, got.latency_cycles, got.energy_pj) == (order, lat, en)
            checked += 1
    assert checked == 6


@pytest.mark.slow
def test_threads_give_the_same_results():
    space = accelerator_design_space()
    rng = np.random.default_rng(5)
    archs = [template_architecture(space.from_indices(i)) for i in space.sample_indices(rng, 8)]
    layers = load_workload("resnet18").layers
    one = evaluate_batch(archs, layers)
    two = evaluate_batch(archs, layers, threads=2)
    for name, v in one.scalars.items():
        assert np.array_equal(v, two.scalars[name]), name
    assert np.array_equal(one.level_energy_pj, two.level_energy_pj)


def _prefix_bounds_and_costs(arch, layer):
    """Per loop order: its cost and, per prefix of its permuted dims, the search's bound."""
    packed = kernel.pack_architectures([arch])
    shape = kernel.pack_layers([layer])[0][0]
    ws = kernel._scratch(kernel.MAX_ARRAY_DIMS, kernel.MAX_MEMORIES, kernel.MAX_PORTS, 1)
    av = kernel._view(packed, 0)
    drain = kernel._spatial_step(packed, 0, shape, ws.sp, ws.pl)
    n_perm = kernel._loop_factors(ws.sp.temporal, ws.lp)
    lp, energy = ws.lp, ws.lg.level[kernel.ENERGY]
    out = []
    for perm in itertools.permutations(range(n_perm)):
        lp.perm[:n_perm] = perm
        n = kernel._build_loops(
            lp.perm, n_perm, lp.perm_dims, lp.factors, lp.n_factors, ws.sp.temporal, -1, 0, 0,
            lp.loop_ld, lp.loop_f,
        )  # fmt: skip
        kernel.allocate(lp.loop_ld, lp.loop_f, n, av, ws.pl, shape, ws.al)
        t, s, on, off = kernel.cost_order(
            lp.loop_ld, lp.loop_f, n, av, ws.pl, ws.al, shape, ws.tt, ws.lg, 1.0, np.inf, np.inf
        )
        en = 0.0
        for m in range(av.n_mem):  # in the kernel's order (numpy's sum rounds differently)
            en += energy[m]
        cost = (t + s + on + off + drain, en)
        last_red = kernel.last_reduction(lp.loop_ld, lp.loop_f, n)
        bounds, upto = [], 0
        for r in range(1, n_perm):
            upto += lp.n_factors[lp.perm_dims[perm[r - 1]]]
            left = any(kernel.REDUCTION[lp.perm_dims[u]] for u in perm[r:])
            red = kernel.MAX_LOOPS + 1 if left else last_red
            kernel.allocation_start(av, ws.pl, shape, ws.al, red)
            kernel.allocate_loops(lp.loop_ld, lp.loop_f, 0, upto, red, av, ws.pl, shape, ws.al)
            lat, en = kernel._prefix_bound(
                lp.loop_ld, lp.loop_f, n, upto, av, ws.pl, ws.al, ws.tree.al, shape, ws.tt, ws.lg, 1.0, drain,
                0.0, 0, np.inf,
            )  # fmt: skip
            bounds.append((perm[:r], lat, en))
        out.append((perm, cost, bounds))
    return out


def test_prefix_bound_is_below_every_completion():
    """:func:`~archgym.envs.accelerator.hierarchy_kernel._prefix_bound` of a prefix of the
    permuted dims, bit for bit, is at most the latency and the memory energy of every order
    that starts with it; and it is not vacuous (it equals an order's cost at times)."""
    space = accelerator_design_space()
    rng = np.random.default_rng(9)
    layers = load_workload("resnet18").layers
    tight = checked = 0
    for idx in space.sample_indices(rng, 3):
        arch = template_architecture(space.from_indices(idx))
        for layer in (layers[1], layers[12], layers[-2]):
            rows = _prefix_bounds_and_costs(arch, layer)
            for _, _, bounds in rows:
                for prefix, lat_b, en_b in bounds:
                    below = [cost for perm, cost, _ in rows if perm[: len(prefix)] == prefix]
                    assert all(lat_b <= lat and en_b <= en for lat, en in below)
                    tight += any(lat_b == lat for lat, _ in below)
                    checked += 1
    assert checked > 100
    assert tight > 0
