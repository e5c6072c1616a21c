"""The hierarchy model's mapper goals (latency / energy / EDP) and its spatial-mapping generation
for ZigZag mapping files that leave array dimensions open."""

import math

import numpy as np
import pytest

from archgym.envs.accelerator import AcceleratorSimulator, load_workload
from archgym.envs.accelerator import hierarchy_kernel as kernel
from archgym.envs.accelerator.architecture import Architecture
from archgym.envs.accelerator.env import hierarchy_simulator, make_accelerator_env
from archgym.envs.accelerator.hierarchy_model import (
    evaluate_layers,
    layer_dims,
    spatial_candidates,
    unique_layers,
)
from archgym.envs.accelerator.mapping_cost import prime_factors

zz = pytest.importorskip("archgym.envs.accelerator.zigzag_bridge")
if not zz.zigzag_available():
    pytest.skip("ZigZag's bundled hardware files need zigzag-dse", allow_module_level=True)
INPUTS = zz.zigzag_inputs_dir()

#: ZigZag 3.9.1's ResNet-18 totals (latency cycles, energy pJ; all 21 layers) with ``opt`` =
#: the goal, from ``python benchmarks/bench_accelerator_fidelity.py --network resnet18 --opt GOAL
#: [--mapping default] --cache zz.json`` (ZigZag one run per distinct layer, 2026-12-07)
ZIGZAG_RESNET18 = {
    ("tpu_like", "tpu_like", "energy"): (4106119.0, 1860446855.088),
    ("eyeriss_like", "default", "energy"): (17060506.0, 13702356818.0),
    ("tpu_like", "tpu_like", "edp"): (3867529.0, 1864047751.408),
    ("gemm_l1_l3", "gemm_l1_l3", "energy"): (1814090688.0, 71161997644.56),
    ("gemm_l1_l3", "gemm_l1_l3", "edp"): (1814090688.0, 71161997644.56),  # the same mappings
    ("tesla_npu_like", "tesla_npu_like", "latency"): (2712475.0, 1834852275.688),
    ("meta_prototype", "meta_prototype_like", "latency"): (2723036.0, 1824433670.72),
    ("tesla_npu_like", "tesla_npu_like", "energy"): (2727853.0, 1727390583.604),
    ("meta_prototype", "meta_prototype_like", "energy"): (2768868.0, 1685332896.0),
    ("tesla_npu_like", "tesla_npu_like", "edp"): (2726561.0, 1727716855.284),
    ("meta_prototype", "meta_prototype_like", "edp"): (2748528.0, 1687449828.8),
    ("eyeriss_like", "default", "edp"): (15663849.0, 13947665739.0),
    ("meta_prototype", "default", "latency"): (2722612.0, 1822872656.24),
    ("edge_tpu_like", "default", "latency"): (3050655.0, 1943122810.51),
    ("tesla_npu_like", "default", "latency"): (15152112.0, 4132297661.904),
    # --opt edp --hardware edge_tpu_like generic_array_cacti ascend_like (2026-12-08)
    ("edge_tpu_like", "edge_tpu_like", "edp"): (3051851.0, 1902637139.15),
    ("generic_array_cacti", "default", "edp"): (2888237.0, 673494867.76),
    ("ascend_like", "ascend_like", "edp"): (3025330.0, 1743110555.12),
}
#: our totals / ZigZag's on the same rows when recorded (the test checks our model still
#: gives them, within 2 %)
OURS_OVER_ZIGZAG = {
    ("tpu_like", "tpu_like", "energy"): (1.000, 1.001),
    ("eyeriss_like", "default", "energy"): (0.994, 0.987),
    ("tpu_like", "tpu_like", "edp"): (1.007, 0.998),
    ("gemm_l1_l3", "gemm_l1_l3", "energy"): (1.000, 0.827),
    ("gemm_l1_l3", "gemm_l1_l3", "edp"): (1.000, 0.827),
    ("tesla_npu_like", "tesla_npu_like", "latency"): (0.992, 0.956),
    ("meta_prototype", "meta_prototype_like", "latency"): (0.997, 0.963),
    ("tesla_npu_like", "tesla_npu_like", "energy"): (0.989, 1.011),
    ("meta_prototype", "meta_prototype_like", "energy"): (0.983, 1.014),
    ("tesla_npu_like", "tesla_npu_like", "edp"): (0.989, 1.011),
    ("meta_prototype", "meta_prototype_like", "edp"): (0.990, 1.013),
    ("eyeriss_like", "default", "edp"): (1.030, 0.979),
    ("meta_prototype", "default", "latency"): (0.997, 0.964),  # 1.020 before outputs were sized final
    ("edge_tpu_like", "default", "latency"): (0.998, 1.034),
    ("tesla_npu_like", "default", "latency"): (1.000, 0.600),
    ("edge_tpu_like", "edge_tpu_like", "edp"): (0.997, 1.055),
    ("generic_array_cacti", "default", "edp"): (1.000, 1.000),
    ("ascend_like", "ascend_like", "edp"): (0.990, 1.028),
}


