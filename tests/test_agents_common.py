"""Behaviour every search agent shares: seeding, exact budgets, early stop, valid designs,
registry and config files. Runs on the toy simulator (microseconds per design); BO and RL
use tiny settings so the whole file stays fast."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml
from _agent_fixtures import toy_env, toy_space

from archgym.registry import ConfigError, agent_class, agent_entry_points, make_agent

CONF = Path(__file__).resolve().parents[1] / "conf" / "agent"

#: tiny settings for the agents whose defaults would be slow here, so each run takes well under
#: a second or two; an agent not listed runs with its defaults (a new agent needs no edit here)
FAST: dict[str, dict[str, Any]] = {
    "random": {"batch_size": 4},
    "rw": {},
    "ga": {"population_size": 6},
    "aging": {"population_size": 6, "sample_size": 3, "batch_size": 2},
    "aco": {"n_ants": 5},
    "bo": {
        "n_initial": 4,
        "q": 3,
        "fit_maxiter": 5,
        "num_restarts": 2,
        "raw_samples": 32,
        "mc_samples": 32,
        "num_threads": 1,
    },
    "ppo": {"n_steps": 8, "batch_size": 8, "n_epochs": 1, "net_arch": [16]},
    "a2c": {"n_steps": 4, "net_arch": [16]},
    "dqn": {"learning_starts": 4, "batch_size": 8, "net_arch": [16]},
    "tpe": {"n_startup_trials": 4},
    "cmaes": {"popsize": 4},
    "nsga2": {"population_size": 4},
    "qmc": {"batch_size": 4},
    "grid": {"batch_size": 4},
}
#: archgym's own agents, found through the same entry points as any other package's
AGENTS = sorted(n for n, path in agent_entry_points().items() if path.startswith("archgym.agents."))
BUDGET = 13  # not a multiple of any batch size, to check exact truncation


def record_run(name: str, seed: int, budget: int = BUDGET, **kw: Any) -> tuple[list[tuple], Any]:
    env = toy_env()
    seen: list[tuple] = []
    env.add_recorder(lambda ev: seen.append(tuple(ev.design.values())))
    agent = make_agent(name, env.space, seed=seed, **{**FAST.get(name, {}), **kw})
    result = agent.run(env, budget)
    return seen, result


def test_every_builtin_agent_is_registered_with_a_config():
    configs = {p.stem for p in CONF.glob("*.yaml")} - {"custom"}
    assert configs <= set(AGENTS), "every agent config names a registered agent"
    assert set(FAST) <= set(AGENTS)
    for name in AGENTS:
        assert agent_class(name).name == name


@pytest.mark.parametrize("name", AGENTS)
def test_same_seed_same_designs_different_seed_different(name):
    a, _ = record_run(name, seed=1)
    b, _ = record_run(name, seed=1)
    c, _ = record_run(name, seed=2)
    assert a == b
    assert a != c


@pytest.mark.parametrize("name", AGENTS)
def test_budget_is_respected_exactly_and_designs_are_valid(name):
    seen, result = record_run(name, seed=0)
    assert len(seen) == BUDGET and result.evaluations == BUDGET
    space = toy_space()
    for values in seen:
        space.validate(dict(zip(space.names, values)))  # raises on an invalid design


@pytest.mark.parametrize("name", AGENTS)
def test_stop_on_success_stops_at_the_first_success(name):
    env = toy_env(target=150.0)  # loose: 90 % of designs meet it
    agent = make_agent(name, env.space, seed=0, **FAST.get(name, {}))
    result = agent.run(env, 50, stop_on_success=True)
    assert result.success and result.first_success_step < 50
    if name in ("rw", "ppo", "a2c", "dqn", "tpe"):  # one design per step: stops right at the success
        assert result.evaluations == result.first_success_step
    else:  # batch agents finish the batch that held the success
        assert result.first_success_step <= result.evaluations < result.first_success_step + 6


@pytest.mark.parametrize("name", AGENTS)
def test_run_leaves_global_rngs_untouched(name):
    # the legacy global generators are what this test is about
    random.seed(123), np.random.seed(123), torch.manual_seed(123)  # noqa: NPY002
    expected = (random.random(), np.random.rand(), torch.rand(1).item())  # noqa: NPY002
    random.seed(123), np.random.seed(123), torch.manual_seed(123)  # noqa: NPY002
    threads = torch.get_num_threads()
    record_run(name, seed=0)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected  # noqa: NPY002
    assert torch.get_num_threads() == threads


@pytest.mark.parametrize("name", AGENTS)
def test_config_file_matches_constructor_and_builds(name):
    cfg = yaml.safe_load((CONF / f"{name}.yaml").read_text())
    assert cfg["name"] == name
    defaults = agent_class(name).hyperparameter_defaults()
    known = list(defaults)
    assert sorted(cfg["params"]) == sorted(known), "every hyperparameter (and only those) in the config"
    for key, value in cfg["params"].items():  # defaults in the yaml are the constructor's defaults
        default = defaults[key]
        assert (list(default) if isinstance(default, tuple) else default) == value, key
    agent = make_agent(name, toy_space(), seed=0, **cfg["params"])
    assert set(agent.hyperparameters()) == set(known)


def test_every_agent_config_line_is_commented():
    for name in AGENTS:
        for line in (CONF / f"{name}.yaml").read_text().splitlines():
            if line.startswith("    ") or (line.startswith("  ") and ":" in line):
                assert "#" in line, f"{name}.yaml: undocumented key: {line.strip()}"


@pytest.mark.parametrize(
    "name, bad, message",
    [
        ("ga", {"mutation_prob": 1.5}, "mutation_prob must be a number in [0.0, 1.0]"),
        ("ga", {"population_size": 1}, "population_size must be an integer >= 2"),
        ("ga", {"selection": "roulette"}, "selection must be one of 'tournament', 'elitist'"),
        ("ga", {"elite_size": 16}, "elite_size must be an integer [0, 15]"),
        ("aging", {"sample_size": 99}, "sample_size must be an integer [1, 32]"),
        ("aco", {"evaporation": 0.0}, "evaporation must be a number in (0.0, 1.0]"),
        ("aco", {"greediness": -0.1}, "greediness must be a number in [0.0, 1.0]"),
        ("bo", {"q": 0}, "q must be an integer >= 1"),
        (
            "bo",
            {"optimizer": "adam"},
            "optimizer must be one of 'auto', 'enumerate', 'alternating', 'local_search'",
        ),
        ("ppo", {"learning_rate": 0}, "learning_rate must be a number > 0"),
        ("ppo", {"net_arch": []}, "net_arch must be a non-empty list"),
        ("dqn", {"action_mode": "direct"}, "action_mode must be one of 'incremental', 'assign', 'flat'"),
        ("a2c", {"gamma": 2}, "gamma must be a number in [0.0, 1.0]"),
    ],
)
def test_bad_hyperparameters_raise_naming_the_parameter(name, bad, message):
    with pytest.raises(ValueError, match=None) as info:
        agent_class(name)(toy_space(), seed=0, **bad)
    assert message in str(info.value)
    with pytest.raises(ConfigError, match=f"agent '{name}'"):
        make_agent(name, toy_space(), seed=0, **bad)


def test_unknown_hyperparameter_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown hyperparameter"):
        make_agent("ga", toy_space(), seed=0, mutation_rate=0.1)


@pytest.mark.slow
def test_hydra_sweep_over_an_agent_hyperparameter(tmp_path):
    """``archgym run --multirun agent=ga agent.params.mutation_prob=... seed=...`` gives one run per point."""
    import subprocess
    import sys

    from archgym.dataset import load_dataset

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "archgym.cli",
            "run",
            "--multirun",
            "env=accelerator",
            "agent=ga",
            "agent.params.mutation_prob=0.01,0.1",
            "seed=0,1",
            "budget=6",
            "progress=false",
            f"hydra.sweep.dir={tmp_path}/sweep",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    df = load_dataset(tmp_path / "sweep")
    assert len(df) == 4 * 6 and set(df["seed"]) == {0, 1}
    assert df["agent_params"].str.contains('"mutation_prob": 0.01').any()
