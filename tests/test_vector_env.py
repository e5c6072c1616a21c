"""RL clients: every registered env under Gymnasium's and SB3's vectorisation, rgb_array rendering,
and the batched vector env (one simulator, N designs per step) against Gymnasium's SyncVectorEnv."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from _agent_fixtures import real_env, toy_env
from gymnasium.error import UnsupportedMode

from archgym.env import unwrap
from archgym.registry import env_ids, make_agent
from archgym.vector import ArchGymVectorEnv
from archgym.vector_sb3 import SB3VecEnv

#: cheap settings of the envs whose defaults cost seconds a design (the NAS envs' trained proxies)
FAST_KWARGS: dict[str, dict] = {
    # explicit targets (conf/env/accelerator.yaml's) spare the default-target search on the hierarchy model
    "archgym/Accelerator-v0": {"targets": {"latency_ms": 6.0, "energy_uj": 5400.0, "area_mm2": 2.3}},
    "archgym/NAS-v0": {"proxies": ["params_m"]},
    "archgym/CoDesign-v0": {"proxies": ["params_m"]},
}


def fast_kwargs(env_id: str) -> dict:
    return dict(FAST_KWARGS.get(env_id, {}))


def _random_steps(envs, steps: int, seed: int = 0):
    envs.reset(seed=seed)
    envs.action_space.seed(seed)
    seen_infeasible = 0
    for _ in range(steps):
        _, reward, _, _, info = envs.step(envs.action_space.sample())
        feasible = info["feasible"][info["_feasible"]]
        errors = info["error"][info["_error"]]
        assert all(isinstance(e, str) for e in errors)
        for name, values in info["metrics"].items():
            assert name.startswith("_") or values.dtype == np.float64, name
        seen_infeasible += int((~feasible).sum())
        assert np.all(reward[~info["feasible"] & info["_feasible"]] == 0.0)
    return seen_infeasible


#: envs cheap enough for 200 steps of every client in the fast suite (the rest run them in the slow one)
CHEAP = ("archgym/SoC-v0",)


def _make_vec(env_id: str, mode: str, num_envs: int = 2):
    # async: workers spawned afresh (forking a process that already runs numba/torch threads can
    # hang); "archgym:<id>" makes each worker import archgym, which registers the envs
    if mode == "async":
        return gymnasium.make_vec(
            f"archgym:{env_id}", num_envs=num_envs, vectorization_mode=mode,
            vector_kwargs={"context": "spawn"}, **fast_kwargs(env_id),
        )  # fmt: skip
    return gymnasium.make_vec(env_id, num_envs=num_envs, vectorization_mode=mode, **fast_kwargs(env_id))


def _each_env_and_mode(fast_steps: int) -> list:
    """(env id, mode, steps): 200 steps everywhere; in the fast suite only the cheap envs' 200 steps,
    sync mode, and a short sync run of the others."""
    cases = []
    for env_id in env_ids():
        for mode in ("sync", "async"):
            cases.append(pytest.param(env_id, mode, 200, marks=pytest.mark.slow))
            if mode == "sync" or env_id == "archgym/SoC-v0":
                cases.append(pytest.param(env_id, mode, 200 if env_id in CHEAP else fast_steps))
    return cases


@pytest.mark.parametrize(("env_id", "mode", "steps"), _each_env_and_mode(fast_steps=10))
def test_gymnasium_make_vec_aggregates_infos_of_feasible_and_infeasible_designs(env_id, mode, steps):
    envs = _make_vec(env_id, mode)
    try:
        _random_steps(envs, steps)
    finally:
        envs.close()


def test_infos_keep_their_structure_when_a_design_is_infeasible():
    env = gymnasium.make("archgym/SoC-v0")
    _, reset_info = env.reset(seed=0)
    env.action_space.seed(1)
    infos = [env.step(env.action_space.sample())[-1] for _ in range(20)]
    assert {i["feasible"] for i in infos} == {True, False}  # both kinds seen
    for info in [reset_info, *infos]:
        assert set(info) == set(reset_info)
        assert set(info["metrics"]) == set(env.unwrapped.simulator.metric_names)
        assert isinstance(info["error"], str)
    bad = next(i for i in infos if not i["feasible"])
    assert bad["error"] and all(np.isnan(v) for v in bad["metrics"].values())
    good = next(i for i in infos if i["feasible"])
    assert good["error"] == "" and all(np.isfinite(v) for v in good["metrics"].values())


@pytest.mark.parametrize("env_id", env_ids())
def test_rgb_array_render_and_unsupported_mode(env_id):
    env = gymnasium.make(env_id, render_mode="rgb_array", **fast_kwargs(env_id))
    env.reset(seed=0)
    blank = env.render()
    env.step(env.action_space.sample())
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert frame.shape == blank.shape and not np.array_equal(frame, blank)  # the bars were drawn
    with pytest.raises(UnsupportedMode, match="render_mode must be one of"):  # also a ConfigError
        gymnasium.make(env_id, render_mode="human", **fast_kwargs(env_id))


def test_gymnasium_checker_renders_rgb_array():
    from gymnasium.utils.env_checker import check_env

    env = gymnasium.make("archgym/SoC-v0", render_mode="rgb_array")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped, skip_render_check=False)


def _sb3_ppo(env_id: str, vec_env_cls) -> int:
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import SubprocVecEnv

    # a worker process imports archgym (and so registers its envs) through the "archgym:" prefix
    name = f"archgym:{env_id}" if vec_env_cls is SubprocVecEnv else env_id
    venv = make_vec_env(name, n_envs=2, seed=0, vec_env_cls=vec_env_cls, env_kwargs=fast_kwargs(env_id))
    try:
        assert venv.render_mode == "rgb_array"  # SB3 asks for it; archgym envs take it
        model = PPO("MlpPolicy", venv, n_steps=16, batch_size=16, n_epochs=1, seed=0, device="cpu")
        model.learn(total_timesteps=64)
        return int(model.num_timesteps)
    finally:
        venv.close()


def _cheap_fast_others_slow() -> list:
    return [i if i in CHEAP else pytest.param(i, marks=pytest.mark.slow) for i in env_ids()]


@pytest.mark.parametrize("env_id", _cheap_fast_others_slow())
def test_sb3_make_vec_env_dummy_with_ppo(env_id):
    from stable_baselines3.common.vec_env import DummyVecEnv

    assert _sb3_ppo(env_id, DummyVecEnv) >= 64


@pytest.mark.parametrize(
    "env_id", [i if i == "archgym/SoC-v0" else pytest.param(i, marks=pytest.mark.slow) for i in env_ids()]
)
def test_sb3_make_vec_env_subproc_with_ppo(env_id):
    from stable_baselines3.common.vec_env import SubprocVecEnv

    assert _sb3_ppo(env_id, SubprocVecEnv) >= 64


# ----------------------------------------------------------------------- the batched vector env
def _same_trajectories(a, b, steps: int, seed: int = 3) -> None:
    a.reset(seed=seed)
    b.reset(seed=seed)
    rng = np.random.default_rng(seed)
    single = a.single_action_space
    for _ in range(steps):
        actions = np.stack([rng.integers(0, single.nvec) for _ in range(a.num_envs)])
        out_a, out_b = a.step(actions), b.step(actions)
        # equal to the last bits but one: the accelerator's batched model may differ by an ulp with
        # the batch's composition (issue 28, item 6)
        np.testing.assert_allclose(out_a[0], out_b[0], rtol=1e-6)  # float32 observations
        np.testing.assert_allclose(out_a[1], out_b[1], rtol=1e-12)
        for x, y in zip(out_a[2:4], out_b[2:4]):
            np.testing.assert_array_equal(x, y)
        info_a, info_b = out_a[4], out_b[4]
        np.testing.assert_array_equal(info_a["feasible"], info_b["feasible"])
        np.testing.assert_array_equal(info_a["error"] != "", info_b["error"] != "")
        for name in info_a["metrics"]:
            np.testing.assert_allclose(info_a["metrics"][name], info_b["metrics"][name], rtol=1e-12)
        if "final_obs" in info_b:
            done = info_b["_final_obs"]
            np.testing.assert_array_equal(info_a["_final_obs"], done)
            np.testing.assert_array_equal(
                np.stack(info_a["final_obs"][done]), np.stack(info_b["final_obs"][done])
            )


@pytest.mark.parametrize("autoreset", ["next_step", "same_step"])
@pytest.mark.parametrize("env_id", ["archgym/SoC-v0", "archgym/Accelerator-v0"])
def test_vector_entry_point_steps_exactly_as_gymnasium_sync_vector_env(env_id, autoreset):
    from gymnasium.vector import AutoresetMode

    kwargs = {**fast_kwargs(env_id), "episode_length": 3}  # the accelerator on its default model
    ours = gymnasium.make_vec(
        env_id, num_envs=5, vectorization_mode="vector_entry_point", autoreset_mode=autoreset, **kwargs
    )
    mode = AutoresetMode.NEXT_STEP if autoreset == "next_step" else AutoresetMode.SAME_STEP
    sync = gymnasium.make_vec(
        env_id, num_envs=5, vectorization_mode="sync", vector_kwargs={"autoreset_mode": mode}, **kwargs
    )
    assert isinstance(ours, ArchGymVectorEnv) and ours.metadata["autoreset_mode"] == mode
    _same_trajectories(ours, sync, steps=12)
    # one evaluator: every evaluated design counted once, in sub-env order
    evaluated = ours.env.n_evaluations
    assert evaluated == sum(e.unwrapped.n_evaluations for e in sync.envs)


def test_vector_env_logs_every_design_and_caps_evaluations():
    env = gymnasium.make("archgym/SoC-v0")
    seen = []
    env.unwrapped.add_recorder(seen.append)
    venv = ArchGymVectorEnv(env, 8, autoreset_mode="same_step")
    venv.reset(seed=0)
    venv.action_space.seed(0)
    actions = venv.action_space.sample()
    venv.step(actions)
    assert [e.design for e in seen] == [env.unwrapped.decode(a) for a in actions]
    venv.evaluation_limit = 8 + 3
    _, reward, terminated, truncated, _ = venv.step(venv.action_space.sample())
    assert len(seen) == 11 and env.unwrapped.n_evaluations == 11
    assert not (terminated[3:] | truncated[3:]).any() and np.all(reward[3:] == 0.0)
    assert [e is None for e in venv.step_evaluations] == [False] * 3 + [True] * 5


def test_vector_env_checks_with_sb3_vec_check_nan():
    from stable_baselines3.common.vec_env import VecCheckNan

    venv = gymnasium.make_vec(
        "archgym/SoC-v0", num_envs=4, vectorization_mode="vector_entry_point", autoreset_mode="same_step"
    )
    checked = VecCheckNan(SB3VecEnv(venv), raise_exception=True)  # infeasible designs: no NaN/inf obs
    obs = checked.reset()
    assert venv.observation_space.contains(obs)
    for _ in range(30):
        obs, reward, done, infos = checked.step(
            np.stack([venv.single_action_space.sample() for _ in range(4)])
        )
        assert venv.observation_space.contains(obs) and len(infos) == 4
        for info, d in zip(infos, done):
            assert ("terminal_observation" in info) == bool(d)


def test_sb3_vec_env_refuses_next_step_autoreset():
    venv = gymnasium.make_vec("archgym/SoC-v0", num_envs=2, vectorization_mode="vector_entry_point")
    with pytest.raises(ValueError, match="same-step autoreset"):
        SB3VecEnv(venv)


# ----------------------------------------------------------------------- the SB3 agents' n_envs
@pytest.mark.parametrize(
    ("agent", "mode"), [("ppo", "incremental"), ("a2c", "direct"), ("dqn", "assign"), ("ppo", "flat")]
)
def test_sb3_agents_with_n_envs_spend_the_exact_budget_reproducibly(agent, mode):
    def run() -> list:
        env = toy_env() if mode == "flat" else real_env()  # flat: a space small enough to enumerate
        seen: list = []
        unwrap(env).add_recorder(seen.append)
        a = make_agent(agent, unwrap(env).space, seed=4, n_envs=8, action_mode=mode, net_arch=[16])
        result = a.run(env, budget=61)
        assert result.evaluations == 61 == len(seen) == unwrap(env).n_evaluations
        return [tuple(e.design.values()) for e in seen]

    assert run() == run()


def test_vector_move_wrapper_uses_the_single_wrappers_move_rule():
    from archgym.agents.rl import IncrementalActionWrapper
    from archgym.agents.rl_vector import VectorMoveWrapper

    env = real_env()
    single = IncrementalActionWrapper(real_env(), start="centre")
    vector = VectorMoveWrapper(
        ArchGymVectorEnv(env, 3, autoreset_mode="same_step", episode_length=4), start="centre"
    )
    obs_s, _ = single.reset(seed=0)
    obs_v, _ = vector.reset(seed=0)
    np.testing.assert_array_equal(obs_v[0], obs_s)
    for action in [1, 3, 5, 0]:
        obs_s, r_s, *_ = single.step(action)
        obs_v, r_v, term, trunc, info = vector.step(np.array([action] * 3))
        assert r_v[0] == r_s
        if not (term[0] or trunc[0]):
            np.testing.assert_array_equal(obs_v[0], obs_s)
        else:
            np.testing.assert_array_equal(info["final_obs"][0], obs_s)


def test_the_readmes_sb3_script_on_make_vec_runs():
    """The README's five-line SB3 script, as written but for a shorter training."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    blocks = [b.split("```", 1)[0] for b in readme.split("```python\n")[1:]]
    (script,) = [b for b in blocks if "SB3VecEnv(envs)" in b]
    assert len([line for line in script.splitlines() if line.strip()]) == 5
    namespace: dict = {}
    exec(script.replace("total_timesteps=2_000", "total_timesteps=128"), namespace)
    assert namespace["model"].num_timesteps >= 128
