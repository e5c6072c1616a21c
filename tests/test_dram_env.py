"""The DRAM environment: gymnasium registration, targets, reward, configs."""

from pathlib import Path

import gymnasium
import numpy as np
import pytest
from omegaconf import OmegaConf

import archgym
from archgym.envs.dram import DEFAULT_DESIGN, DRAMSimulator, dram_design_space, load_workload
from archgym.envs.dram.env import (
    ENV_ID,
    STANDARD_CONSTRAINTS,
    STANDARD_TARGETS,
    default_objective,
    default_targets,
    make_dram_env,
)
from archgym.registry import make_env

CONF = Path(archgym.__file__).resolve().parent.parent / "conf" / "env"


def test_gymnasium_make_and_step():
    env = gymnasium.make(ENV_ID, workload="random", n_requests=2000)
    obs, info = env.reset(seed=0)
    assert obs.shape == (len(DRAMSimulator.metrics),) and not obs.any()
    action = env.unwrapped.encode(DEFAULT_DESIGN)
    obs, reward, terminated, truncated, info = env.step(action)
    m = info["metrics"]
    assert set(m) == {x.name for x in DRAMSimulator.metrics}
    assert 0 < reward <= 1 and np.isfinite(obs).all()
    assert m["avg_read_latency_ns"] > 20 and 300 < m["power_mw"] < 5000 and 0 < m["bandwidth_gbps"] < 19.2
    assert info["design"] == dict(DEFAULT_DESIGN)


def test_reward_is_bounded_smooth_and_one_on_target():
    env = make_dram_env("cloud-1", n_requests=2000, targets={"avg_read_latency_ns": 1.0, "power_mw": 1.0})
    ev = env.evaluate([dict(DEFAULT_DESIGN)])[0]
    m = ev.metrics
    exact = make_dram_env(
        "cloud-1",
        n_requests=2000,
        targets={"avg_read_latency_ns": m["avg_read_latency_ns"], "power_mw": m["power_mw"]},
        modes={},
    )
    on = exact.evaluate([dict(DEFAULT_DESIGN)])[0]
    assert on.reward == pytest.approx(1.0) and on.success
    far = make_dram_env(
        "cloud-1",
        n_requests=2000,
        modes={"avg_read_latency_ns": "exact", "power_mw": "exact"},
        targets={"avg_read_latency_ns": m["avg_read_latency_ns"] * 2, "power_mw": m["power_mw"]},
    )
    r = far.evaluate([dict(DEFAULT_DESIGN)])[0]
    # d = 0.5 on latency, 0 on power: 1 / (1 + 0.25 / 2)
    assert r.reward == pytest.approx(1 / (1 + 0.125)) and not r.success


def test_default_modes_are_budgets():
    env = make_dram_env("stream", n_requests=1000, targets={"avg_read_latency_ns": 1e6, "power_mw": 1e6})
    ev = env.evaluate([dict(DEFAULT_DESIGN)])[0]
    assert ev.success and ev.reward == 1.0  # far under both budgets: met
    assert env.objective.modes == {"avg_read_latency_ns": "at_most", "power_mw": "at_most"}


@pytest.mark.parametrize("name", list(STANDARD_TARGETS))
def test_standard_targets_used_and_reachable_but_not_trivial(name):
    env = make_dram_env(name)
    assert env.objective.targets == dict(STANDARD_TARGETS[name])
    assert [f"{c.metric}{c.op}{c.bound:g}" for c in env.objective.constraints] == list(
        STANDARD_CONSTRAINTS[name]
    )
    assert env.workload_name == name and len(env.workload) == 10_000
    # few uniformly random designs meet both budgets
    space = env.space
    designs = [space.from_indices(i) for i in space.sample_indices(np.random.default_rng(1), 24)]
    assert sum(ev.success for ev in env.evaluate(designs)) <= 3


def test_default_targets_derivation_is_reachable():
    sim = DRAMSimulator()
    tr = load_workload("cloud-2", n_requests=1500)
    tg = default_targets(tr, n_samples=24, simulator=sim)
    assert set(tg) == {"avg_read_latency_ns", "power_mw"}
    space = dram_design_space()
    designs = [space.from_indices(i) for i in space.sample_indices(np.random.default_rng(0), 24)]
    ms = sim.evaluate_many(designs, tr)
    met = [
        m["avg_read_latency_ns"] <= tg["avg_read_latency_ns"] and m["power_mw"] <= tg["power_mw"] for m in ms
    ]
    assert 1 <= sum(met) < len(met)
    assert default_targets(tr, n_samples=24, simulator=sim) == tg  # deterministic


