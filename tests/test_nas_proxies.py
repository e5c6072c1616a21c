"""Zero-cost proxies: finite, deterministic, and ranking a real cell above a degenerate one."""

import math

import numpy as np
import pytest
import torch
from _nas_fixtures import digits_fixture, one_torch_thread  # noqa: F401

from archgym.envs.accelerator.layers import total_macs
from archgym.envs.accelerator.tracing import trace_layers
from archgym.envs.nas.block_space import BlockSpace
from archgym.envs.nas.cell_space import CellSpace, uniform_cell
from archgym.envs.nas.proxies import (
    COST_PROXIES,
    DEFAULT_PROXIES,
    PROXIES,
    ProxyEvaluator,
    ProxySettings,
    check_proxy_names,
    naswot,
    synflow,
)


@pytest.fixture(scope="module")
def cell_scores(digits):
    ev = ProxyEvaluator(CellSpace(), digits)
    return {op: ev(uniform_cell(op)) for op in ("none", "conv3x3")}


def test_required_proxies_exist():
    assert {"synflow", "naswot", "grad_norm", "params_m", "flops_m"} <= set(PROXIES)
    assert set(DEFAULT_PROXIES) == set(PROXIES)


def test_proxies_rank_all_conv3x3_above_all_none(cell_scores):
    good, bad = cell_scores["conv3x3"], cell_scores["none"]
    for name in PROXIES:
        assert math.isfinite(good[name]) and math.isfinite(bad[name]), name
        assert good[name] > bad[name], (name, good[name], bad[name])


def test_degenerate_cell_scores_are_finite_floors(cell_scores):
    bad = cell_scores["none"]
    assert bad["synflow"] == 0.0  # output ignores the input: no synaptic flow
    assert bad["grad_norm"] == 0.0 or bad["grad_norm"] < 1.0
    assert bad["naswot"] < 0  # singular kernel, floored eigenvalues


def test_proxies_finite_on_sampled_designs(digits):
    rng = np.random.default_rng(3)
    for space, n in ((CellSpace(), 6), (BlockSpace(), 3)):
        ev = ProxyEvaluator(space, digits, settings=ProxySettings(batch_size=32))
        for _ in range(n):
            scores = ev(space.sample(rng))
            assert set(scores) == set(DEFAULT_PROXIES)
            assert all(math.isfinite(v) for v in scores.values()), scores


def test_proxies_are_deterministic_cached_and_leave_rng_alone(digits):
    design = {**uniform_cell("conv1x1"), "edge_0_3": "skip"}
    a = ProxyEvaluator(CellSpace(), digits, names=("naswot", "grad_norm", "synflow"))
    b = ProxyEvaluator(CellSpace(), digits, names=("naswot", "grad_norm", "synflow"))
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    first = a(design)
    assert torch.rand(1) == expected
    assert first == b(design)
    assert a(design) == first and a.cache.hits == 1 and a.cache.misses == 1
    c = ProxyEvaluator(CellSpace(), digits, names=("naswot",), settings=ProxySettings(seed=1))
    assert c(design)["naswot"] != first["naswot"]  # another initialisation and minibatch


def test_flops_proxy_counts_the_traced_layers(digits):
    space = CellSpace()
    model = space.build(uniform_cell("conv3x3"))
    x, y = digits.minibatch(8)
    expected = 2 * total_macs(trace_layers(model, (1, 1, 8, 8))) / 1e6
    assert PROXIES["flops_m"](model, x, y) == pytest.approx(expected)
    assert PROXIES["params_m"](model, x, y) == pytest.approx(sum(p.numel() for p in model.parameters()) / 1e6)


def test_naswot_and_synflow_on_simple_cases(digits):
    x, _ = digits.minibatch(16)
    y = torch.zeros(16, dtype=torch.long)
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10)
    )
    # distinct images give distinct codes: K is positive definite and log det is finite and large
    assert naswot(net, x, y) > 16 * math.log(1.0)
    # identical images: singular kernel, far lower score
    assert naswot(net, x[:1].repeat(16, 1, 1, 1), y) < naswot(net, x, y) - 50
    # synflow of a linear-ReLU chain is positive and does not modify the network
    before = [p.clone() for p in net.parameters()]
    assert synflow(net, x, y) > 0
    assert all(torch.equal(p, q) for p, q in zip(before, net.parameters()))


def test_unknown_proxy_names_are_rejected():
    with pytest.raises(ValueError, match="synflow"):
        check_proxy_names(["synflow", "snip"])
    with pytest.raises(ValueError):
        check_proxy_names([])
    assert set(COST_PROXIES) <= set(PROXIES)
