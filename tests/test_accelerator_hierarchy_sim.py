"""The compiled hierarchy model as a batch engine and as the env's ``hierarchy`` simulator."""

from dataclasses import replace

import numpy as np
import pytest

from archgym.envs.accelerator import (
    EYERISS_LIKE,
    AcceleratorSimulator,
    HierarchySimulator,
    TemplateSimulator,
    accelerator_design_space,
    load_workload,
)
from archgym.envs.accelerator import hierarchy_kernel as kernel
from archgym.envs.accelerator.architecture import MemoryLevel, Port
from archgym.envs.accelerator.env import ENV_ID, make_accelerator_env
from archgym.envs.accelerator.hierarchy_model import evaluate_batch, evaluate_layers, unique_layers
from archgym.envs.accelerator.simulator import network_totals
from archgym.envs.accelerator.templates import template_architecture
from archgym.errors import ConfigError
from archgym.registry import make_env
from archgym.simulator import SimulationError


def _designs(n, seed=0):
    space = accelerator_design_space()
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(n)]


def test_batch_equals_one_architecture_at_a_time():
    layers = load_workload("resnet18").layers
    archs = [template_architecture(d) for d in _designs(3)]
    batch = evaluate_batch(archs, layers)
    for a, arch in enumerate(archs):
        one = evaluate_layers(arch, layers)
        assert [c.latency_cycles for c in one] == batch.scalars["latency_cycles"][a].tolist()
        assert [c.energy_pj for c in one] == batch.scalars["energy_pj"][a].tolist()
        for m, mem in enumerate(arch.memories):
            assert [c.levels[mem.name].reads for c in one] == batch.reads[a, :, m].tolist()


def test_repeated_layer_shapes_are_costed_once_and_keep_their_names():
    layers = load_workload("resnet18").layers
    distinct, where = unique_layers(layers)
    assert len(distinct) < len(layers) and where.max() == len(distinct) - 1
    costs = evaluate_layers(template_architecture(EYERISS_LIKE), layers)
    assert [c.name for c in costs] == [layer.name for layer in layers]
    same = [i for i in range(len(layers)) if where[i] == where[-1]]
    assert len({costs[i].latency_cycles for i in same}) == 1


def test_fewer_orders_never_find_a_faster_mapping():
    layer = load_workload("resnet18").layers[5]
    arch = template_architecture(_designs(1, seed=3)[0])
    full = evaluate_layers(arch, [layer])[0]
    one = evaluate_layers(arch, [layer], max_orders=1)[0]
    # the search keeps the fastest order (ties within 0.5 % go to the least energy)
    assert full.latency_cycles <= one.latency_cycles * 1.005


def test_architecture_past_the_kernel_limits_is_refused():
    arch = template_architecture(EYERISS_LIKE)
    extra = tuple(
        MemoryLevel(f"m{i}", 1e6, ("W",), (Port("p", "read_write", 64, 8),), {}, ("D1", "D2"), 1.0, 1.0)
        for i in range(kernel.MAX_MEMORIES)
    )
    with pytest.raises(ValueError, match="at most 10 memory levels"):
        kernel.pack_architectures([replace(arch, memories=arch.memories + extra)])


def test_hierarchy_simulator_metrics_are_sums_of_its_layer_records():
    sim = AcceleratorSimulator(model="hierarchy")
    design = _designs(1, seed=5)[0]
    net = sim.evaluate(design, "alexnet")
    tot = network_totals(sim.evaluate_layers(design, "alexnet"))
    assert net["latency_cycles"] == pytest.approx(tot["latency_cycles"], rel=1e-12)
    assert net["energy_uj"] == pytest.approx(tot["energy_pj"] * 1e-6, rel=1e-12)
    assert net["energy_mac_pj"] == pytest.approx(tot["energy_mac_pj"], rel=1e-12)
    parts = net["energy_dram_pj"] + net["energy_glb_pj"] + net["energy_rf_pj"] + net["energy_mac_pj"]
    assert parts == pytest.approx(net["energy_uj"] * 1e6, rel=1e-9)


def test_hierarchy_simulator_physical_bounds():
    """Latency >= MACs / PEs; DRAM traffic >= one pass over weights and outputs; area as the
    template model (it does not depend on the cost model)."""
    designs = _designs(24, seed=7)
    wl = load_workload("resnet18")
    h = AcceleratorSimulator(model="hierarchy").evaluate_arrays(designs, wl)
    t = AcceleratorSimulator().evaluate_arrays(designs, wl)
    macs = sum(layer.macs for layer in wl.layers)
    for i, d in enumerate(designs):
        pes = d["pe_rows"] * d["pe_cols"]
        assert h["latency_cycles"][i] >= macs / pes
        assert 0 < h["utilization"][i] <= 1
        once = sum(layer.weight_count + layer.output_count for layer in wl.layers) * d["precision_bits"] / 8
        assert h["dram_mb"][i] * 1e6 >= once * (1 - 1e-9)
        assert h["energy_uj"][i] * 1e6 > h["energy_mac_pj"][i]
    np.testing.assert_allclose(h["area_mm2"], t["area_mm2"])
    # the hierarchy model adds stalls the template model's roofline does not have
    assert np.median(h["latency_cycles"] / t["latency_cycles"]) > 1.0