def _arch(hw: str, mapping: str) -> Architecture:
    return Architecture.from_zigzag(
        INPUTS / "hardware" / f"{hw}.yaml", INPUTS / "mapping" / f"{mapping}.yaml"
    )


def _resnet18():
    return load_workload(str(INPUTS / "workload" / "resnet18.onnx")).layers


def test_each_goal_wins_on_its_own_metric_and_changes_some_mapping():
    arch = _arch("eyeriss_like", "default")
    layers = unique_layers(_resnet18())[0]
    by_goal = {g: evaluate_layers(arch, layers, mapper_objective=g) for g in ("latency", "energy", "edp")}
    differs = 0
    for i in range(len(layers)):
        lat = {g: c[i].latency_cycles for g, c in by_goal.items()}
        en = {g: c[i].energy_pj for g, c in by_goal.items()}
        edp = {g: lat[g] * en[g] for g in lat}
        # each goal keeps the best by its metric (within the 0.5 % tie band)
        assert lat["latency"] <= min(lat.values()) * kernel.TIE
        assert en["energy"] <= min(en.values()) * kernel.TIE
        assert edp["edp"] <= min(edp.values()) * kernel.TIE
        differs += by_goal["latency"][i].order != by_goal["energy"][i].order
    assert differs >= 1  # the goal changes the chosen loop order on some layers


def test_latency_is_the_default_goal_and_bad_goals_are_refused():
    arch = _arch("tpu_like", "tpu_like")
    layers = unique_layers(_resnet18())[0][:3]
    assert [c.record() for c in evaluate_layers(arch, layers)] == [
        c.record() for c in evaluate_layers(arch, layers, mapper_objective="latency")
    ]
    with pytest.raises(ValueError, match="mapper_objective"):
        evaluate_layers(arch, layers, mapper_objective="power")
    with pytest.raises(ValueError, match="hierarchy"):
        AcceleratorSimulator(model="template", mapper_objective="energy")


def test_simulator_and_env_pass_the_goal_on():
    layers = unique_layers(_resnet18())[0][:4]
    arch = _arch("eyeriss_like", "default")
    for goal in ("energy", "edp"):
        sim = AcceleratorSimulator(model="hierarchy", mapper_objective=goal)
        recs = sim.evaluate_layers(arch, layers)
        direct = evaluate_layers(arch, layers, mapper_objective=goal)
        assert [r["energy_pj"] for r in recs] == [c.energy_pj for c in direct]
        assert goal in sim.version
    env = make_accelerator_env("resnet18", mapper_objective="energy", targets={"latency_ms": 1.0})
    assert env.simulator.mapper_objective == "energy"
    # env.simulator=hierarchy takes the env's goal over unless its settings name another
    assert hierarchy_simulator(env, {}).mapper_objective == "energy"
    assert hierarchy_simulator(env, {"mapper_objective": "edp"}).mapper_objective == "edp"
    with pytest.raises(ValueError, match="mapper_objective"):
        make_accelerator_env("resnet18", mapper_objective="speed", targets={"latency_ms": 1.0})


