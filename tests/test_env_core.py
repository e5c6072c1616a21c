"""The base env and the evaluator on a closed-form test model."""

import numpy as np
import pytest
from conftest import make_test_env
from gymnasium.utils.env_checker import check_env

from archgym.agent import RunResult
from archgym.design_space import InvalidDesignError


def test_step_returns_normalised_metrics_and_info(test_env):
    obs, info = test_env.reset(seed=0)
    assert np.all(obs == 0) and info["episode_step"] == 0
    design = {"mode": "a", "units": 8, "buffer": 16, "freq": 1.0}
    obs, reward, terminated, truncated, info = test_env.step(test_env.encode(design))
    lat = 64 / 8 + 8 / 4
    pw = 8 + 1
    assert info["metrics"] == pytest.approx({"latency_ms": lat, "power_mw": pw})
    assert obs == pytest.approx([lat / 5.0, pw / 10.0])  # divided by the targets
    assert info["design"] == design and 0 < reward < 1 and not terminated and not truncated


def test_success_terminates_and_length_truncates():
    env = make_test_env(targets={"latency_ms": 10.0, "power_mw": 9.0}, episode_length=3)
    env.reset(seed=0)
    _, reward, terminated, _, _ = env.step(env.encode({"mode": "a", "units": 8, "buffer": 16, "freq": 1.0}))
    assert terminated and reward == 1.0
    env.reset()
    far = env.encode({"mode": "c", "units": 1, "buffer": 1, "freq": 0.5})
    flags = [env.step(far)[3] for _ in range(3)]
    assert flags == [False, False, True]


def test_simulator_error_is_recorded_and_run_continues(test_env):
    evs = test_env.evaluate(
        [
            {"mode": "a", "units": 13, "buffer": 1, "freq": 1.0},
            {"mode": "a", "units": 12, "buffer": 1, "freq": 1.0},
        ]
    )
    assert evs[0].metrics is None and not evs[0].feasible
    assert "units=13 is unsupported" in evs[0].error and "SimulationError" in evs[0].error
    assert evs[1].error is None and evs[1].metrics is not None


def test_duplicates_are_cached_but_counted(test_env):
    d = {"mode": "b", "units": 4, "buffer": 2, "freq": 2.0}
    evs = test_env.evaluate([d, d]) + test_env.evaluate([d])
    assert [e.cached for e in evs] == [False, True, True]
    assert [e.step for e in evs] == [1, 2, 3]
    assert test_env.n_evaluations == 3
    assert evs[0].metrics == evs[2].metrics and evs[2].wall_time_s == 0.0


def test_invalid_design_raises_clear_error(test_env):
    with pytest.raises(InvalidDesignError, match="parameter 'units'"):
        test_env.evaluate([{"mode": "a", "units": 99, "buffer": 1, "freq": 1.0}])


def test_box_encoding_and_design_observation():
    env = make_test_env(action_encoding="box", observe_design=True)
    env.reset(seed=0)
    d = {"mode": "c", "units": 3, "buffer": 64, "freq": 1.5}
    obs, *_, info = env.step(env.encode(d))
    assert info["design"] == d and obs.shape == (2 + 4,)
    assert np.allclose(obs[2:], env.space.to_unit(d), atol=1e-6)


def test_ansi_render(test_env):
    test_env.render_mode = "ansi"
    test_env.reset(seed=0)
    # a design the test simulator evaluates (a random one may hit its failing units=13)
    test_env.step(test_env.encode({"mode": "a", "units": 4, "buffer": 8, "freq": 1.0}))
    text = test_env.render()
    assert "latency_ms" in text and "reward" in text


@pytest.mark.filterwarnings(
    "ignore:.*not having a spec"
)  # only because this env is built without gymnasium.make
@pytest.mark.filterwarnings("error")
def test_gymnasium_checker_passes_on_test_env():
    check_env(make_test_env(), skip_render_check=False)


def test_recorders_see_every_evaluation(test_env):
    seen = RunResult()
    test_env.add_recorder(seen.observe)
    test_env.evaluate([test_env.space.sample(np.random.default_rng(i)) for i in range(5)])
    assert seen.evaluations == 5 and len(seen.best_so_far) == 5
    assert all(a <= b for a, b in zip(seen.best_so_far, seen.best_so_far[1:]))
