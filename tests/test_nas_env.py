"""archgym/NAS-v0 and archgym/CoDesign-v0: construction, objectives, caching, co-design batches."""

import math

import gymnasium
import numpy as np
import pytest
from _nas_fixtures import one_torch_thread  # noqa: F401

import archgym  # noqa: F401  (registers the envs)
from archgym.envs.accelerator import EYERISS_LIKE, accelerator_design_space
from archgym.envs.nas.cell_space import CellSpace, uniform_cell
from archgym.envs.nas.codesign import join_design, make_codesign_env, split_design
from archgym.envs.nas.env import make_nas_env
from archgym.objective import ObjectiveError, TargetSpec, WeightedSum
from archgym.registry import make_env

FAST_PROXIES = ("naswot", "params_m", "flops_m")


@pytest.fixture(scope="module")
def nas_env():
    return make_nas_env(proxies=FAST_PROXIES)


def test_default_nas_env(nas_env):
    env = nas_env
    assert env.space.names == CellSpace().space.names
    assert env.simulator.metric_names == (*FAST_PROXIES, "latency_ms", "energy_uj", "area_mm2")
    assert isinstance(env.objective, TargetSpec)
    assert env.objective.modes == {"naswot": "at_least", "latency_ms": "at_most"}
    ref = env.evaluate([uniform_cell("conv3x3")])[0]
    assert env.objective.targets["naswot"] == pytest.approx(ref.metrics["naswot"])
    assert env.objective.targets["latency_ms"] == pytest.approx(0.5 * ref.metrics["latency_ms"])
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.encode(uniform_cell("conv1x1")))
    assert info["error"] == "" and 0 < reward <= 1 and np.isfinite(obs).all()
    assert info["metrics"]["area_mm2"] > 0


def test_gymnasium_make_with_registered_ids():
    env = gymnasium.make("archgym/NAS-v0", proxies=["naswot"], targets={"naswot": 400.0})
    assert env.unwrapped.objective.targets == {"naswot": 400.0}
    assert make_env("archgym/CoDesign-v0", proxies=["params_m"], targets={"latency_ms": 0.01}).unwrapped.space


def test_degenerate_cell_scores_below_a_real_one(nas_env):
    good, bad = nas_env.evaluate([uniform_cell("conv3x3"), uniform_cell("none")])
    assert good.reward > bad.reward


def test_trained_accuracy_evaluator_and_accuracy_target():
    env = make_nas_env(evaluator="train", train={"epochs": 1}, space_config={"channels": 4})
    assert env.objective.targets["accuracy"] == 0.97
    assert env.simulator.metric_names[:2] == ("accuracy", "train_loss")
    ev = env.evaluate([{**uniform_cell("skip"), "edge_0_1": "conv1x1"}])[0]
    assert ev.error is None and 0.3 < ev.metrics["accuracy"] <= 1.0  # one epoch; chance is 0.1


def test_objectives_from_config():
    env = make_nas_env(
        proxies=FAST_PROXIES,
        objective={
            "weights": {"naswot": -1.0, "latency_ms": 1.0},
            "scales": {"naswot": 500.0, "latency_ms": 0.01},
        },
        latency_budget_ms=0.02,
    )
    assert isinstance(env.objective, WeightedSum)
    assert [c.metric for c in env.objective.constraints] == ["latency_ms"]
    big = env.evaluate([uniform_cell("conv3x3")])[0]
    assert not big.feasible  # over the latency budget
    multi = make_nas_env(
        proxies=FAST_PROXIES,
        targets={"naswot": 450.0, "latency_ms": 0.02, "energy_uj": 10.0},
        weights={"naswot": 2.0},
        constraints=["area_mm2<=10"],
    )
    assert multi.objective.modes["energy_uj"] == "at_most" and multi.objective.weights["naswot"] == 2.0
    with pytest.raises(ValueError, match="unknown metric 'accuracy' in objective"):
        make_nas_env(proxies=FAST_PROXIES, targets={"accuracy": 0.9})
    with pytest.raises(ObjectiveError):
        make_nas_env(proxies=FAST_PROXIES, objective={"weights": {"bogus": 1.0}})


def test_bad_configuration_is_reported():
    with pytest.raises(ValueError, match="unknown NAS space"):
        make_nas_env(space="transformer")
    with pytest.raises(ValueError, match="evaluator"):
        make_nas_env(evaluator="oracle")
    with pytest.raises(ValueError, match="space_config"):
        make_nas_env(space_config={"channels": 8, "layers": 3})
    with pytest.raises(ValueError, match="train"):
        make_nas_env(evaluator="train", train={"epochz": 1})
    with pytest.raises(Exception, match="dataflow"):
        make_nas_env(accelerator={**EYERISS_LIKE, "dataflow": "magic"})


def test_block_space_env_and_fixed_accelerator():
    acc = {**EYERISS_LIKE, "pe_rows": 32, "pe_cols": 32}
    env = make_nas_env(space="block", proxies=("params_m",), accelerator=acc, targets={"latency_ms": 0.05})
    design = env.space.sample(np.random.default_rng(0))
    ev = env.evaluate([design])[0]
    assert ev.error is None and set(ev.metrics) == {"params_m", "latency_ms", "energy_uj", "area_mm2"}
    no_hw = make_nas_env(space="block", proxies=("params_m",), hardware=False, targets={"params_m": 0.05})
    assert no_hw.simulator.metric_names == ("params_m",)


def test_codesign_env_joint_space_and_batches():
    env = make_codesign_env(proxies=FAST_PROXIES)
    hw_names = accelerator_design_space().names
    assert env.space.names == tuple("net." + n for n in CellSpace().space.names) + tuple(
        "hw." + n for n in hw_names
    )
    assert set(env.objective.targets) == {"naswot", "latency_ms", "energy_uj", "area_mm2"}
    assert all(env.objective.modes[k] == "at_most" for k in ("latency_ms", "energy_uj", "area_mm2"))
    rng = np.random.default_rng(0)
    net = {**uniform_cell("conv3x3"), "edge_0_1": "skip"}
    hws = [accelerator_design_space().sample(rng) for _ in range(8)]
    joint = [join_design(net, h) for h in hws]
    assert split_design(joint[0]) == (net, hws[0])
    evs = env.evaluate(joint)
    assert all(e.error is None for e in evs)
    assert len({e.metrics["naswot"] for e in evs}) == 1  # same network, one proxy evaluation
    assert len({round(e.metrics["area_mm2"], 9) for e in evs}) > 1  # the accelerator varies
    assert env.simulator.hardware.cache.misses == 2  # reference network (default targets) + this one
    obs, _ = env.reset(seed=1)
    obs, reward, *_ = env.step(env.action_space.sample())
    assert math.isfinite(reward) and np.isfinite(obs).all()


def test_codesign_default_training_target():
    env = make_codesign_env(
        evaluator="train",
        train={"epochs": 1},
        space_config={"channels": 4},
        targets={"accuracy": 0.9, "latency_ms": 0.01, "area_mm2": 2.0},
    )
    assert env.objective.modes == {"accuracy": "at_least", "latency_ms": "at_most", "area_mm2": "at_most"}
