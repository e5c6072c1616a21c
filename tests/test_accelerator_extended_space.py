"""The extended (Timeloop-sized) accelerator space: at least ArchGym's Timeloop knobs, each
design built as an Architecture whose costs and area move the way its knobs say."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import archgym  # noqa: F401  (registers the envs)
from archgym.envs.accelerator.architecture import derived_access_pj, derived_area_mm2
from archgym.envs.accelerator.extended_simulator import ExtendedAcceleratorSimulator
from archgym.envs.accelerator.layers import Layer
from archgym.envs.accelerator.space import EYERISS_LIKE_EXTENDED, extended_design_space
from archgym.envs.accelerator.technology import DEFAULT_TECHNOLOGY as TECH
from archgym.envs.accelerator.templates import extended_architecture
from archgym.errors import ConfigError
from archgym.registry import make_env

BASE = EYERISS_LIKE_EXTENDED
LAYERS = [
    Layer("c", "conv", 1, 64, 64, 3, 3, 28, 28, padding=(1, 1, 1, 1)),
    Layer("fc", "gemm", 1, 256, 512, 1, 1, 49, 1),
]


def _metrics(**changes) -> dict[str, float]:
    return ExtendedAcceleratorSimulator().evaluate(dict(BASE, **changes), LAYERS)


def test_the_space_has_at_least_archgyms_timeloop_knobs():
    space = extended_design_space()
    assert len(space) >= 26  # ArchGym's Timeloop space has 26
    names = set(space.names)
    for op in "wio":  # per-operand scratchpads: depth, word width (block), read/write bandwidth
        assert {f"{op}_spad_words", f"{op}_spad_block", f"{op}_spad_rd", f"{op}_spad_wr"} <= names
    assert {"col_buf_kib", "glb_kib", "glb_banks", "glb_block", "noc_bw", "dram_bw"} <= names
    assert {"pe_rows", "pe_cols", "clock_mhz", "weight_bits", "act_bits", "dataflow"} <= names
    assert space.validate(BASE) == BASE


def test_memory_levels_sizes_and_widths_come_from_the_knobs():
    arch = extended_architecture(BASE)
    assert [m.name for m in arch.memories] == ["w_spad", "i_spad", "o_spad", "glb", "dram"]
    four = extended_architecture(dict(BASE, col_buf_kib=4, col_buf_operands="WI"))
    assert [m.name for m in four.memories] == ["w_spad", "i_spad", "o_spad", "col_buf", "glb", "dram"]
    assert [m.name for m in four.levels("W")] == ["w_spad", "col_buf", "glb", "dram"]
    assert [m.name for m in four.levels("O")] == ["o_spad", "glb", "dram"]
    assert four.instances(four.memories[3]) == BASE["pe_cols"]  # one per PE column
    w = extended_architecture(
        dict(BASE, w_spad_words=64, w_spad_block=2, w_spad_rd=4, weight_bits=8)
    ).memories[0]
    assert w.size_bits == 64 * 8
    assert (w.ports[0].bw_max, w.ports[0].bw_min) == (4 * 2 * 8, 2 * 8)
    # one bank's size sets the global buffer's access energy; banks x block words a cycle, up to the NoC
    glb = extended_architecture(dict(BASE, glb_banks=4, glb_block=2)).memories[-2]
    assert glb.ports[0].bw_max == min(64 * 8, 4 * 2 * 16)
    assert glb.read_pj == pytest.approx(derived_access_pj(108 * 8192 / 4, glb.ports[0].bw_max))


def test_area_comes_from_the_technology_tables():
    arch = extended_architecture(BASE)
    pes = BASE["pe_rows"] * BASE["pe_cols"]
    spads = sum(derived_area_mm2(BASE[f"{op}_spad_words"] * 16) for op in "wi")
    spads += derived_area_mm2(BASE["o_spad_words"] * 32)
    want = pes * (TECH.mac_um2(16) * 1e-6 + spads) + derived_area_mm2(108 * 8192)
    assert arch.area_mm2 == pytest.approx(want, rel=1e-12)
    assert _metrics()["area_mm2"] == pytest.approx(want, rel=1e-12)


def test_costs_move_the_way_the_knobs_say():
    base = _metrics()
    assert _metrics(glb_kib=1024)["area_mm2"] > base["area_mm2"]
    assert _metrics(weight_bits=8, act_bits=8)["energy_mac_pj"] < base["energy_mac_pj"]
    assert _metrics(clock_mhz=400)["latency_cycles"] >= base["latency_cycles"]  # DRAM is as fast in GB/s
    assert _metrics(clock_mhz=400)["latency_ms"] < base["latency_ms"]
    assert _metrics(pe_rows=24, pe_cols=32)["latency_cycles"] < base["latency_cycles"]
    assert _metrics(dram_bw=6.4)["latency_cycles"] >= base["latency_cycles"]
    # smaller banks cost less per access
    assert _metrics(glb_banks=128)["energy_glb_pj"] < _metrics(glb_banks=1, glb_block=4)["energy_glb_pj"]


def test_the_env_takes_space_extended():
    env = gymnasium.make(
        "archgym/Accelerator-v0",
        space="extended",
        workload=LAYERS,
        targets={"latency_ms": 1.0, "energy_uj": 100.0, "area_mm2": 5.0},
    ).unwrapped
    assert len(env.space) >= 26
    rng = np.random.default_rng(0)
    evs = env.evaluate([env.space.from_indices(i) for i in env.space.sample_indices(rng, 8)])
    assert all(e.metrics is not None and e.metrics["area_mm2"] > 0 for e in evs)
    with pytest.raises(ConfigError, match="space must be one of default, extended"):
        gymnasium.make("archgym/Accelerator-v0", space="huge", workload=LAYERS)
    with pytest.raises(ConfigError, match="space=extended is costed by hierarchy only"):
        make_env("archgym/Accelerator-v0", simulator="template", space="extended", workload=LAYERS)
    hier = make_env("archgym/Accelerator-v0", simulator="hierarchy", space="extended", workload=LAYERS)
    assert isinstance(hier.unwrapped.simulator, ExtendedAcceleratorSimulator)
