"""NAS search spaces: every sampled design builds a real nn.Module that runs forward."""

import numpy as np
import pytest
import torch
from _nas_fixtures import one_torch_thread  # noqa: F401  (autouse)

from archgym.design_space import InvalidDesignError
from archgym.envs.accelerator.tracing import trace_layers
from archgym.envs.nas.block_space import BlockSpace, make_divisible
from archgym.envs.nas.cell_space import (
    EDGES,
    OPS,
    CellSpace,
    arch_string,
    edge_name,
    parse_arch_string,
    uniform_cell,
)
from archgym.envs.nas.runtime import seeded


@pytest.fixture(scope="module")
def batch():
    return torch.randn(4, 1, 8, 8, generator=torch.Generator().manual_seed(0))


def _forward_ok(space, design, batch):
    model = space.build(design)
    model.eval()
    with torch.no_grad():
        out = model(batch)
    assert isinstance(model, torch.nn.Module)
    assert out.shape == (batch.shape[0], space.num_classes)
    assert torch.isfinite(out).all()


def test_cell_space_is_nas_bench_201():
    space = CellSpace()
    assert space.space.size == 5**6 == 15625
    assert space.space.names == tuple(edge_name(i, j) for i, j in EDGES)
    assert set(OPS) == set(space.space["edge_0_1"].choices)


def test_every_sampled_cell_builds_and_runs(batch):
    space = CellSpace()
    rng = np.random.default_rng(0)
    designs = [space.sample(rng) for _ in range(25)] + [uniform_cell(op) for op in OPS]
    for d in designs:
        _forward_ok(space, d, batch)


def test_every_sampled_block_design_builds_and_runs(batch):
    space = BlockSpace()
    rng = np.random.default_rng(1)
    designs = [space.sample(rng) for _ in range(12)] + [space.smallest(), space.largest()]
    for d in designs:
        _forward_ok(space, d, batch)


def test_cell_macro_settings(batch):
    space = CellSpace(channels=4, cells_per_stage=2)
    _forward_ok(space, uniform_cell("conv3x3"), batch)
    layers = trace_layers(space.build(uniform_cell("conv3x3")), (1, 1, 8, 8))
    # stem + 3 stages x 2 cells x 6 conv3x3 edges + 2 reductions x 3 convs + classifier
    assert len(layers) == 1 + 3 * 2 * 6 + 2 * 3 + 1
    assert max(l.K for l in layers if l.kind == "conv") == 16


def test_arch_string_round_trip():
    d = {
        "edge_0_1": "conv3x3",
        "edge_0_2": "conv3x3",
        "edge_1_2": "avgpool3x3",
        "edge_0_3": "skip",
        "edge_1_3": "conv3x3",
        "edge_2_3": "skip",
    }
    s = arch_string(d)
    assert s == (
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    )
    assert parse_arch_string(s) == d
    assert CellSpace().arch_key(d) == s
    with pytest.raises(ValueError):
        parse_arch_string("|nor_conv_3x3~0|+|bogus~0|none~1|+|none~0|none~1|none~2|")


def test_invalid_designs_are_rejected():
    with pytest.raises(InvalidDesignError, match="edge_0_1"):
        CellSpace().build({**uniform_cell("none"), "edge_0_1": "conv5x5"})
    with pytest.raises(InvalidDesignError, match="resolution"):
        bs = BlockSpace()
        bs.build({**bs.smallest(), "resolution": 9})


def test_block_space_knobs_change_the_network():
    space = BlockSpace()
    base = space.smallest()
    assert len(space.space) == 3 * space.config.num_stages + 2
    n_small = sum(p.numel() for p in space.build(base).parameters())
    n_big = sum(p.numel() for p in space.build(space.largest()).parameters())
    assert n_big > 5 * n_small
    # resolution: the stem sees the searched resolution (the network resizes its 8x8 input)
    for r in space.config.resolutions:
        layers = trace_layers(space.build({**base, "resolution": r}), (1, 1, 8, 8))
        assert r == layers[0].P
    # kernel size reaches the depthwise convolutions
    layers = trace_layers(space.build({**base, "stage2_kernel": 7}), (1, 1, 8, 8))
    assert any(l.kind == "dwconv" and l.R == 7 for l in layers)
    # depth adds blocks
    deeper = trace_layers(space.build({**base, "stage3_depth": 3}), (1, 1, 8, 8))
    assert len(deeper) == len(trace_layers(space.build(base), (1, 1, 8, 8))) + 2 * 3
    assert make_divisible(12, 8) == 16 and make_divisible(3, 4) == 4


def test_keys_distinguish_architectures_and_macro_settings():
    a, b = CellSpace(), CellSpace(channels=16)
    d = uniform_cell("skip")
    assert a.cache_key(d) != b.cache_key(d)
    assert a.cache_key(d) != a.cache_key(uniform_cell("none"))
    bs = BlockSpace()
    assert bs.arch_key(bs.smallest()) != bs.arch_key(bs.largest())


def test_seeded_builds_are_identical_and_leave_global_rng_alone():
    space = CellSpace()
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    with seeded(7):
        m1 = space.build(uniform_cell("conv3x3"))
    with seeded(7):
        m2 = space.build(uniform_cell("conv3x3"))
    assert torch.rand(1) == before
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(p1, p2)
