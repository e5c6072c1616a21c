"""Stable-Baselines3 agents: action wrappers, exact budgets mid-rollout, box actions, real-env
target. Tiny networks and rollouts keep each run to about a second."""

from __future__ import annotations

import numpy as np
import pytest
from _agent_fixtures import real_env, toy_env, toy_space
from gymnasium import spaces

from archgym.agents.rl import A2CAgent, DQNAgent, FlatDiscreteWrapper, IncrementalActionWrapper, PPOAgent

EASY_TARGETS = {"latency_ms": 6.0, "energy_uj": 10000.0, "area_mm2": 3.0}
SMALL = {"net_arch": [16]}


def test_incremental_step_moves_clip_ordered_and_cycle_categorical():
    env = IncrementalActionWrapper(toy_env(), moves="step", start="centre")
    assert env.action_space == spaces.Discrete(8)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (2 + 4,)
    env._current = np.array([0, 15, 2, 6])
    assert env.move(0).tolist() == [0, 15, 2, 6]  # x1 down at 0: clipped
    assert env.move(3).tolist() == [0, 15, 2, 6]  # x2 up at 15: clipped
    assert env.move(5).tolist() == [0, 15, 0, 6]  # policy next: cycles to the first choice
    assert env.move(4).tolist() == [0, 15, 1, 6]  # policy previous
    assert env.move(6).tolist() == [0, 15, 2, 5]  # buffer down


def test_assign_moves_set_one_parameter_to_any_value():
    env = IncrementalActionWrapper(toy_env(), moves="assign", start="centre")
    assert env.action_space == spaces.Discrete(16 + 16 + 3 + 7)
    env.reset(seed=0)
    env._current = np.array([1, 2, 0, 3])
    assert env.move(15).tolist() == [15, 2, 0, 3]
    assert env.move(16 + 16 + 2).tolist() == [1, 2, 2, 3]
    assert env.move(41).tolist() == [1, 2, 0, 6]


def test_incremental_step_evaluates_and_observes_the_current_design():
    base = toy_env()
    env = IncrementalActionWrapper(base, moves="assign", start="best")
    env.reset(seed=0)
    obs, reward, *_, info = env.step(0)  # x1 := 0
    assert info["design"]["x1"] == 0 and base.n_evaluations == 1
    assert np.allclose(obs[2:], base.space.to_unit(info["design"]))
    env.reset()
    assert env._current.tolist() == base.space.to_indices(info["design"]).tolist()  # starts at the best


def test_flat_wrapper_maps_actions_to_designs_and_refuses_big_spaces():
    base = toy_env()
    env = FlatDiscreteWrapper(base)
    assert env.action_space.n == 5376
    design = base.space.from_indices(np.unravel_index(1234, tuple(base.space.nvec)))
    assert base.decode(env.action(1234)) == design
    with pytest.raises(ValueError, match="at most 100"):
        FlatDiscreteWrapper(base, max_size=100)


def test_ppo_direct_mode_works_with_box_actions():
    env = toy_env(action_encoding="box")
    result = PPOAgent(env.space, seed=0, n_steps=8, batch_size=8, n_epochs=1, **SMALL).run(env, 11)
    assert result.evaluations == 11 == env.n_evaluations


@pytest.mark.parametrize("cls", [PPOAgent, A2CAgent, DQNAgent])
def test_ask_and_tell_point_to_run(cls):
    agent = cls(toy_space(), seed=0)
    with pytest.raises(NotImplementedError, match="run"):
        agent.ask()


@pytest.mark.parametrize("mode", ["incremental", "assign", "flat"])
def test_dqn_action_modes_run_for_the_exact_budget(mode):
    env = toy_env()
    result = DQNAgent(env.space, seed=0, action_mode=mode, learning_starts=4, batch_size=8, **SMALL).run(
        env, 20
    )
    assert result.evaluations == 20


def test_trained_model_is_kept():
    env = toy_env()
    agent = A2CAgent(env.space, seed=0, n_steps=4, **SMALL)
    agent.run(env, 8)
    assert agent.model is not None and agent.model.num_timesteps == 8


@pytest.mark.parametrize("cls", [PPOAgent, A2CAgent, DQNAgent])
def test_reaches_the_target_on_the_accelerator_env(cls):
    env = real_env(workload="resnet18", targets=EASY_TARGETS)
    result = cls(env.unwrapped.space, seed=0).run(env, 300, stop_on_success=True)
    assert result.success, f"best reward {result.best.reward:.3f}"
    assert result.evaluations == result.first_success_step


def test_agent_episode_length_truncates_and_restarts_from_the_incumbent():
    env = IncrementalActionWrapper(toy_env(), moves="step", start="best", episode_length=2)
    env.reset(seed=0)
    assert env.step(0)[3] is False
    assert env.step(1)[3] is True  # truncated after 2 moves, well before the env's 16
    best = env._best[1].copy()
    env.reset()
    assert env._current.tolist() == best.tolist()
    direct = PPOAgent(toy_space(), seed=0, action_mode="direct", episode_length=3).wrap(toy_env())
    direct.reset(seed=0)
    assert [direct.step(direct.action_space.sample())[3] for _ in range(3)] == [False, False, True]