def test_energy_goal_lowers_network_energy_of_designs():
    from archgym.envs.accelerator import accelerator_design_space

    space = accelerator_design_space()
    rng = np.random.default_rng(1)
    designs = [space.from_indices(i) for i in space.sample_indices(rng, 6)]
    wl = load_workload("resnet18")
    lat = AcceleratorSimulator(model="hierarchy").evaluate_arrays(designs, wl)
    en = AcceleratorSimulator(model="hierarchy", mapper_objective="energy").evaluate_arrays(designs, wl)
    assert np.all(en["energy_uj"] <= lat["energy_uj"] * kernel.TIE)  # per layer within the tie band
    assert (en["energy_uj"] < lat["energy_uj"]).any()
    assert np.all(lat["latency_cycles"] <= en["latency_cycles"] * kernel.TIE)


def test_unrolling_limited_by_the_innermost_memorys_bandwidth():
    # tesla_npu_like: a 1-byte weight register serves D2 and D3, so only weight-irrelevant
    # dims may unroll there (ZigZag's limit): default.yaml's "C, 32" on D2 becomes C 1
    arch = _arch("tesla_npu_like", "default")
    assert arch.spatial_mapping["D2"] == (("C", 1),)
    assert arch.spatial_limits["D3"]["K"] == 1 and arch.spatial_limits["D3"]["OX"] == 32
    for layer in unique_layers(_resnet18())[0]:
        for mapping in spatial_candidates(arch, layer_dims(layer)):
            assert all(ld in ("B", "OX", "OY") or f == 1 for ld, f in mapping["D3"])
    # the own mapping file's unrollings are within the limits and unchanged
    own = _arch("tesla_npu_like", "tesla_npu_like")
    assert own.spatial_mapping == {"D1": (("K", 32),), "D2": (("OX", 8),), "D3": (("OY", 4),)}


def test_open_array_dimensions_get_generated_unrollings_within_the_array():
    arch = _arch("meta_prototype", "default")  # D1 32 (K), D2 2 (C 32 asked), D3 4, D4 4 open
    assert set(arch.spatial_hints) == {"D3", "D4"}
    for layer in unique_layers(_resnet18())[0]:
        dims = layer_dims(layer)
        cands = spatial_candidates(arch, dims)
        assert 1 <= len(cands) <= 3
        for mapping in cands:
            total: dict[str, int] = {}
            for d, size in arch.array.dims.items():
                entries = mapping.get(d, ())
                used = 1
                for ld, f in entries:
                    f = min(f, size, dims.get(ld, 1))  # the clip the model applies to given factors
                    used *= f
                    total[ld] = total.get(ld, 1) * f
                assert used <= size
            assert all(total[ld] <= dims[ld] for ld in total if ld in dims)


@pytest.mark.parametrize("key", sorted(ZIGZAG_RESNET18))
def test_recorded_zigzag_totals_for_each_goal(key):
    hw, mapping, goal = key
    zz_lat, zz_en = ZIGZAG_RESNET18[key]
    costs = evaluate_layers(_arch(hw, mapping), _resnet18(), mapper_objective=goal)
    lat = sum(c.latency_cycles for c in costs) / zz_lat
    en = sum(c.energy_pj for c in costs) / zz_en
    if key != ("tesla_npu_like", "default", "latency"):  # its energy is 0.60x (see the README)
        assert 0.8 <= lat <= 1.25 and 0.8 <= en <= 1.25  # the bound on totals
    want_lat, want_en = OURS_OVER_ZIGZAG[key]
    assert lat == pytest.approx(want_lat, rel=0.02)
    assert en == pytest.approx(want_en, rel=0.02)


def test_meta_prototype_default_mapping_uses_the_whole_array():
    arch = _arch("meta_prototype", "default")
    layer = unique_layers(_resnet18())[0][5]
    cost = evaluate_layers(arch, [layer])[0]
    without = evaluate_layers(arch.with_spatial_mapping(arch.spatial_mapping), [layer])[0]  # D3, D4 idle
    assert cost.latency_cycles < without.latency_cycles / 4
    assert cost.spatial_utilization > 0.5
    assert math.isfinite(cost.energy_pj)