@pytest.mark.slow
@pytest.mark.parametrize("name", list(STANDARD_TARGETS))
def test_stored_standard_targets_match_the_model(name):
    assert default_objective(name) == (dict(STANDARD_TARGETS[name]), list(STANDARD_CONSTRAINTS[name]))


def test_overridden_workload_gets_its_own_keep_up_constraint():
    """env=dram with workload=random (the stream targets stay): the constraint follows the
    workload, so random's 8 GB/s offered load is not held to stream's 12 GB/s."""
    env = make_dram_env("random", targets=dict(STANDARD_TARGETS["stream"]))
    assert [c.bound for c in env.objective.constraints] == [7.7]
    assert (
        make_dram_env(
            "random", targets=dict(STANDARD_TARGETS["stream"]), constraints=[]
        ).objective.constraints
        == ()
    )


def test_keep_up_constraint_rules_out_throttling_designs():
    """Latency counts from the controller's accept, so throttling the front end (one active
    transaction) shortens it and saves power while the trace waits outside: the keep-up
    constraint makes such a design infeasible, and its back-pressure shows why."""
    env = make_dram_env("stream", n_requests=3000)
    throttled = {**DEFAULT_DESIGN, "arbiter": "Fifo", "max_active_transactions": 1}
    ev, base = env.evaluate([throttled, dict(DEFAULT_DESIGN)])
    assert ev.metrics["avg_read_latency_ns"] < base.metrics["avg_read_latency_ns"]
    assert ev.metrics["avg_backpressure_ns"] > 100 * base.metrics["avg_backpressure_ns"]
    assert ev.metrics["bandwidth_gbps"] < 12 <= base.metrics["bandwidth_gbps"]
    assert ev.reward == 0.0 and not ev.success


def test_env_options():
    env = make_dram_env(
        "random",
        n_requests=500,
        max_active_encoding="linear",
        action_encoding="box",
        address_mapping="RoBaBgCo",
        device="DDR4-2400",
    )
    assert env.space["max_active_transactions"].n == 128
    assert env.space["request_buffer_size"].values == (1, 2, 4, 8, 16, 32, 64, 128)
    assert env.action_space.shape == (10,)
    assert "RoBaBgCo" in env.simulator.version
    ext = make_dram_env(
        "random",
        n_requests=500,
        space="extended",
        buffer_encoding="linear",
        ranks=2,
        targets={"avg_read_latency_ns": 50, "power_mw": 900},
    )
    assert ext.space["request_buffer_size"].values == tuple(range(1, 9))
    assert len(ext.space.names) == 16 and "GrpFrFcfsWm" in ext.space["scheduler"].choices
    assert "ranks=2" in ext.simulator.version
    obs, _ = ext.reset(seed=0)
    *_, info = ext.step(ext.action_space.sample())
    assert info["metrics"]["bandwidth_gbps"] > 0
    ddr3 = make_dram_env(
        "random:span_bytes=1073741824",
        n_requests=500,
        device="DDR3-1600",
        targets={"avg_read_latency_ns": 50, "power_mw": 900},
    )
    assert "DDR3-1600" in ddr3.simulator.version
    with pytest.raises(FileNotFoundError, match="no-such-workload"):
        make_dram_env("no-such-workload")


@pytest.mark.parametrize("conf", ["dram", "dram_random", "dram_cloud1", "dram_cloud2"])
def test_hydra_env_configs(conf):
    cfg = OmegaConf.load(CONF / f"{conf}.yaml")
    assert cfg.id == ENV_ID
    kwargs = OmegaConf.to_container(cfg.kwargs)
    assert kwargs["targets"] == dict(STANDARD_TARGETS[kwargs["workload"]])
    env = make_env(cfg.id, **kwargs)
    cons = [f"{c.metric}{c.op}{c.bound:g}" for c in env.unwrapped.objective.constraints]
    assert cons == list(STANDARD_CONSTRAINTS[kwargs["workload"]])  # the keep-up constraint
    obs, _ = env.reset(seed=0)
    obs, reward, *_ = env.step(env.action_space.sample())
    assert 0 <= reward <= 1
    obs, reward, *_ = env.step(env.unwrapped.encode(DEFAULT_DESIGN))  # keeps up: feasible
    assert 0 < reward <= 1