def test_the_model_name_picks_the_class():
    with pytest.raises(ValueError, match="model must be one of template, hierarchy"):
        AcceleratorSimulator(model="timeloop")
    sim = AcceleratorSimulator(model="hierarchy")
    assert isinstance(sim, HierarchySimulator) and not hasattr(sim, "run")  # run() is the template's
    assert isinstance(AcceleratorSimulator(), TemplateSimulator)
    with pytest.raises(SimulationError, match="pe_rows"):
        sim.evaluate({**EYERISS_LIKE, "pe_rows": 0.5}, "alexnet")


def test_env_runs_on_the_hierarchy_simulator():
    env = make_accelerator_env(workload="alexnet", targets={"latency_ms": 50, "energy_uj": 2e4})
    assert "hierarchy" in env.unwrapped.simulator.version  # the env's own simulator
    env.reset(seed=0)
    _, _, _, _, info = env.step(env.action_space.sample())
    assert info["metrics"]["latency_ms"] > 0 and info["metrics"]["energy_noc_pj"] == 0.0
    with pytest.raises(ConfigError, match="unknown simulator 'timeloop'; installed: .*hierarchy"):
        make_env(ENV_ID, workload="alexnet", simulator="timeloop", targets={"latency_ms": 1})
    with pytest.raises(ConfigError, match="unknown keyword.*simulator_kind"):
        make_env(ENV_ID, workload="alexnet", simulator_kind="template", targets={"latency_ms": 1})


def test_env_simulator_hierarchy_from_config():
    from archgym.simulator import use_simulator

    env = make_accelerator_env(workload="alexnet", targets={"latency_ms": 50})
    use_simulator(env, {"name": "hierarchy", "im2col": False})
    sim = env.unwrapped.simulator
    assert sim.model_kind == "hierarchy" and sim.ws_im2col is False


def test_skipped_loop_orders_cost_what_their_first_equivalent_costs():
    """The search skips an order when an earlier one cannot differ from it
    (``hierarchy_kernel._first_of_its_class``): check on every order of a few pairs, costed
    one by one, that each skipped order costs exactly what the first of its class costs."""
    layers = unique_layers(load_workload("resnet18").layers)[0]
    archs = [template_architecture(d) for d in _designs(4, seed=7)]
    archs += [template_architecture(dict(d, glb_kib=16)) for d in _designs(2, seed=8)]  # small buffers
    packed = kernel.pack_architectures(archs)
    shapes, _ = kernel.pack_layers(layers)
    ws = kernel._scratch(kernel.MAX_ARRAY_DIMS, kernel.MAX_MEMORIES, kernel.MAX_PORTS, 1)
    skipped = 0
    for a in range(len(archs)):
        av = kernel._view(packed, a)
        for sh in shapes[::3]:
            kernel._spatial_step(packed, a, sh, ws.sp, ws.pl)
            n_perm = kernel._loop_factors(ws.sp.temporal, ws.lp)
            lp = ws.lp
            seen: dict[tuple, tuple] = {}
            while True:
                n = kernel._build_loops(
                    lp.perm, n_perm, lp.perm_dims, lp.factors, lp.n_factors, ws.sp.temporal, -1, 0, 0,
                    lp.loop_ld, lp.loop_f,
                )  # fmt: skip
                top = kernel.allocate(lp.loop_ld, lp.loop_f, n, av, ws.pl, sh, ws.al)
                cost = kernel.cost_order(
                    lp.loop_ld, lp.loop_f, n, av, ws.pl, ws.al, sh, ws.tt, ws.lg, 1.0, np.inf, np.inf
                )
                energy = float(ws.lg.level[kernel.ENERGY].sum())
                # the class: the dims placed before `top`, and the run of dims irrelevant to one
                # operand right after them (as a set)
                r, pos = 0, 0
                while r < n_perm and pos < top:
                    pos += lp.n_factors[lp.perm_dims[lp.perm[r]]]
                    r += 1
                rest = [int(lp.perm_dims[p]) for p in lp.perm[r:n_perm]]
                run = rest[:1]
                for d in rest[1:]:
                    if kernel._IRRELEVANT_TO[d] != kernel._IRRELEVANT_TO[run[0]]:
                        break
                    run.append(d)
                key = (tuple(lp.perm[:r]), frozenset(run))
                first = kernel._first_of_its_class(lp.perm, n_perm, lp.perm_dims, lp.n_factors, top)
                if first:
                    assert key not in seen
                    seen[key] = (*cost, energy)
                else:
                    skipped += 1
                    assert seen[key] == (*cost, energy)
                if not kernel._next_permutation(lp.perm, n_perm):
                    break
    assert skipped > 0