def test_evaluate_mapping_reproduces_the_mappers_choice_and_flags_overflow():
    from archgym.envs.accelerator.hierarchy_model import evaluate_mapping, spatial_unrolling

    arch = _arch("tpu_like", "tpu_like")
    layer = unique_layers(_resnet18())[0][4]
    best = evaluate_layers(arch, [layer])[0]
    dims = layer_dims(layer)
    unroll: dict[str, int] = {}
    for used in spatial_unrolling(arch, dims).values():
        for ld, u in used.items():
            unroll[ld] = unroll.get(ld, 1) * u
    left = {ld: prime_factors(-(-dims[ld] // unroll.get(ld, 1))) for ld in dims}
    loops = [(ld, left[ld].pop(0)) for ld in best.order]  # each dim's factors largest first
    got = evaluate_mapping(arch, layer, loops)
    assert got.feasible and got.cost.record() == best.record()
    # everything held in the innermost levels: the register files overflow
    n = len(loops)
    inner = {op: [n] * len(arch.levels(op)) for op in ("W", "I", "O")}
    over = evaluate_mapping(arch, layer, loops, bounds=inner)
    assert not over.feasible and "exceed" in over.reason
    with pytest.raises(ValueError, match="cover the layer"):
        evaluate_mapping(arch, layer, loops[:-1])


#: ZigZag's own energy-goal choice (LOMA, lpf_limit 6; energy pJ) on two ResNet-18 layers, from
#: ``python benchmarks/bench_accelerator_fidelity.py --network resnet18 --opt energy --hardware
#: eyeriss_like gemm_l1_l3 --cache zz.json`` (2026-12-07), where our mapper's choice has less
#: energy: (hardware, mapping file, layer index, ZigZag's energy)
ZIGZAG_OWN_ENERGY_CHOICE = [
    ("eyeriss_like", "default", 6, 907593494.0),  # layer2.0.conv2: 128 -> 128 channels, 28 x 28
    ("gemm_l1_l3", "gemm_l1_l3", 1, 4462507125.76),  # layer1.0.conv1: 64 -> 64 channels, 56 x 56
]


@pytest.mark.parametrize(("hw", "mapping", "index", "zz_own"), ZIGZAG_OWN_ENERGY_CHOICE)
def test_zigzag_costs_our_energy_choice_below_its_own(hw, mapping, index, zz_own):
    """Where our energy-goal totals are below ZigZag's (gemm_l1_l3 0.83x, see the README) the
    gap is LOMA's search, not the cost model: given the mapping our mapper keeps as its loop
    order, ZigZag costs it within 0.5 % of our energy and 5 % to 25 % below its own choice."""
    from archgym.envs.accelerator.mapping_cost import mapper_mapping
    from archgym.envs.accelerator.zigzag_bridge import run_zigzag_mapping

    arch = _arch(hw, mapping)
    layer = _resnet18()[index]
    ours = evaluate_layers(arch, [layer], mapper_objective="energy")[0]
    chosen = mapper_mapping(arch, layer, ours.order)
    spatial = {d: chosen.spatial.get(d) or (("K", 1),) for d in arch.array.dims}  # idle: factor 1
    ref = run_zigzag_mapping(layer, INPUTS / "hardware" / f"{hw}.yaml", spatial, chosen.loops, opt="energy")
    assert ours.energy_pj == pytest.approx(ref.energy_pj, rel=0.005)
    assert 0.75 * zz_own < ref.energy_pj < 0.95 * zz_own


def test_an_output_tile_above_every_reduction_loop_takes_final_precision():
    """ZigZag's memory allocator sizes an output tile with every reduction loop below it at the
    final-output precision (8 bits, not the 16-bit partial sums): ZigZag's own energy-goal
    mapping of layer3.0's downsampling on eyeriss_like keeps 2 x 14 x 256 outputs in the 8 KB
    output SRAM (57,344 bits at 8 bits; 114,688 at 16 would not fit). Given that mapping, ours
    finds it feasible and costs it within 0.5 % of ZigZag's energy (53,134,531.5 pJ, from the
    same command as ZIGZAG_OWN_ENERGY_CHOICE; the loops and their levels read from ZigZag's
    chosen ``temporal_mapping``)."""
    from archgym.envs.accelerator.hierarchy_model import evaluate_mapping

    arch = _arch("eyeriss_like", "default")
    layer = _resnet18()[12]
    loops = [("OX", 2), ("OY", 2), ("C", 11), ("K", 19), ("OY", 7), ("OX", 7)]
    bounds = {"W": [3, 6, 6], "I": [4, 6, 6], "O": [3, 5, 6, 6]}  # loops at or below each level
    sram_8kb = next(m for m in arch.memories if m.name == "sram_8KB")
    assert 2 * 14 * 256 * 8 <= sram_8kb.size_bits < 2 * 14 * 256 * 16
    got = evaluate_mapping(arch, layer, loops, bounds=bounds)
    assert got.feasible
    assert got.cost.energy_pj == pytest.approx(53134531.5, rel=0.005)


#: ZigZag 3.9.1's latency (cycles) of ResNet-18's conv1 (7x7, stride 2, 3 -> 64 channels) with
#: each hardware's own mapping file, recorded with ``zigzag_bridge.run_zigzag([conv1], hardware,
#: mapping)`` (LOMA, opt=latency, 2026-12-07), and our latency / ZigZag's (1.85x and 1.47x while
#: every output tile was sized as 16-bit partial sums, which halved the output tiles the
#: levels above the reduction loops could hold)
ZIGZAG_CONV1 = {
    ("tesla_npu_like", "tesla_npu_like"): (119202.0, 0.967),
    ("meta_prototype", "meta_prototype_like"): (154579.0, 1.067),
}


@pytest.mark.parametrize(("hw", "mapping"), sorted(ZIGZAG_CONV1))
def test_conv1_latency_with_final_precision_outputs(hw, mapping):
    zz_cycles, ratio = ZIGZAG_CONV1[(hw, mapping)]
    conv1 = _resnet18()[0]
    got = evaluate_layers(_arch(hw, mapping), [conv1])[0].latency_cycles / zz_cycles
    assert got == pytest.approx(ratio, rel=0.005)


#: ZigZag 3.9.1's latency-goal choice for ResNet-18's layer1.0.conv1 (64 -> 64 channels, 56 x 56):
#: its temporal loops (innermost first), the loops at or below each memory level per operand,
#: and its latency (cycles) and energy (pJ), read from ZigZag's ``temporal_mapping`` (``python
#: benchmarks/bench_accelerator_fidelity.py --network resnet18 --hardware HW --cache zz.json``,
#: 2026-12-08)
ZIGZAG_LATENCY_CHOICE = {
    ("generic_array_cacti", "default"): (
        [("K", 2), ("C", 2), ("FY", 3), ("FX", 3), ("OY", 56), ("OX", 56)],
        {"O": [4, 6, 6], "W": [6, 6, 6], "I": [4, 6, 6]},
        112917.0,
        47849407.36,
    ),
    ("gemm_l1_l3", "gemm_l1_l3"): (
        [("FX", 3), ("FY", 3), ("OY", 56), ("OX", 56), ("C", 64), ("K", 64)],
        {"O": [2, 5, 6], "W": [6, 6], "I": [4, 6]},
        115606179.0,
        7742961320.96,
    ),
}


@pytest.mark.parametrize(("hw", "mapping"), sorted(ZIGZAG_LATENCY_CHOICE))
def test_zigzags_latency_choice_is_faster_and_outside_our_candidates(hw, mapping):
    """Why our latency-goal energy is 0.65x-0.69x ZigZag's on these files (README, "Why the
    energy-at-equal-latency gap stays"): ZigZag keeps the strictly fastest mapping. Ours costs
    ZigZag's choice as ZigZag does (latency within 1e-4, energy within 1.5 %) and faster than
    our own pick, so it is not among our candidates (LOMA gives a level whole loops); our pick,
    within the 0.5 % tie band, has 0.86x / 0.46x of its energy."""
    from archgym.envs.accelerator.hierarchy_model import evaluate_mapping

    loops, bounds, zz_lat, zz_en = ZIGZAG_LATENCY_CHOICE[(hw, mapping)]
    arch = _arch(hw, mapping)
    layer = _resnet18()[1]
    theirs = evaluate_mapping(arch, layer, loops, bounds=bounds)
    assert theirs.feasible
    assert theirs.cost.latency_cycles == pytest.approx(zz_lat, rel=1e-4)
    assert theirs.cost.energy_pj == pytest.approx(zz_en, rel=0.015)
    ours = evaluate_layers(arch, [layer])[0]
    assert theirs.cost.latency_cycles < ours.latency_cycles <= theirs.cost.latency_cycles * kernel.TIE
    assert ours.energy_pj < 0.9 * theirs.cost.energy_pj
