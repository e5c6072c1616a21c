"""Fidelity against ZigZag 3.9.1 (run inside the tests), and ZigZag as the env's second simulator.

Reference figures (zigzag-dse 3.9.1, LOMA, minimal latency; produced by
``run_zigzag(layers, hardware, mapping)`` here and by
``python benchmarks/bench_accelerator_fidelity.py --hardware tpu_like eyeriss_like --network resnet18``):
ResNet-18 layer1.0.conv1 on tpu_like takes 138,048 cycles and 67.00 uJ (112,896 ideal cycles
plus 25,088 on-loading cycles, as issue 13 reports).
"""

from pathlib import Path

import pytest

from archgym.envs.accelerator import EYERISS_LIKE, Layer, load_workload
from archgym.envs.accelerator.architecture import Architecture
from archgym.envs.accelerator.hierarchy_model import evaluate_layer
from archgym.simulator import SimulationError
from archgym.validate import spearman

zz = pytest.importorskip("zigzag", reason="make test installs archgym[zigzag]")
from archgym.envs.accelerator.zigzag_bridge import run_zigzag  # noqa: E402

INPUTS = Path(zz.__file__).resolve().parent / "inputs"
PAIRS = {"tpu_like": "tpu_like", "eyeriss_like": "default"}


def _resnet18():
    return load_workload(str(INPUTS / "workload/resnet18.onnx"))


def _compare(layers):
    """Per-layer (ours, ZigZag) latency and energy on both hardware files."""
    out = {}
    for hw, mp in PAIRS.items():
        hw_path, map_path = INPUTS / f"hardware/{hw}.yaml", INPUTS / f"mapping/{mp}.yaml"
        arch = Architecture.from_zigzag(hw_path, map_path)
        ref = run_zigzag(layers, hw_path, map_path)
        ours = [evaluate_layer(arch, layer) for layer in layers]
        out[hw] = (ours, ref)
    return out


def test_fidelity_on_a_few_resnet18_layers():
    wl = _resnet18()
    # a 3x3 stride-2 conv and a 1x1 stride-2 downsample (the stem and the rest: slow test)
    layers = [wl.layers[5], wl.layers[7]]
    res = _compare(layers)
    lat_o, lat_z, e_o, e_z = [], [], [], []
    for ours, ref in res.values():
        for o, r in zip(ours, ref):
            assert o.latency_cycles == pytest.approx(r.latency_cycles, rel=0.25), r.name
            assert o.energy_pj == pytest.approx(r.energy_pj, rel=0.35), r.name
            lat_o.append(o.latency_cycles)
            lat_z.append(r.latency_cycles)
            e_o.append(o.energy_pj)
            e_z.append(r.energy_pj)
    # ranks across layers and across the two designs (what a search acts on)
    assert spearman(lat_o, lat_z) >= 0.9 and spearman(e_o, e_z) >= 0.9


@pytest.mark.slow
def test_fidelity_whole_resnet18():
    wl = _resnet18()
    res = _compare(list(wl.layers))
    totals = {}
    for hw, (ours, ref) in res.items():
        lat = ([o.latency_cycles for o in ours], [r.latency_cycles for r in ref])
        en = ([o.energy_pj for o in ours], [r.energy_pj for r in ref])
        assert spearman(*lat) >= 0.9 and spearman(*en) >= 0.9, hw
        assert 1 / 1.5 <= sum(lat[0]) / sum(lat[1]) <= 1.5, hw
        assert 1 / 1.5 <= sum(en[0]) / sum(en[1]) <= 1.5, hw
        totals[hw] = (sum(en[0]), sum(en[1]))
    # ZigZag finds eyeriss_like ~7x the energy of tpu_like; so must we (within 1.5x)
    ours_x = totals["eyeriss_like"][0] / totals["tpu_like"][0]
    zz_x = totals["eyeriss_like"][1] / totals["tpu_like"][1]
    assert 1 / 1.5 <= ours_x / zz_x <= 1.5


