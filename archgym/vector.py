"""N copies of one archgym task stepped as a batch: one process, one simulator, one ``evaluate_many`` a step.

Gymnasium's ``SyncVectorEnv`` and SB3's ``SubprocVecEnv`` step ``N`` envs one design at a
time (and a subprocess per env copies the whole simulator ``N`` times). The simulators
already evaluate batches far faster per design (the accelerator's template model, the SoC
and DRAM kernels), so :class:`ArchGymVectorEnv` decodes the ``N`` actions of a step and
evaluates them with one :meth:`~archgym.env.ArchGymEnv.evaluate` call on a single env.
Every design still goes through that env's :class:`~archgym.evaluation.Evaluator`: it is
validated, cached, counted toward the budget and logged exactly as one ``env.step`` would
be; the designs of one step are recorded in sub-env order.

Registered as each archgym env's Gymnasium ``vector_entry_point``, so::

    envs = gymnasium.make_vec("archgym/SoC-v0", num_envs=64, vectorization_mode="vector_entry_point")

builds one here (``"sync"`` and ``"async"`` give Gymnasium's own vector envs over the same
single env). Autoreset follows Gymnasium's convention, next-step by default: the step after
a sub-env's episode ends resets it (its action is ignored, no design is evaluated);
``autoreset_mode="same_step"`` resets it in the same step and reports the episode's last
observation and info under ``final_obs`` / ``final_info`` (what SB3's ``VecEnv`` wants;
:mod:`archgym.vector_sb3`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import load_env_creator
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from numpy.typing import NDArray

from archgym import rendering
from archgym.env import ArchGymEnv, unwrap
from archgym.errors import ConfigError
from archgym.evaluation import Evaluation
from archgym.simulator import use_simulator

AUTORESET_MODES = {"next_step": AutoresetMode.NEXT_STEP, "same_step": AutoresetMode.SAME_STEP}


def _autoreset_mode(value: str | AutoresetMode) -> AutoresetMode:
    if isinstance(value, AutoresetMode):
        if value not in AUTORESET_MODES.values():
            raise ValueError(f"autoreset_mode {value} is not supported; use one of {list(AUTORESET_MODES)}")
        return value
    try:
        return AUTORESET_MODES[str(value).lower().replace("-", "_")]
    except KeyError:
        raise ValueError(f"autoreset_mode must be one of {list(AUTORESET_MODES)}, got {value!r}") from None


class ArchGymVectorEnv(VectorEnv):
    """``num_envs`` episodes of one :class:`~archgym.env.ArchGymEnv`, their designs evaluated as one batch.

    Args:
        env: the task (an archgym env, possibly wrapped; its simulator, objective, evaluator,
            recorders and episode length are used as they are).
        num_envs: number of sub-envs (>= 1).
        autoreset_mode: ``"next_step"`` (Gymnasium's default) or ``"same_step"``.
        episode_length: steps per episode of each sub-env (default: the env's).

    Attributes:
        evaluation_limit: when set, a step evaluates only as many sub-envs (in order) as keep
            the env's evaluation count at most this; the others get reward 0 and stay as they
            are. An agent whose budget ends inside a step (SB3's, :mod:`archgym.vector_sb3`)
            thus evaluates exactly its budget.
        step_evaluations: the evaluation of each sub-env in the last step (None where none).
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        num_envs: int,
        *,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        episode_length: int | None = None,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1, got {num_envs!r}")
        self.env: ArchGymEnv = unwrap(env)
        self.num_envs = num_envs
        self.episode_length = self.env.episode_length if episode_length is None else int(episode_length)
        if self.episode_length < 1:
            raise ValueError(f"episode_length must be >= 1, got {episode_length}")
        mode = _autoreset_mode(autoreset_mode)
        self.metadata = {
            "render_modes": list(rendering.RENDER_MODES),
            "render_fps": self.env.metadata.get("render_fps", 4),
            "autoreset_mode": mode,
        }
        self.render_mode = self.env.render_mode
        self.single_action_space = self.env.action_space
        self.single_observation_space = self.env.observation_space
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self._t = np.zeros(num_envs, dtype=np.int64)
        self._needs_reset = np.zeros(num_envs, dtype=bool)
        self._last: list[Evaluation | None] = [None] * num_envs
        self.evaluation_limit: int | None = None
        self.step_evaluations: list[Evaluation | None] = [None] * num_envs

    @property
    def autoreset_mode(self) -> AutoresetMode:
        mode: AutoresetMode = self.metadata["autoreset_mode"]
        return mode

    # ------------------------------------------------------------------ reset
    def reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        """Reset every sub-env (or those in ``options["reset_mask"]``); seeds the shared env once."""
        first_seed = seed[0] if isinstance(seed, Sequence) else seed
        super().reset(seed=first_seed)
        self.env.reset(seed=first_seed)
        mask = np.ones(self.num_envs, dtype=bool)
        if options and "reset_mask" in options:
            mask = np.asarray(options["reset_mask"], dtype=bool)
            if mask.shape != (self.num_envs,):
                raise ValueError(f"reset_mask must have shape ({self.num_envs},), got {mask.shape}")
        for i in np.flatnonzero(mask):
            self._reset_one(int(i))
        obs = self.env.observations(self._last)
        infos = self._batch_infos([self.env.info(ev, int(t)) for ev, t in zip(self._last, self._t)])
        return obs, infos

    def _reset_one(self, i: int) -> None:
        self._t[i] = 0
        self._last[i] = None
        self._needs_reset[i] = False

    # ------------------------------------------------------------------- step
    def step(
        self, actions: Any
    ) -> tuple[
        NDArray[np.float32], NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_], dict[str, Any]
    ]:
        """Evaluate one design per sub-env in one batch.

        In next-step mode a sub-env whose episode ended on the previous step is reset instead
        (reward 0, no evaluation). Sub-envs past :attr:`evaluation_limit` get reward 0, are
        not done, and keep their state.
        """
        active = np.ones(self.num_envs, dtype=bool)
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            resetting = self._needs_reset.copy()
            for i in np.flatnonzero(resetting):
                self._reset_one(int(i))
            active &= ~resetting
        if self.evaluation_limit is not None:
            room = max(0, self.evaluation_limit - self.env.n_evaluations)
            active[np.flatnonzero(active)[room:]] = False
        return self._step(actions, active)

    def _step(
        self, actions: Any, active: NDArray[np.bool_]
    ) -> tuple[
        NDArray[np.float32], NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_], dict[str, Any]
    ]:
        n = self.num_envs
        acts = np.asarray(actions)
        if acts.shape[:1] != (n,):
            raise ValueError(f"expected {n} actions (one per sub-env), got an array of shape {acts.shape}")
        rows = np.flatnonzero(active)
        evaluations = self.env.evaluate([self.env.decode(acts[i]) for i in rows]) if rows.size else []
        reward = np.zeros(n, dtype=np.float64)
        terminated = np.zeros(n, dtype=bool)
        truncated = np.zeros(n, dtype=bool)
        self.step_evaluations = [None] * n
        for i, ev in zip(rows, evaluations):
            self.step_evaluations[i] = ev
            self._t[i] += 1
            self._last[i] = ev
            reward[i] = ev.reward
            terminated[i] = bool(ev.success)
            truncated[i] = (not terminated[i]) and self._t[i] >= self.episode_length
        done = terminated | truncated
        obs = self.env.observations(self._last)
        infos = [self.env.info(ev, int(t)) for ev, t in zip(self._last, self._t)]
        if self.autoreset_mode == AutoresetMode.SAME_STEP and done.any():
            final_obs = np.full(n, None, dtype=object)
            for i in np.flatnonzero(done):
                final_obs[i] = obs[i].copy()
            final_info = self._batch_infos(infos, done)
            for i in np.flatnonzero(done):
                self._reset_one(int(i))
                infos[i] = self.env.info(None, 0)
            obs = self.env.observations(self._last)
            batched = self._batch_infos(infos)
            batched.update(final_obs=final_obs, _final_obs=done.copy(), final_info=final_info)
            batched["_final_info"] = done.copy()
        else:
            self._needs_reset = done
            batched = self._batch_infos(infos)
        return obs, reward, terminated, truncated, batched

    # ------------------------------------------------------------------ infos
    def _batch_infos(self, infos: Sequence[dict[str, Any]], mask: NDArray[np.bool_] | None = None) -> dict:
        """Per-sub-env infos as Gymnasium's dict of arrays (with ``_key`` masks), for ``mask`` only."""
        out: dict[str, Any] = {}
        for i, info in enumerate(infos):
            if mask is None or mask[i]:
                out = self._add_info(out, info, i)
        return out

    # ----------------------------------------------------------------- render
    def render(self) -> tuple[Any, ...] | None:
        """Each sub-env's last design, as the single env renders it (None without a render mode)."""
        if self.render_mode is None:
            return None
        return tuple(
            rendering.render(self.env, ev, int(t), self.render_mode) for ev, t in zip(self._last, self._t)
        )

    def close_extras(self, **kwargs: Any) -> None:
        self.env.close()

    def __repr__(self) -> str:
        name = self.env.env_id or type(self.env).__name__
        return f"ArchGymVectorEnv({name}, num_envs={self.num_envs})"


def make_vector_env(
    num_envs: int = 1,
    *,
    entry_point: str | Callable[..., gym.Env[Any, Any]],
    autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
    max_episode_steps: int | None = None,
    simulator: str | Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> ArchGymVectorEnv:
    """Gymnasium's ``vector_entry_point`` for an env factory (``"module:factory"`` or a callable).

    :func:`archgym.registry.register_envs` registers it for every archgym env with
    ``functools.partial(make_vector_env, entry_point=<the env's factory>)``. ``autoreset_mode``
    and ``max_episode_steps`` (what ``make_vec`` passes from a spec) go to the vector env;
    ``simulator`` is an ``env.simulator`` config (e.g. ``"template"``), resolved as
    :func:`archgym.registry.make_env` resolves it; every other keyword goes to the factory,
    as ``gymnasium.make`` would pass it.
    """
    factory = load_env_creator(entry_point) if isinstance(entry_point, str) else entry_point
    env = factory(**kwargs)
    if not isinstance(env, gym.Env):
        raise TypeError(f"{entry_point!r} built a {type(env).__name__}, not a gymnasium env")
    if simulator is not None:
        choice = use_simulator(unwrap(env), simulator)
        if choice.wrap_agent is not None:
            raise ConfigError(f"simulator {simulator!r} wraps the run's agent: use it with archgym run")
    return ArchGymVectorEnv(env, num_envs, autoreset_mode=autoreset_mode, episode_length=max_episode_steps)
