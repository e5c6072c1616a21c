"""The accelerator environment: gymnasium.make, targets, constraints, Hydra config."""

from pathlib import Path

import gymnasium
import numpy as np
import pytest
import yaml

import archgym  # noqa: F401  (registers the envs)
from archgym.envs.accelerator import EYERISS_LIKE, UnknownWorkloadError
from archgym.envs.accelerator.env import default_targets, make_accelerator_env

CONF = Path(__file__).resolve().parents[1] / "conf" / "env" / "accelerator.yaml"


def test_make_and_step():
    env = gymnasium.make(
        "archgym/Accelerator-v0",
        workload="alexnet",
        targets={"latency_ms": 5.0, "energy_uj": 3000.0, "area_mm2": 5.0},
    )
    obs, info = env.reset(seed=0)
    assert obs.shape == env.observation_space.shape and not obs.any()
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert 0 < reward <= 1 and info["feasible"] and info["error"] == ""
    assert info["metrics"]["latency_ms"] > 0 and np.all(np.isfinite(obs))


def test_default_targets_are_reachable_budgets():
    targets = default_targets("resnet18")
    assert set(targets) == {"latency_ms", "energy_uj", "area_mm2"}
    env = make_accelerator_env("resnet18", targets=targets).unwrapped
    space = env.space
    rng = np.random.default_rng(0)
    designs = [space.from_indices(i) for i in space.sample_indices(rng, 512)]
    evals = env.evaluate(designs)
    assert any(e.success for e in evals)  # the design the targets came from meets them
    assert np.mean([e.success for e in evals]) < 0.05  # ...and they are demanding


def test_area_budget_constraint():
    env = make_accelerator_env("alexnet", targets={"latency_ms": 10.0}, area_budget_mm2=5.0).unwrapped
    big, small = dict(EYERISS_LIKE, pe_rows=128, pe_cols=128), dict(EYERISS_LIKE)
    ev_big, ev_small = env.evaluate([big, small])
    assert not ev_big.feasible and ev_big.reward == 0.0
    assert ev_small.feasible and ev_small.metrics["area_mm2"] <= 5.0


def test_hydra_config_builds_env():
    cfg = yaml.safe_load(CONF.read_text())
    assert cfg["id"] == "archgym/Accelerator-v0" and cfg["name"] == "accelerator"
    env = gymnasium.make(cfg["id"], **cfg["kwargs"])
    assert env.unwrapped.workload_name.startswith("resnet18")
    # the config's targets are the model-derived defaults
    assert cfg["kwargs"]["targets"] == default_targets("resnet18")


def test_unknown_workload():
    with pytest.raises(UnknownWorkloadError, match="known workloads: resnet18"):
        make_accelerator_env("lenet9000")