def test_zigzag_simulator_times_out_and_caches():
    from archgym.envs.accelerator.zigzag_simulator import ZigZagSimulator

    layer = Layer("tiny", "conv", 1, 16, 16, 3, 3, 8, 8, 1, 1, (1, 1, 1, 1))
    sim = ZigZagSimulator(evaluation_timeout_s=0.05)
    with pytest.raises(SimulationError, match="evaluation_timeout_s"):
        sim.evaluate(EYERISS_LIKE, [layer])  # the worker cannot even start in 50 ms
    sim.timeout = 300.0
    m = sim.evaluate(dict(EYERISS_LIKE, dataflow="ws"), [layer])
    assert set(m) == set(sim.metric_names) and m["latency_cycles"] > 0 and m["energy_uj"] > 0
    assert m["energy_noc_pj"] == 0.0  # ZigZag models no interconnect energy
    sim.timeout = 0.05  # cached per layer shape and design: no worker needed any more
    assert sim.evaluate(dict(EYERISS_LIKE, dataflow="ws"), [layer]) == m


def test_env_simulator_zigzag_is_attached():
    from archgym.envs.accelerator.env import make_accelerator_env
    from archgym.envs.accelerator.zigzag_simulator import ZigZagSimulator
    from archgym.errors import ConfigError
    from archgym.simulator import use_simulator

    env = make_accelerator_env("alexnet", targets={"latency_ms": 10.0})
    use_simulator(env, {"name": "zigzag", "evaluation_timeout_s": 30})
    assert isinstance(env.unwrapped.simulator, ZigZagSimulator) and env.unwrapped.simulator.timeout == 30
    with pytest.raises(ConfigError, match="unknown simulator 'gem5'; installed: .*template, zigzag"):
        use_simulator(env, {"name": "gem5"})
    with pytest.raises(ConfigError, match="unknown setting.*timeout.*allowed: evaluation_timeout_s, im2col"):
        use_simulator(env, {"name": "zigzag", "timeout": 30})


def _env_design_figures():
    """ZigZag's per-layer results for 10 random designs of the env (recorded; see the file)."""
    import json

    return json.loads((Path(__file__).parent / "data/zigzag_env_designs_resnet18.json").read_text())


# the hierarchy model's totals / ZigZag's recorded ones for the file's 10 designs, as measured
# (/work/ref/h22/recorded_ratios.py): latency 0.89x-1.25x, energy 0.78x-2.29x
RECORDED_LATENCY_RATIOS = [0.9482, 1.0486, 1.1587, 0.946, 1.0866, 1.0911, 1.2467, 0.8947, 0.9957, 0.9657]
RECORDED_ENERGY_RATIOS = [1.0015, 0.9851, 1.0486, 0.9563, 1.2438, 1.0464, 0.9072, 2.2929, 0.778, 1.0962]


def test_env_default_model_ranks_random_designs_as_zigzag_does():
    """The env's default (hierarchy) model on random 9-knob designs against ZigZag's recorded
    figures: per-layer and per-design ranks agree (Spearman >= 0.9) and every design's totals
    are within 2 % of the ratios to ZigZag's measured here (latency 0.89x-1.25x, energy
    0.78x-2.29x); the template model ranks the designs' latency far less like ZigZag (recorded:
    0.62), which is why it is not the default."""
    from archgym.envs.accelerator import AcceleratorSimulator
    from archgym.envs.accelerator.hierarchy_model import unique_layers

    ref = _env_design_figures()
    by_name = {layer.name: layer for layer in unique_layers(load_workload("resnet18").layers)[0]}
    models = {"hierarchy": AcceleratorSimulator(model="hierarchy"), "template": AcceleratorSimulator()}
    got: dict[str, list[tuple[float, float]]] = {name: [] for name in models}
    for i, design in enumerate(ref["designs"]):
        rows = [r for r in ref["rows"] if r["design"] == i]
        layers = [by_name[r["layer"]] for r in rows]
        for name, sim in models.items():
            recs = sim.evaluate_layers(design, layers)
            got[name] += [(rec["latency_cycles"], rec["energy_pj"]) for rec in recs]
    z_lat = [r["zigzag_latency_cycles"] for r in ref["rows"]]
    z_e = [r["zigzag_energy_pj"] for r in ref["rows"]]
    design = [r["design"] for r in ref["rows"]]
    n = len(ref["designs"])

    def totals(values):
        return [sum(v for v, d in zip(values, design) if d == i) for i in range(n)]

    h_lat, h_e = (list(x) for x in zip(*got["hierarchy"]))
    assert spearman(h_lat, z_lat) >= 0.9 and spearman(h_e, z_e) >= 0.9
    assert spearman(totals(h_lat), totals(z_lat)) >= 0.9 and spearman(totals(h_e), totals(z_e)) >= 0.9
    # every design's totals against ZigZag's, within 2 % of the ratios measured (issue 22)
    lat_x = [ours / theirs for ours, theirs in zip(totals(h_lat), totals(z_lat))]
    e_x = [ours / theirs for ours, theirs in zip(totals(h_e), totals(z_e))]
    assert lat_x == pytest.approx(RECORDED_LATENCY_RATIOS, rel=0.02)
    assert e_x == pytest.approx(RECORDED_ENERGY_RATIOS, rel=0.02)
    t_lat = [lat for lat, _ in got["template"]]
    assert spearman(totals(t_lat), totals(z_lat)) < spearman(totals(h_lat), totals(z_lat)) - 0.2


