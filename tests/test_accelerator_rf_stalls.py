"""Register-file port stalls in the vectorised model (``rf_port_stalls=True``) against the
hierarchy model on the 9-knob template (which tracks ZigZag 3.9.1, see the README).

Reference figures, ``python benchmarks/bench_accelerator_agreement.py --designs 200``
(seed 0, per-network latency, vectorised / hierarchy): ResNet-18 Spearman 0.763 -> 0.863,
median ratio 0.62 -> 1.00; AlexNet 0.876 -> 0.960, 0.79 -> 0.98. Here a small sample of the
same kind (20 designs, seed 2, AlexNet; measured 0.841 -> 0.959, median 0.61 -> 0.98).
"""

import numpy as np
import pytest
from scipy.stats import spearmanr

from archgym.envs.accelerator import (
    EYERISS_LIKE,
    AcceleratorSimulator,
    accelerator_design_space,
    load_workload,
)
from archgym.envs.accelerator.env import make_accelerator_env
from archgym.envs.accelerator.hierarchy_model import evaluate_layers
from archgym.envs.accelerator.templates import template_architecture


def test_rf_port_stalls_track_the_hierarchy_model():
    space = accelerator_design_space()
    rng = np.random.default_rng(2)
    designs = [space.from_indices(i) for i in space.sample_indices(rng, 20)]
    wl = load_workload("alexnet")
    ref = np.array(
        [sum(c.latency_cycles for c in evaluate_layers(template_architecture(d), wl.layers)) for d in designs]
    )
    roof = AcceleratorSimulator().evaluate_arrays(designs, wl)["latency_cycles"]
    stall = AcceleratorSimulator(rf_port_stalls=True).evaluate_arrays(designs, wl)["latency_cycles"]
    rho_roof, rho_stall = spearmanr(roof, ref).statistic, spearmanr(stall, ref).statistic
    assert rho_stall >= 0.9 and rho_stall > rho_roof + 0.05
    assert 0.85 <= np.median(stall / ref) <= 1.15
    assert np.median(roof / ref) < 0.8  # the roofline misses the stalls


def test_rf_port_stalls_only_add_cycles_and_keep_energy():
    wl = load_workload("resnet18")
    designs = [dict(EYERISS_LIKE, dataflow=df) for df in ("ws", "os", "rs", "is")]
    a = AcceleratorSimulator().run(designs, wl)
    b = AcceleratorSimulator(rf_port_stalls=True).run(designs, wl)
    comp = b.layer_compute_cycles.numpy()
    arr = b.layer_array_cycles.numpy()
    # one read port for two streamed operands: at most 3x compute (two fills and a psum write)
    assert np.all(arr >= comp) and np.all(arr <= 3 * comp + 1e-9)
    assert np.all(b.layer_cycles.numpy() >= a.layer_cycles.numpy())
    np.testing.assert_allclose(b.energy_pj.numpy(), a.energy_pj.numpy())
    # conv layers with temporal reductions: the read port alone doubles (almost) the compute
    assert np.median(arr / comp) > 1.5
    assert AcceleratorSimulator(rf_port_stalls=True).version != AcceleratorSimulator().version


@pytest.mark.parametrize("flag", [False, True])
def test_array_cycles_is_compute_without_stalls(flag):
    r = AcceleratorSimulator(rf_port_stalls=flag).run([EYERISS_LIKE], "alexnet")
    same = np.allclose(r.layer_array_cycles.numpy(), r.layer_compute_cycles.numpy())
    assert same != flag


def test_env_passes_rf_port_stalls_to_its_model():
    lat = []
    for flag in (False, True):
        env = make_accelerator_env("alexnet", targets={"latency_ms": 10.0}, rf_port_stalls=flag).unwrapped
        lat.append(env.simulator.evaluate(EYERISS_LIKE, env.workload)["latency_ms"])
    assert lat[1] > 1.5 * lat[0]
