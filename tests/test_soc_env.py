"""The SoC environment: registration, budgets as default targets, infeasible designs, configs,
and every kind of agent running on it."""

from pathlib import Path

import gymnasium
import numpy as np
import pytest
from omegaconf import OmegaConf

import archgym
from archgym.envs.soc import default_design, load_workload, standard_workloads
from archgym.envs.soc.env import ENV_ID, make_soc_env
from archgym.registry import make_agent, make_env

CONF = Path(archgym.__file__).resolve().parent.parent / "conf"


@pytest.mark.parametrize("workload", standard_workloads())
def test_default_targets_are_the_workloads_budgets_and_knobs_follow_its_tasks(workload):
    env = gymnasium.make(ENV_ID, workload=workload).unwrapped
    g = load_workload(workload)
    assert env.objective.targets == {k: g.budgets[k] for k in ("latency_ms", "power_mw", "area_mm2")}
    assert set(env.objective.modes.values()) == {"at_most"}
    names = env.space.names
    assert sum(n.startswith("task_to_pe_mapping_") for n in names) == len(g.working_tasks)
    assert sum(n.startswith("task_to_mem_mapping_") for n in names) == len(g.data_tasks)
    # 4 knobs per PE slot, 3 per memory slot, 2 per bus slot (3 slots each), then the mappings
    assert len(names) == 4 * 3 + 3 * 3 + 2 * 3 + len(g.working_tasks) + len(g.data_tasks)
    obs, _ = env.reset(seed=0)
    obs, reward, *_, info = env.step(env.action_space.sample())
    assert obs.shape == env.observation_space.shape and np.all(np.isfinite(obs))
    assert (info["feasible"] and 0 < reward <= 1) or (not info["feasible"] and reward == 0 and info["error"])


def test_slot_counts_and_node_are_parameters():
    env = make_soc_env("hpvm_cava", n_pe=2, n_mem=1, n_bus=4, node_nm=22)
    names = env.space.names
    assert "pe_allocation_1" in names and "pe_allocation_2" not in names and "mem_allocation_1" not in names
    assert env.space["bus_to_bus_connection_3"].allowed() == "integers -1..3"
    assert "node=22nm" in env.simulator.version and "pe_1_utilisation" in env.simulator.metric_names


def test_dram_interconnect_and_figure_options_reach_the_simulator():
    env = make_soc_env("audio_decoder", dram_channels="shared", interconnect="crossbar", figures="farsi")
    version = env.simulator.version
    assert "dram=shared" in version and "crossbar" in version and "figures=farsi" in version
    assert "dram=separate bus" in make_soc_env("audio_decoder").simulator.version
    for bad in ({"dram_channels": "half"}, {"interconnect": "noc"}, {"figures": "cacti"}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            make_soc_env("audio_decoder", **bad)


def test_infeasible_design_is_recorded_with_its_reason_not_raised():
    env = make_soc_env("audio_decoder")
    bad = default_design(load_workload("audio_decoder"))
    bad["pe_to_bus_connection_0"] = 2  # the core's bus is bridged to nothing: no path to memory
    good = default_design(load_workload("audio_decoder"))
    ev_bad, ev_good = env.evaluate([bad, good])
    assert not ev_bad.feasible and ev_bad.reward == 0.0 and "has no bus path to mem_0" in ev_bad.error
    assert ev_good.feasible and ev_good.metrics["latency_ms"] > 0


def test_explicit_targets_and_constraints():
    env = make_soc_env("audio_decoder", targets={"latency_ms": 30.0}, constraints=["area_mm2<=1"])
    d = env.space.sample(np.random.default_rng(0))
    assert env.objective.targets == {"latency_ms": 30.0} and env.objective.constraints[0].bound == 1.0
    assert len(env.evaluate([d])) == 1


@pytest.mark.parametrize("conf", ["soc", *(f"soc_{w}" for w in standard_workloads())])
def test_hydra_env_configs(conf):
    cfg = OmegaConf.load(CONF / "env" / f"{conf}.yaml")
    assert cfg.id == ENV_ID and cfg.name == conf
    env = make_env(cfg.id, **OmegaConf.to_container(cfg.kwargs))
    g = load_workload(cfg.kwargs.workload)
    assert env.unwrapped.objective.targets["latency_ms"] == g.budgets["latency_ms"]


def test_lottery_preset_targets_the_audio_decoder():
    cfg = OmegaConf.load(CONF / "experiment" / "lottery_soc.yaml")
    assert cfg.defaults[0] == {"override /env": "soc"}
    # the audio decoder, against a target tighter than FARSI's budgets (which random search meets)
    g = load_workload(cfg.env.kwargs.workload)
    assert g.name.startswith("audio") or cfg.env.kwargs.workload == "audio_decoder"
    for metric, value in cfg.env.kwargs.targets.items():
        assert 0 < value < g.budgets[metric]
    assert cfg.hydra.sweep.dir == "multirun/lottery_soc"


@pytest.mark.parametrize(
    "agent, params, budget",
    [
        ("random", {}, 24),
        ("ga", {"population_size": 8}, 24),
        pytest.param("bo", {"n_initial": 4, "raw_samples": 32}, 6, marks=pytest.mark.slow),
        pytest.param("rw", {}, 12, marks=pytest.mark.slow),
        pytest.param("aging", {"population_size": 4, "sample_size": 2}, 12, marks=pytest.mark.slow),
        pytest.param("aco", {"n_ants": 4}, 12, marks=pytest.mark.slow),
        pytest.param("ppo", {"n_steps": 8, "batch_size": 8}, 16, marks=pytest.mark.slow),
        pytest.param("a2c", {"n_steps": 4}, 16, marks=pytest.mark.slow),
        pytest.param("dqn", {}, 16, marks=pytest.mark.slow),
    ],
)
def test_agents_run_on_the_env(agent, params, budget):
    env = gymnasium.make(ENV_ID, workload="audio_decoder")
    ag = make_agent(agent, env.unwrapped.space, seed=0, **params)
    result = ag.run(env, budget=budget)
    assert result.evaluations == budget and env.unwrapped.n_evaluations == budget
    assert result.best is not None and result.best.design.keys() == set(env.unwrapped.space.names)
