"""A Gymnasium vector env with same-step autoreset as Stable-Baselines3's ``VecEnv``.

SB3 trains on its own ``VecEnv`` interface: a list of info dicts, the last observation of
an ended episode in ``info["terminal_observation"]``, ``info["TimeLimit.truncated"]`` for a
truncation, and the next episode's first observation in place. :class:`SB3VecEnv` gives
that view of :class:`~archgym.vector.ArchGymVectorEnv` (or of a Gymnasium vector wrapper of
one) in same-step mode, so SB3's algorithms step ``N`` designs per call as one batch::

    venv = gymnasium.make_vec("archgym/Accelerator-v0", num_envs=64,
                              vectorization_mode="vector_entry_point", autoreset_mode="same_step")
    model = stable_baselines3.PPO("MlpPolicy", SB3VecEnv(venv)).learn(10_000)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.wrappers.vector import DictInfoToList
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn


class SB3VecEnv(VecEnv):
    """SB3's ``VecEnv`` over a Gymnasium ``VectorEnv`` whose ``autoreset_mode`` is same-step."""

    def __init__(self, venv: VectorEnv) -> None:
        mode = venv.metadata.get("autoreset_mode")
        if mode != AutoresetMode.SAME_STEP:
            raise ValueError(
                f"SB3VecEnv needs a vector env with same-step autoreset (autoreset_mode='same_step'), got {mode}"
            )
        self.venv = venv
        self._lists = DictInfoToList(venv)
        self.render_mode = venv.render_mode
        super().__init__(venv.num_envs, venv.single_observation_space, venv.single_action_space)
        self._actions: np.ndarray | None = None

    def reset(self) -> np.ndarray:
        seed = self._seeds[0] if self._seeds else None
        obs, _ = self._lists.reset(seed=seed, options=self._options[0] if self._options else None)
        self._reset_seeds()
        self._reset_options()
        return np.asarray(obs)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        obs, rewards, terminated, truncated, infos = self._lists.step(self._actions)
        dones = np.logical_or(terminated, truncated)
        out: list[dict[str, Any]] = []
        for i, info in enumerate(infos):
            info = dict(info)
            if dones[i]:
                info["terminal_observation"] = info.pop("final_obs")
                info.update(info.pop("final_info", {}))
            info["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
            out.append(info)
        return np.asarray(obs), np.asarray(rewards, dtype=np.float32), dones, out

    def close(self) -> None:
        self.venv.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        frames: Any = self.venv.render() if self.render_mode == "rgb_array" else None
        return list(frames) if frames is not None else [None] * self.num_envs

    # one process, one env: attribute access goes to the vector env itself
    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [getattr(self.venv, attr_name)] * len(list(self._get_indices(indices)))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self.venv, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        return [result] * len(list(self._get_indices(indices)))

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        return [False] * len(list(self._get_indices(indices)))