@pytest.mark.slow
def test_env_default_model_against_zigzag_run_here():
    """The same comparison with ZigZag run inside the test: 3 random designs x 2 layers."""
    import numpy as np

    from archgym.envs.accelerator import AcceleratorSimulator, accelerator_design_space
    from archgym.envs.accelerator.zigzag_simulator import ZigZagSimulator

    space = accelerator_design_space()
    rng = np.random.default_rng(21)
    layers = [load_workload("resnet18").layers[i] for i in (1, 8)]
    zz_sim, ours = ZigZagSimulator(evaluation_timeout_s=900), AcceleratorSimulator(model="hierarchy")
    lat_o, lat_z = [], []
    for design in (space.sample(rng) for _ in range(3)):
        try:
            ref = zz_sim.layer_results(design, layers)
        except SimulationError:  # ZigZag finds no legal loop ordering for some designs
            continue
        for rec, r in zip(ours.evaluate_layers(design, layers), ref):
            assert rec["latency_cycles"] == pytest.approx(r.latency_cycles, rel=0.5), (design, r.name)
            lat_o.append(rec["latency_cycles"])
            lat_z.append(r.latency_cycles)
    assert len(lat_o) >= 4 and spearman(lat_o, lat_z) >= 0.8


# ZigZag 3.9.1 on the Eyeriss-like design (EYERISS_LIKE through ZigZagSimulator, LOMA, latency
# goal), two VGG-16 CONV layers at batch 3; recorded with
#   ZigZagSimulator().layer_results(EYERISS_LIKE, [layers[1], layers[5]])
# where layers = unique_layers(load_workload("vgg16", 3, kinds=("conv",)).layers)[0]:
# (name, latency cycles, energy pJ, DRAM accesses, our DRAM accesses / ZigZag's as measured)
# (on features.2 our mapper keeps an equally fast order with 0.56x ZigZag's DRAM traffic)
ZIGZAG_EYERISS_VGG16 = [
    ("features.2", 66_748_671, 79_570_161_408.4, 667_200, 0.56),
    ("features.12", 66_693_451, 200_499_636_274.8, 11_158_272, 1.0),
]


def test_env_default_model_on_eyeriss_vgg16_layers_as_zigzag():
    """The hierarchy model on the Eyeriss-like design matches ZigZag's latency, energy and DRAM
    traffic on large VGG-16 layers, including the DRAM-heavy mapping the chip avoids (see the
    README: 0.128 DRAM accesses per MAC on features.12)."""
    from archgym.envs.accelerator import AcceleratorSimulator
    from archgym.envs.accelerator.hierarchy_model import unique_layers

    layers = unique_layers(load_workload("vgg16", 3, kinds=("conv",)).layers)[0]
    recs = AcceleratorSimulator(model="hierarchy").evaluate_layers(EYERISS_LIKE, [layers[1], layers[5]])
    for rec, (name, lat, energy, dram, ratio) in zip(recs, ZIGZAG_EYERISS_VGG16):
        assert rec["name"] == name
        assert rec["latency_cycles"] == pytest.approx(lat, rel=0.02)
        assert rec["energy_pj"] == pytest.approx(energy, rel=0.08)
        assert rec["accesses_dram"] / dram == pytest.approx(ratio, rel=0.05)
