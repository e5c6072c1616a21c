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
from archgym.envs.accelerator.hierarchy_model import (
    evaluate_batch,
    evaluate_layer,
    evaluate_mapping,
    goal_key,
    layer_dims,
    spatial_unrolling,
)
from archgym.envs.accelerator.templates import template_architecture

TIE = 1.005
PERMUTED = ("K", "OX", "OY", "C", "FX", "FY")  # the kernel's order of candidate dimensions


def _prime_factors(n: int) -> list[int]:
    out, p = [], 2
    while n > 1:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return sorted(out, reverse=True)


def _every_order(arch, layer):
    """``(order, latency, energy)`` of every grouped-factor loop order, in the search order."""
    dims = layer_dims(layer)
    unroll = spatial_unrolling(arch, dims)
    total = {ld: int(np.prod([u.get(ld, 1) for u in unroll.values()])) for ld in dims}
    temporal = {ld: -(-dims[ld] // total[ld]) for ld in dims}
    permuted = [ld for ld in PERMUTED if temporal[ld] > 1]
    outer = [ld for ld in ("B", "G") if temporal[ld] > 1]
    for perm in itertools.permutations(permuted):
        loops = [(ld, f) for ld in (*perm, *outer) for f in _prime_factors(temporal[ld])]
        cost = evaluate_mapping(arch, layer, loops).cost
        yield cost.order, cost.latency_cycles, cost.energy_pj


def _rule(candidates, goal: str):
    """The mapper goal's pick: within TIE of the best goal value, the best tie-breaker, the first."""
    keys = [goal_key(goal, lat, en) for _, lat, en in candidates]
    best = min(k[0] for k in keys)
    band = [i for i, k in enumerate(keys) if k[0] <= best * TIE]
    return candidates[min(band, key=lambda i: (keys[i][1], i))]


@pytest.mark.parametrize("goal", ["latency", "edp"])
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
