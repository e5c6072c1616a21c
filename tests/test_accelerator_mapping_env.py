"""The mapping-search env (archgym/AcceleratorMapping-v0): a given mapping costs what the
built-in mapper reports for it, infeasible mappings fail with their reason and score 0, the
knobs reach every tiling / order / allocation of a small layer, and every agent runs on it."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import gymnasium
import numpy as np
import pytest
from test_agents_common import AGENTS, FAST

import archgym  # noqa: F401  (registers the envs)
from archgym.envs.accelerator.hierarchy_model import evaluate_layers
from archgym.envs.accelerator.layers import Layer
from archgym.envs.accelerator.mapping_cost import (
    InfeasibleMappingError,
    LayerMapping,
    cost_mapping,
    mapper_mapping,
)
from archgym.envs.accelerator.mapping_env import MappingProblem, MappingSimulator, mapper_metrics
from archgym.envs.accelerator.mapping_space import LayerMappingSpace, divisors
from archgym.envs.accelerator.networks import load_workload
from archgym.envs.accelerator.space import EYERISS_LIKE
from archgym.envs.accelerator.templates import split_memory_architecture, template_architecture
from archgym.registry import make_agent

ENV = "archgym/AcceleratorMapping-v0"
#: a small GEMM: 8 outputs x 4 inputs x 6 rows
SMALL = Layer("fc", "gemm", 1, 8, 4, 1, 1, 6, 1)


def test_a_mapping_costs_what_the_mapper_reports_for_it():
    """The mapper's own choice, written as a mapping, costs exactly what the mapper reports (on
    per-operand memories: where one memory is shared, the mapper's greedy allocation can
    overfill it, which cost_mapping refuses)."""
    layers = load_workload("resnet18").layers[::3]
    matched = 0
    for df in ("ws", "os", "rs", "is"):
        design = dict(EYERISS_LIKE, dataflow=df, rf_w_bytes=64, rf_i_bytes=32, rf_o_bytes=16)
        arch = split_memory_architecture(dict(design, wbuf_kib=64, abuf_kib=512))
        for layer, ref in zip(layers, evaluate_layers(arch, layers)):
            try:
                got = cost_mapping(arch, layer, mapper_mapping(arch, layer, ref.order))
            except InfeasibleMappingError as exc:
                assert str(exc).startswith("capacity: abuf")  # inputs and outputs share it
                continue
            matched += 1
            assert got.latency_cycles == pytest.approx(ref.latency_cycles, rel=1e-12)
            assert got.energy_pj == pytest.approx(ref.energy_pj, rel=1e-12)
            assert got.stall_cycles == pytest.approx(ref.stall_cycles, rel=1e-12, abs=1e-9)
            for name, lv in ref.levels.items():
                assert got.levels[name].reads == pytest.approx(lv.reads, rel=1e-12)
                assert got.levels[name].writes == pytest.approx(lv.writes, rel=1e-12)
    assert matched >= 20


def test_infeasible_mappings_name_their_reason():
    arch = template_architecture(EYERISS_LIKE)  # 12 x 14 PEs, 512 B RF, 108 KiB buffer
    whole = (("K", 8), ("C", 4), ("OY", 6))
    ok = LayerMapping({}, whole, {"W": (0, 0), "I": (0, 0), "O": (0, 0)})
    assert cost_mapping(arch, SMALL, ok).latency_cycles >= SMALL.macs
    with pytest.raises(InfeasibleMappingError, match=r"^spatial: D1 unrolls K16 = 16 > array size 12"):
        cost_mapping(arch, replace(SMALL, K=16), replace(ok, spatial={"D1": (("K", 16),)}))
    with pytest.raises(InfeasibleMappingError, match=r"^temporal: the loops over K multiply to 8, but 1"):
        cost_mapping(arch, SMALL, replace(ok, spatial={"D2": (("K", 8),)}))
    big = Layer("big", "gemm", 1, 512, 512, 1, 1, 64, 1)  # 256 Ki weights: more than the RF holds
    all_rf = LayerMapping({}, (("K", 512), ("C", 512), ("OY", 64)), {"W": (3, 3), "I": (0, 3), "O": (0, 3)})
    with pytest.raises(InfeasibleMappingError, match=r"^capacity: rf would hold .* > its 4096 bits"):
        cost_mapping(arch, big, all_rf)
    # a buffer that cannot send partial sums back down: a reduction loop above it is infeasible
    glb = arch.memories[1]
    no_psum_read = replace(glb, allocation={k: v for k, v in glb.allocation.items() if k != ("O", "tl")})
    arch2 = replace(arch, memories=(arch.memories[0], no_psum_read, arch.memories[2]))
    c_outside = LayerMapping({}, whole, {"W": (0, 3), "I": (0, 3), "O": (0, 0)})
    assert cost_mapping(arch, SMALL, c_outside).energy_pj > 0
    with pytest.raises(InfeasibleMappingError, match=r"^port: glb has no port for O tl"):
        cost_mapping(arch2, SMALL, c_outside)


def _space(spatial: str = "fixed", layer: Layer = SMALL) -> LayerMappingSpace:
    arch = template_architecture(dict(EYERISS_LIKE, pe_rows=4, pe_cols=4, dataflow="ws"))
    return LayerMappingSpace(arch, layer, spatial)


def test_knobs_reach_every_tiling_of_a_small_layer():
    space = _space("search")
    params = {p.name: p for p in space.parameters()}
    pieces = space.pieces
    assert pieces == 3
    for ld, extent in (("K", 8), ("C", 4), ("OY", 6)):
        # every ordered factorisation of the dimension over the array (at most its 4 columns) and
        # the memory levels
        want = {
            f
            for f in itertools.product(divisors(extent), repeat=pieces + 1)
            if math.prod(f) == extent and f[0] <= 4
        }
        got = set()
        names = [f"t.{ld}.{p}" for p in range(pieces - 1)]
        for d, p_f in (("D1", "sp.D1.f"),):
            for sp in range(params[p_f].n):
                for vals in itertools.product(*(range(params[n].n) for n in names)):
                    design = {"sp.D1.dim": ld, p_f: sp, **dict(zip(names, vals))}
                    m = space.decode(design)
                    s = dict(m.spatial.get(d, ())).get(ld, 1)
                    temporal = [f for x, f in m.loops if x == ld]
                    # the pieces in order of the piece index (the default order keys are equal)
                    got.add((s, *_pad(temporal, design, ld, space)))
        assert want <= got, f"{ld}: unreachable tilings {sorted(want - got)[:5]}"


def _pad(temporal: list[int], design: dict, ld: str, space: LayerMappingSpace) -> tuple[int, ...]:
    """The per-piece factors of ``ld`` (pieces of 1 have no loop)."""
    rest = math.prod(temporal)
    out = []
    for p in range(space.pieces - 1):
        f = divisors(rest)[min(design[f"t.{ld}.{p}"], len(divisors(rest)) - 1)]
        out.append(f)
        rest //= f
    return (*out, rest)


def test_knobs_reach_every_loop_order_and_every_fitting_allocation():
    # ws on 4 x 4 PEs unrolls C4 x K4: K8, C4 and OY6 are left in time
    space = _space("fixed", Layer("fc", "gemm", 1, 32, 16, 1, 1, 6, 1))
    params = {p.name: p for p in space.parameters()}
    base = {"t.K.0": 99, "t.C.0": 99, "t.OY.0": 99}  # each dimension whole in its first piece
    keys = [f"o.{ld}.0" for ld in ("K", "C", "OY")]
    orders = set()
    for perm in itertools.permutations(range(3)):
        orders.add(space.decode({**base, **dict(zip(keys, perm))}).loops)
    assert len(orders) == 6
    # allocation: every count of loops in the RF that fits is reachable for W (the others at 0)
    fits = set()
    for v in range(params["a.W.0"].n):
        m = space.decode({**base, "a.W.0": v, "a.I.0": 99, "a.O.0": 99})
        fits.add(m.levels["W"][0])
    assert fits == set(range(4))  # 0..3 loops (K8 C4 OY6: W's tile 8 x 4 words fits 512 B)


def test_env_infeasible_mappings_score_zero_with_the_reason():
    env = gymnasium.make(ENV, layer=0).unwrapped
    rng = np.random.default_rng(1)
    evs = env.evaluate([env.space.from_indices(i) for i in env.space.sample_indices(rng, 150)])
    bad = [e for e in evs if e.metrics is None]
    good = [e for e in evs if e.metrics is not None]
    assert bad and good
    assert all(
        e.reward == 0.0 and not e.feasible and "InfeasibleMappingError: capacity:" in e.error for e in bad
    )
    assert all(e.reward > 0 for e in good)


def test_network_mode_sums_layers_as_often_as_they_run():
    layers = load_workload("resnet18").layers[:5]
    arch = template_architecture(EYERISS_LIKE)
    problem = MappingProblem(arch, layers)
    assert len(problem.spaces) < len(layers)  # repeated shapes share one block of knobs
    space = problem.design_space()
    assert {n.split(".")[0] for n in space.names} == {f"l{i}" for i in range(len(problem.spaces))}
    design = space.from_indices(space.sample_indices(np.random.default_rng(0), 1)[0])
    got = MappingSimulator().evaluate(design, problem)
    by_shape = {s.layer.shape_key: s for s in problem.spaces}
    want = sum(cost_mapping(arch, x, by_shape[x.shape_key].decode(design)).latency_cycles for x in layers)
    assert got["latency_cycles"] == pytest.approx(want, rel=1e-12)
    ref = mapper_metrics(problem)
    assert ref["latency_cycles"] == pytest.approx(
        sum(c.latency_cycles for c in evaluate_layers(arch, layers))
    )


@pytest.mark.parametrize("name", AGENTS)
def test_every_agent_runs_on_the_mapping_env(name):
    env = gymnasium.make(ENV, workload=[SMALL], layer=0, spatial="fixed").unwrapped
    seen = []
    env.add_recorder(lambda ev: seen.append(ev))
    agent = make_agent(name, env.space, seed=0, **FAST.get(name, {}))
    agent.run(env, 6)
    assert len(seen) == 6
    assert all(env.space.validate(ev.design) == ev.design for ev in seen)


def test_zigzag_hardware_files_and_bad_names():
    pytest.importorskip("zigzag")
    env = gymnasium.make(ENV, hardware="tpu_like", spatial="fixed", layer="stages.3.conv2").unwrapped
    assert not any(n.startswith("sp.") for n in env.space.names)  # the file's own spatial mapping
    rng = np.random.default_rng(0)
    evs = env.evaluate([env.space.from_indices(i) for i in env.space.sample_indices(rng, 20)])
    assert sum(e.metrics is not None for e in evs) >= 10
    with pytest.raises(
        ValueError, match="unknown hardware 'tpu_lik'; allowed: eyeriss, a YAML path, .*tpu_like"
    ):
        gymnasium.make(ENV, hardware="tpu_lik")
    with pytest.raises(ValueError, match="has no layer 'nope'"):
        gymnasium.make(ENV, layer="nope")
