"""Hardware cost of a network = the sum of its layers' costs from the accelerator model."""

import numpy as np
import pytest
from _nas_fixtures import one_torch_thread  # noqa: F401

from archgym.envs.accelerator import (
    EYERISS_LIKE,
    AcceleratorSimulator,
    accelerator_design_space,
    trace_layers,
)
from archgym.envs.nas.block_space import BlockSpace
from archgym.envs.nas.cell_space import CellSpace, uniform_cell
from archgym.envs.nas.hardware import HW_METRICS, HardwareCost
from archgym.envs.nas.runtime import seeded

ACCELERATORS = [
    dict(EYERISS_LIKE),
    dict(
        dataflow="ws",
        pe_rows=16,
        pe_cols=16,
        rf_bytes=64,
        glb_kib=256,
        noc_bw=128,
        dram_bw=51.2,
        clock_mhz=1000,
        precision_bits=8,
    ),
    dict(
        dataflow="os",
        pe_rows=8,
        pe_cols=32,
        rf_bytes=32,
        glb_kib=64,
        noc_bw=32,
        dram_bw=12.8,
        clock_mhz=600,
        precision_bits=16,
    ),
]


@pytest.mark.parametrize(
    "space,design",
    [
        (CellSpace(), {**uniform_cell("conv3x3"), "edge_0_3": "skip", "edge_1_2": "avgpool3x3"}),
        (BlockSpace(), {**BlockSpace().smallest(), "stage2_kernel": 5, "stage3_expand": 6, "resolution": 12}),
    ],
)
@pytest.mark.parametrize("acc", ACCELERATORS, ids=["eyeriss", "ws", "os"])
def test_network_cost_is_the_sum_of_its_layers(space, design, acc):
    hw = HardwareCost(space)
    net = hw.cost(design, [acc])[0]
    sim = AcceleratorSimulator()
    layers = hw.layers(design)
    # each layer costed alone by the accelerator model, as a one-layer workload
    alone = [sim.evaluate(acc, [layer]) for layer in layers]
    assert net["latency_ms"] == pytest.approx(sum(a["latency_ms"] for a in alone), rel=1e-9)
    assert net["energy_uj"] == pytest.approx(sum(a["energy_uj"] for a in alone), rel=1e-9)
    assert all(a["area_mm2"] == pytest.approx(net["area_mm2"]) for a in alone)
    # the per-layer breakdown read from the model's result sums to the same totals
    per_layer = hw.layer_costs(design, acc)
    assert [p["layer"] for p in per_layer] == [l.name for l in layers]
    assert net["latency_ms"] == pytest.approx(sum(p["latency_ms"] for p in per_layer), rel=1e-9)
    assert net["energy_uj"] == pytest.approx(sum(p["energy_uj"] for p in per_layer), rel=1e-9)


def test_layers_come_from_the_accelerator_tracer():
    space = CellSpace()
    design = uniform_cell("conv1x1")
    with seeded(0):
        expected = trace_layers(space.build(design), (1, *space.input_shape))
    hw = HardwareCost(space)
    assert list(hw.layers(design)) == expected
    assert hw.layers(design) is hw.layers(design)  # traced once per architecture
    assert hw.cache.misses == 1
    assert HardwareCost(space, batch=4).layers(design)[0].N == 4


def test_costs_are_vectorised_over_accelerators_and_ordered():
    space = CellSpace()
    hw = HardwareCost(space)
    design = uniform_cell("conv3x3")
    batch = hw.cost(design, ACCELERATORS)
    for acc, row in zip(ACCELERATORS, batch):
        assert row == pytest.approx(hw.cost(design, [acc])[0])
        assert set(row) == set(HW_METRICS)
    rng = np.random.default_rng(0)
    accs = [accelerator_design_space().sample(rng) for _ in range(16)]
    assert len(hw.cost(design, accs)) == 16


def test_bigger_networks_cost_more():
    space = CellSpace()
    hw = HardwareCost(space)
    big, small = (hw.cost(uniform_cell(op), [EYERISS_LIKE])[0] for op in ("conv3x3", "none"))
    assert big["latency_ms"] > small["latency_ms"] and big["energy_uj"] > small["energy_uj"]
    assert big["area_mm2"] == small["area_mm2"]  # area depends on the accelerator only


def test_bad_inputs_are_reported():
    with pytest.raises(ValueError, match="unknown accelerator metric"):
        HardwareCost(CellSpace(), metrics=("latency_ms", "watts"))
    hw = HardwareCost(CellSpace())
    with pytest.raises(Exception, match="pe_rows"):
        hw.cost(uniform_cell("skip"), [{**EYERISS_LIKE, "pe_rows": 13}])
