"""The RL agents' action modes over a batched vector env: N policies' moves, one simulator batch a step.

The single-env wrappers of :mod:`archgym.agents.rl` (``IncrementalActionWrapper``,
``FlatDiscreteWrapper``) turn a policy's discrete action into a design; the vector
wrappers here do the same for each sub-env of an :class:`~archgym.vector.ArchGymVectorEnv`
in same-step autoreset mode, with the same move rule (:func:`move_indices`, shared by both),
so an SB3 agent with ``n_envs=N`` sees exactly the action and observation spaces it sees
with one env, and the N designs of a step are evaluated as one batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorWrapper
from gymnasium.vector.utils import batch_space

from archgym.design_space import DesignSpace
from archgym.vector import ArchGymVectorEnv

MOVES = ("step", "assign")
START_MODES = ("best", "random", "centre")


def move_indices(
    space: DesignSpace, offsets: np.ndarray, moves: str, current: np.ndarray, action: int
) -> np.ndarray:
    """The index vector reached from ``current`` by a move ``action``.

    ``moves="step"``: action ``2 * j`` moves parameter ``j`` one index down, ``2 * j + 1`` one
    up (ordered parameters clip at their ends, categorical ones cycle). ``moves="assign"``:
    action ``offsets[j] + v`` sets parameter ``j`` to its ``v``-th value.
    """
    out = np.array(current, dtype=np.int64, copy=True)
    if moves == "assign":
        j = int(np.searchsorted(offsets, int(action), side="right")) - 1
        out[j] = int(action) - int(offsets[j])
        return out
    j, up = divmod(int(action), 2)
    n = int(space.nvec[j])
    if space.params[j].is_categorical:
        out[j] = (out[j] + (1 if up else -1)) % n
    else:
        out[j] = int(np.clip(out[j] + (1 if up else -1), 0, n - 1))
    return out


def n_move_actions(space: DesignSpace, moves: str) -> int:
    """Size of the ``Discrete`` move space: ``2 * n_params`` (step) or ``sum(nvec)`` (assign)."""
    return 2 * len(space) if moves == "step" else int(np.sum(space.nvec))


def move_offsets(space: DesignSpace) -> np.ndarray:
    """First assign-action of each parameter (``offsets[j] + v`` sets parameter ``j`` to value ``v``)."""
    return np.concatenate([[0], np.cumsum(space.nvec)]).astype(np.int64)


class _IndexActions(VectorWrapper):
    """Base: turns each sub-env's action into an index vector and steps the batched env with them."""

    def __init__(self, env: ArchGymVectorEnv) -> None:
        super().__init__(env)
        if env.autoreset_mode != AutoresetMode.SAME_STEP:
            raise ValueError(f"{type(self).__name__} needs a vector env with autoreset_mode='same_step'")
        self.base: ArchGymVectorEnv = env
        self.space: DesignSpace = env.env.space

    def _inner_actions(self, indices: np.ndarray) -> np.ndarray:
        archgym_env = self.base.env
        return np.stack([archgym_env.encode(self.space.from_indices(row)) for row in indices])


class VectorMoveWrapper(_IndexActions):
    """:class:`~archgym.agents.rl.IncrementalActionWrapper` for every sub-env of a batched vector env.

    Each sub-env keeps its current design; an episode (of the vector env's ``episode_length``)
    starts from ``start``: the best design any sub-env has reached (``"best"``; a random one
    before the first step), a random design, or the centre of the space. The observation is
    the env's followed by the current design's unit-cube encoding.
    """

    def __init__(self, env: ArchGymVectorEnv, moves: str = "step", start: str = "best") -> None:
        super().__init__(env)
        if moves not in MOVES or start not in START_MODES:
            raise ValueError(f"moves must be one of {MOVES} and start one of {START_MODES}")
        self.moves, self.start = moves, start
        self._offsets = move_offsets(self.space)
        self.single_action_space = spaces.Discrete(n_move_actions(self.space, moves))
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        inner = env.single_observation_space
        assert isinstance(inner, spaces.Box)
        d = len(self.space)
        self.single_observation_space = spaces.Box(
            np.concatenate([inner.low, np.zeros(d, dtype=np.float32)]),
            np.concatenate([inner.high, np.ones(d, dtype=np.float32)]),
            dtype=np.float32,
        )
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._current = np.zeros((self.num_envs, d), dtype=np.int64)
        self._rng = np.random.default_rng(0)
        self._best: tuple[tuple[bool, float], np.ndarray] | None = None

    def _start(self) -> np.ndarray:
        if self.start == "best" and self._best is not None:
            return self._best[1].copy()
        if self.start in ("random", "best"):
            return self.space.sample_indices(self._rng)
        return (self.space.nvec - 1) // 2

    def _obs(self, inner_obs: np.ndarray, current: np.ndarray) -> np.ndarray:
        unit = np.stack([self.space.to_unit(self.space.from_indices(row)) for row in current])
        return np.concatenate([np.asarray(inner_obs, dtype=np.float32), unit.astype(np.float32)], axis=1)

    def reset(self, *, seed: Any = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        first = seed[0] if isinstance(seed, (list, tuple)) else seed
        if first is not None:
            self._rng = np.random.default_rng(first)
        obs, info = self.env.reset(seed=seed, options=options)
        for i in range(self.num_envs):
            self._current[i] = self._start()
        return self._obs(obs, self._current), info

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        acts = np.asarray(actions).reshape(self.num_envs)
        moved = np.stack(
            [
                move_indices(self.space, self._offsets, self.moves, cur, a)
                for cur, a in zip(self._current, acts)
            ]
        )
        obs, reward, terminated, truncated, info = self.env.step(self._inner_actions(moved))
        for i, ev in enumerate(self.base.step_evaluations):
            if ev is not None:
                self._current[i] = moved[i]
                score = (bool(ev.feasible), float(ev.reward))
                if self._best is None or score > self._best[0]:
                    self._best = (score, moved[i].copy())
        done = np.logical_or(terminated, truncated)
        if done.any():
            final = info["final_obs"]
            for k in np.flatnonzero(done):
                final[k] = self._obs(final[k][None, :], self._current[k][None, :])[0]
                self._current[k] = self._start()
        return self._obs(obs, self._current), reward, terminated, truncated, info


class VectorFlatWrapper(_IndexActions):
    """:class:`~archgym.agents.rl.FlatDiscreteWrapper` for every sub-env: one action per design."""

    def __init__(self, env: ArchGymVectorEnv) -> None:
        super().__init__(env)
        self._shape = tuple(int(n) for n in self.space.nvec)
        self.single_action_space = spaces.Discrete(int(np.prod(self._shape)))
        self.action_space = batch_space(self.single_action_space, self.num_envs)

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        acts = np.asarray(actions).reshape(self.num_envs)
        indices = np.stack(np.unravel_index(acts.astype(np.int64), self._shape), axis=1)
        return self.env.step(self._inner_actions(indices))
