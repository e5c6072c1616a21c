"""Reinforcement-learning agents: Stable-Baselines3 PPO, A2C and DQN on the env itself.

RL agents do not use ask/tell: they interact with the gymnasium environment through
``env.step`` in episodes (the agent's ``episode_length`` steps, else the env's; ending
early when the target is met) and learn from the target-spec reward. Every step
evaluates one design through the env's :class:`~archgym.evaluation.Evaluator`, so it is
counted, cached and recorded exactly like a batch evaluation of any other agent, and the
datasets of all agents are comparable. The budget is the number of env steps: SB3's
``learn`` runs with ``total_timesteps=budget`` and a callback stops it at exactly
``budget`` evaluations (or at the first success with ``stop_on_success``), even in the
middle of a rollout.

Action modes (``action_mode``):

* ``"direct"`` (PPO / A2C): the policy outputs a whole design in the env's own action
  encoding (``MultiDiscrete`` index vector, or a ``[-1, 1]`` ``Box``), as ArchGym's RL
  agents do; the observation is the env's (normalised metrics of the last design).
* ``"incremental"`` (all three; PPO's and A2C's default): :class:`IncrementalActionWrapper` —
  ``Discrete(2 * n_params)`` actions "move parameter j one step down / up" from the
  current design (for a categorical parameter: previous / next choice, cyclically),
  with the current design's unit encoding appended to the observation (so the state is
  Markov). Each episode starts from the best design so far (``start="best"``), a random
  one or the centre of the space.
* ``"assign"`` (all three): the same wrapper with ``Discrete(sum(nvec))`` actions "set
  parameter j to its v-th value" — every design one parameter away is one action
  (DQN's default).
* ``"flat"`` (all three, small spaces only): :class:`FlatDiscreteWrapper` —
  ``Discrete(space.size)``, one action per design.

Defaults: the move modes with ``start="best"`` and ``episode_length=1`` — every step is
one move away from the incumbent and the policy learns which moves improve it (a learned
local search). On ``archgym/Accelerator-v0`` at a few hundred evaluations this beats
random search on success rate and best reward, where ``direct`` mode and the env's
32-step episodes (which drift far from the incumbent) do not; tuned on seeds 100-119
(``benchmarks/bench_agents.py`` reports seeds 0-4). DQN also keeps a high final epsilon
(0.3): its greedy move from an unchanged incumbent would re-evaluate the same design.

Seeding: SB3 seeds python's, numpy's and torch's global generators; the agents run SB3
inside :func:`~archgym.agents._common.isolated_global_rngs`, which seeds them from the
agent's seed and restores them afterwards. Same seed and config -> same designs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from archgym.agent import Agent, RunResult
from archgym.agents._common import check_choice, check_float, check_int, isolated_global_rngs
from archgym.agents.rl_vector import (
    MOVES,
    START_MODES,
    VectorFlatWrapper,
    VectorMoveWrapper,
    move_indices,
    move_offsets,
    n_move_actions,
)
from archgym.design_space import DesignSpace
from archgym.env import ArchGymEnv, unwrap
from archgym.errors import ConfigError
from archgym.evaluation import Evaluation
from archgym.vector import ArchGymVectorEnv

ACTION_MODES = ("direct", "incremental", "assign", "flat")
_MAX_FLAT = 1_000_000


class IncrementalActionWrapper(gym.Wrapper):
    """ArchGym-style incremental moves from the current design as a ``Discrete`` action space.

    With ``moves="step"``: ``Discrete(2 * n_params)``; action ``2 * j`` moves parameter
    ``j`` one index position down, ``2 * j + 1`` one up. Ordered parameters are clipped at
    their ends; categorical parameters cycle through their choices.

    With ``moves="assign"``: ``Discrete(sum(nvec))``; action ``offset_j + v`` sets
    parameter ``j`` to its ``v``-th value (every design one parameter away is one action).

    A move that does not change the design (past the end, or assigning the current value)
    re-evaluates the same design: cached, but it spends one evaluation. The observation is
    the wrapped env's observation followed by the current design's unit-cube encoding.

    Args:
        env: an :class:`~archgym.env.ArchGymEnv` (or a gymnasium wrapper of one).
        moves: ``"step"`` or ``"assign"`` (above).
        start: where each episode starts: ``"best"`` (the best design reached so far by
            this wrapper — episodes keep improving the incumbent, like a learned local
            search; a random design before the first step), ``"random"`` (a uniform
            design drawn from the generator seeded by ``reset(seed=...)``) or
            ``"centre"`` (middle index of every parameter).
        episode_length: truncate episodes after this many moves (``0``: only the wrapped
            env's own limit). Short episodes with ``start="best"`` keep every move within
            a few parameters of the incumbent.
    """

    def __init__(
        self, env: gym.Env, moves: str = "step", start: str = "best", episode_length: int = 0
    ) -> None:
        super().__init__(env)
        self.episode_length = check_int("episode_length", episode_length, 0)
        self._t = 0
        self.space: DesignSpace = unwrap(env).space
        self.moves = check_choice("moves", moves, MOVES)
        self.start = check_choice("start", start, START_MODES)
        self._offsets = move_offsets(self.space)
        self.action_space = spaces.Discrete(n_move_actions(self.space, self.moves))
        inner = env.observation_space
        if not isinstance(inner, spaces.Box):
            raise TypeError(f"{type(self).__name__} needs a Box observation space, got {inner}")
        n = len(self.space)
        self.observation_space = spaces.Box(
            np.concatenate([inner.low, np.zeros(n, dtype=np.float32)]),
            np.concatenate([inner.high, np.ones(n, dtype=np.float32)]),
            dtype=np.float32,
        )
        self._current = np.zeros(n, dtype=np.int64)
        self._rng = np.random.default_rng(0)
        self._best: tuple[tuple[bool, float], np.ndarray] | None = None  # ((feasible, reward), indices)

    def _obs(self, inner_obs: np.ndarray) -> np.ndarray:
        unit = self.space.to_unit(self.space.from_indices(self._current))
        return np.concatenate([np.asarray(inner_obs, dtype=np.float32), unit.astype(np.float32)])

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        obs, info = self.env.reset(seed=seed, options=options)
        self._t = 0
        if self.start == "best" and self._best is not None:
            self._current = self._best[1].copy()
        elif self.start in ("random", "best"):
            self._current = self.space.sample_indices(self._rng)
        else:
            self._current = (self.space.nvec - 1) // 2
        return self._obs(obs), info

    def move(self, action: int) -> np.ndarray:
        """The index vector reached from the current design by ``action``."""
        return move_indices(self.space, self._offsets, self.moves, self._current, action)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self._current = self.move(int(action))
        inner_action = unwrap(self.env).encode(self.space.from_indices(self._current))
        obs, reward, terminated, truncated, info = self.env.step(inner_action)
        self._t += 1
        if self.episode_length and self._t >= self.episode_length and not terminated:
            truncated = True
        score = (bool(info.get("feasible", True)), float(reward))
        if self._best is None or score > self._best[0]:
            self._best = (score, self._current.copy())
        return self._obs(obs), float(reward), terminated, truncated, info


class FlatDiscreteWrapper(gym.ActionWrapper):
    """``Discrete(space.size)``: one action per design (index vectors in C order).

    Only for small all-discrete spaces (at most ``max_size`` designs).
    """

    def __init__(self, env: gym.Env, max_size: int = _MAX_FLAT) -> None:
        super().__init__(env)
        self.space: DesignSpace = unwrap(env).space
        if not self.space.size <= max_size:
            raise ConfigError(
                f"action_mode 'flat' needs a discrete space of at most {max_size} designs, "
                f"this one has {self.space.size:g}; use 'incremental'"
            )
        self.action_space = spaces.Discrete(int(self.space.size))

    def action(self, action: Any) -> np.ndarray:
        idx = np.array(np.unravel_index(int(action), tuple(int(n) for n in self.space.nvec)), dtype=np.int64)
        return unwrap(self.env).encode(self.space.from_indices(idx))


def _budget_callback(result: RunResult, budget: int, stop_on_success: bool) -> Any:
    from stable_baselines3.common.callbacks import BaseCallback

    class _Budget(BaseCallback):
        """Stops ``learn`` at the evaluation budget (or the first success)."""

        def _on_step(self) -> bool:
            if stop_on_success and result.success:
                return False
            return result.evaluations < budget

    return _Budget()


def _net_arch(value: Any) -> list[int]:
    try:
        arch = [int(v) for v in value]
    except (TypeError, ValueError):
        raise ConfigError(
            f"net_arch must be a list of positive layer sizes, e.g. [64, 64], got {value!r}"
        ) from None
    if not arch or any(v < 1 for v in arch):
        raise ConfigError(f"net_arch must be a non-empty list of positive layer sizes, got {value!r}")
    return arch


#: the hyperparameters every SB3 agent takes, with their defaults (an algorithm may change a
#: default in its ``shared_defaults``); each is checked once, in :class:`SB3Agent`
SHARED_DEFAULTS: Mapping[str, Any] = {
    "learning_rate": 3e-4,
    "gamma": 0.9,
    "net_arch": (64, 64),
    "action_mode": "incremental",
    "start": "best",
    "episode_length": 1,
    "device": "cpu",
    "num_threads": 1,
    "n_envs": 1,
}


class SB3Agent(Agent):
    """Common base of the Stable-Baselines3 agents (see the module doc).

    An algorithm's constructor names its own hyperparameters and passes the shared ones
    (:data:`SHARED_DEFAULTS`) on as ``**shared``:

    Args:
        space: the design space (the env's).
        seed: seeds SB3 (policy initialisation, exploration, minibatches) and the env.
        learning_rate: optimiser step size (> 0).
        gamma: discount factor in [0, 1]; design search rewards are immediate, so a low
            value (ArchGym uses ~0.9 or less) learns faster.
        net_arch: hidden layer sizes of the policy/value (or Q) network.
        action_mode: ``"direct"``, ``"incremental"``, ``"assign"`` or ``"flat"`` (see the
            module doc).
        start: episode start of the incremental mode: ``"best"`` (the incumbent),
            ``"random"`` or ``"centre"`` (see :class:`IncrementalActionWrapper`).
        episode_length: the agent's episodes end after this many env steps (``0``: only
            at the env's own ``episode_length``); in the ``incremental`` and ``assign``
            modes every episode then restarts from ``start``.
        device: torch device for SB3 (``"cpu"``; ``"cuda"``/``"auto"`` rarely pay off for
            these small MLPs).
        num_threads: torch CPU threads during learning (restored afterwards); 0 = leave
            torch's setting.
        n_envs: parallel episodes per step (>= 1). With ``n_envs > 1`` the agent trains on
            an :class:`~archgym.vector.ArchGymVectorEnv` over the run's env: each SB3 step
            proposes ``n_envs`` designs, evaluated as one batch by the one simulator and
            logged in sub-env order; the budget is still exact (the last step evaluates only
            what is left of it). SB3's ``n_steps`` is per env, as in SB3.
    """

    #: the SB3 algorithm class name
    algorithm: ClassVar[str] = ""
    #: action modes this algorithm supports
    action_modes: ClassVar[tuple[str, ...]] = ACTION_MODES
    #: this algorithm's defaults of shared hyperparameters, where they differ from SHARED_DEFAULTS
    shared_defaults: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, space: DesignSpace, seed: int = 0, **shared: Any) -> None:
        super().__init__(space, seed)
        unknown = [k for k in shared if k not in SHARED_DEFAULTS]
        if unknown:
            raise ConfigError(f"unknown hyperparameter(s) {', '.join(unknown)}")
        s = {**SHARED_DEFAULTS, **self.shared_defaults, **shared}
        self.learning_rate = check_float("learning_rate", s["learning_rate"], 0.0, low_open=True)
        self.gamma = check_float("gamma", s["gamma"], 0.0, 1.0)
        self.net_arch = _net_arch(s["net_arch"])
        self.action_mode = check_choice("action_mode", s["action_mode"], self.action_modes)
        self.start = check_choice("start", s["start"], START_MODES)
        self.episode_length = check_int("episode_length", s["episode_length"], 0)
        self.device = check_choice("device", s["device"], ("cpu", "cuda", "auto"))
        self.num_threads = check_int("num_threads", s["num_threads"], 0)
        self.n_envs = check_int("n_envs", s["n_envs"], 1)
        if self.action_mode == "flat" and not space.size <= _MAX_FLAT:
            raise ConfigError(
                f"action_mode 'flat' needs at most {_MAX_FLAT} designs, the space has {space.size:g}"
            )
        self.model: Any = None  # the trained SB3 model after run()

    @classmethod
    def hyperparameter_defaults(cls) -> dict[str, Any]:
        """The algorithm's own hyperparameters and the shared ones, with this algorithm's defaults."""
        return {**SHARED_DEFAULTS, **cls.shared_defaults, **super().hyperparameter_defaults()}

    # RL agents learn from env steps, not from ask/tell batches.
    def ask(self) -> list[dict[str, Any]]:
        raise NotImplementedError(f"{type(self).__name__} learns from env steps; call run(env, budget)")

    def tell(self, designs: Sequence[dict[str, Any]], evaluations: Sequence[Evaluation]) -> None:
        raise NotImplementedError(f"{type(self).__name__} learns from env steps; call run(env, budget)")

    def wrap(self, env: gym.Env) -> gym.Env:
        """The env as the policy sees it, per ``action_mode``."""
        if self.action_mode in ("incremental", "assign"):
            moves = "step" if self.action_mode == "incremental" else "assign"
            return IncrementalActionWrapper(
                env, moves=moves, start=self.start, episode_length=self.episode_length
            )
        if self.action_mode == "flat":
            env = FlatDiscreteWrapper(env)
        if self.episode_length:
            env = gym.wrappers.TimeLimit(env, max_episode_steps=self.episode_length)
        return env

    def _algo_kwargs(self) -> dict[str, Any]:
        """Algorithm-specific SB3 constructor arguments."""
        raise NotImplementedError

    def wrap_vector(self, env: ArchGymEnv, budget: int) -> Any:
        """``n_envs`` episodes of ``env`` as one SB3 ``VecEnv`` (batched evaluation), per ``action_mode``."""
        from archgym.vector_sb3 import SB3VecEnv

        episode_length = self.episode_length or env.episode_length
        venv: Any = ArchGymVectorEnv(
            env, self.n_envs, autoreset_mode="same_step", episode_length=episode_length
        )
        venv.evaluation_limit = env.n_evaluations + budget
        if self.action_mode in ("incremental", "assign"):
            moves = "step" if self.action_mode == "incremental" else "assign"
            venv = VectorMoveWrapper(venv, moves=moves, start=self.start)
        elif self.action_mode == "flat":
            venv = VectorFlatWrapper(venv)
        sb3_env = SB3VecEnv(venv)
        sb3_env.seed(self.seed)
        return sb3_env

    def build(self, env: Any) -> Any:
        """The SB3 model on the (wrapped) env or ``VecEnv``."""
        import stable_baselines3 as sb3

        cls = getattr(sb3, self.algorithm)
        return cls(
            "MlpPolicy",
            env,
            learning_rate=self.learning_rate,
            gamma=self.gamma,
            policy_kwargs={"net_arch": list(self.net_arch)},
            seed=self.seed,
            device=self.device,
            verbose=0,
            **self._algo_kwargs(),
        )

    def run(self, env: gym.Env[Any, Any], budget: int, *, stop_on_success: bool = False) -> RunResult:
        """Learn for exactly ``budget`` env steps (= evaluations), or until the first success."""
        import time

        if budget < 1:
            raise ConfigError(f"budget must be >= 1 evaluation, got {budget}")
        base = unwrap(env)
        if base.space.nvec.tolist() != self.space.nvec.tolist() or base.space.names != self.space.names:
            raise ConfigError("the env's design space differs from the agent's")
        result = RunResult()
        base.add_recorder(result.observe)
        start = time.perf_counter()
        try:
            with isolated_global_rngs(self.seed, self.num_threads, cuda=self.device != "cpu"):
                policy_env = self.wrap_vector(base, budget) if self.n_envs > 1 else self.wrap(env)
                self.model = self.build(policy_env)
                self.model.learn(
                    total_timesteps=budget, callback=_budget_callback(result, budget, stop_on_success)
                )
        finally:
            base.remove_recorder(result.observe)
            result.wall_time_s = time.perf_counter() - start
        return result


class PPOAgent(SB3Agent):
    """Proximal policy optimisation (SB3 ``PPO``).

    Args (besides :class:`SB3Agent`'s):
        n_steps: env steps per rollout before each update (>= 2).
        batch_size: minibatch size of the update (>= 2; ideally divides ``n_steps``).
        n_epochs: passes over each rollout (>= 1).
        ent_coef: entropy bonus (>= 0): higher keeps exploring longer.
        clip_range: PPO's policy-ratio clip in (0, 1].
        gae_lambda: GAE's bias/variance trade-off in [0, 1].
    """

    name = "ppo"
    algorithm = "PPO"
    shared_defaults = {"learning_rate": 3e-4}

    def __init__(
        self,
        space: DesignSpace,
        seed: int = 0,
        n_steps: int = 32,
        batch_size: int = 32,
        n_epochs: int = 4,
        gae_lambda: float = 0.95,
        ent_coef: float = 0.01,
        clip_range: float = 0.2,
        **shared: Any,
    ) -> None:
        super().__init__(space, seed, **shared)
        self.n_steps = check_int("n_steps", n_steps, 2)
        self.batch_size = check_int("batch_size", batch_size, 2)
        self.n_epochs = check_int("n_epochs", n_epochs, 1)
        self.gae_lambda = check_float("gae_lambda", gae_lambda, 0.0, 1.0)
        self.ent_coef = check_float("ent_coef", ent_coef, 0.0)
        self.clip_range = check_float("clip_range", clip_range, 0.0, 1.0, low_open=True)

    def _algo_kwargs(self) -> dict[str, Any]:
        return dict(
            n_steps=self.n_steps,
            batch_size=self.batch_size,
            n_epochs=self.n_epochs,
            gae_lambda=self.gae_lambda,
            ent_coef=self.ent_coef,
            clip_range=self.clip_range,
        )


class A2CAgent(SB3Agent):
    """Advantage actor-critic (SB3 ``A2C``).

    Args (besides :class:`SB3Agent`'s):
        n_steps: env steps per update (>= 1).
        ent_coef: entropy bonus (>= 0).
        gae_lambda: GAE's bias/variance trade-off in [0, 1] (1 = plain n-step returns).
        vf_coef: weight of the value loss (>= 0).
    """

    name = "a2c"
    algorithm = "A2C"
    shared_defaults = {"learning_rate": 7e-4}

    def __init__(
        self,
        space: DesignSpace,
        seed: int = 0,
        n_steps: int = 8,
        gae_lambda: float = 1.0,
        ent_coef: float = 0.01,
        vf_coef: float = 0.5,
        **shared: Any,
    ) -> None:
        super().__init__(space, seed, **shared)
        self.n_steps = check_int("n_steps", n_steps, 1)
        self.gae_lambda = check_float("gae_lambda", gae_lambda, 0.0, 1.0)
        self.ent_coef = check_float("ent_coef", ent_coef, 0.0)
        self.vf_coef = check_float("vf_coef", vf_coef, 0.0)

    def _algo_kwargs(self) -> dict[str, Any]:
        return dict(
            n_steps=self.n_steps, gae_lambda=self.gae_lambda, ent_coef=self.ent_coef, vf_coef=self.vf_coef
        )


class DQNAgent(SB3Agent):
    """Deep Q-learning (SB3 ``DQN``) on a ``Discrete`` action space.

    DQN needs discrete actions: ``action_mode="assign"`` (default; "set parameter j to its
    v-th value" from the current design), ``"incremental"`` (ArchGym-style "move parameter
    j one step down/up") or ``"flat"`` (one action per design, small spaces). On the
    accelerator env, with one-step episodes from the incumbent, ``assign`` reaches targets
    a little more often than ``incremental`` within a few hundred steps (one action
    reaches any value of a parameter).

    Args (besides :class:`SB3Agent`'s):
        buffer_size: replay buffer capacity (>= 1).
        learning_starts: env steps collected before learning starts (>= 0).
        batch_size: replay minibatch size (>= 1).
        train_freq: env steps between gradient updates (>= 1).
        target_update_interval: env steps between target-network updates (>= 1).
        exploration_fraction: fraction of the budget over which epsilon decays, in [0, 1].
        exploration_initial_eps / exploration_final_eps: epsilon-greedy schedule, in [0, 1].
    """

    name = "dqn"
    algorithm = "DQN"
    shared_defaults = {"learning_rate": 1e-3, "action_mode": "assign"}
    action_modes = ("incremental", "assign", "flat")

    def __init__(
        self,
        space: DesignSpace,
        seed: int = 0,
        buffer_size: int = 10000,
        learning_starts: int = 32,
        batch_size: int = 32,
        train_freq: int = 1,
        target_update_interval: int = 64,
        exploration_fraction: float = 0.5,
        exploration_initial_eps: float = 1.0,
        exploration_final_eps: float = 0.3,
        **shared: Any,
    ) -> None:
        super().__init__(space, seed, **shared)
        self.buffer_size = check_int("buffer_size", buffer_size, 1)
        self.learning_starts = check_int("learning_starts", learning_starts, 0)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.train_freq = check_int("train_freq", train_freq, 1)
        self.target_update_interval = check_int("target_update_interval", target_update_interval, 1)
        self.exploration_fraction = check_float("exploration_fraction", exploration_fraction, 0.0, 1.0)
        self.exploration_initial_eps = check_float(
            "exploration_initial_eps", exploration_initial_eps, 0.0, 1.0
        )
        self.exploration_final_eps = check_float("exploration_final_eps", exploration_final_eps, 0.0, 1.0)

    def _algo_kwargs(self) -> dict[str, Any]:
        return dict(
            buffer_size=self.buffer_size,
            learning_starts=self.learning_starts,
            batch_size=self.batch_size,
            train_freq=self.train_freq,
            target_update_interval=self.target_update_interval,
            exploration_fraction=self.exploration_fraction,
            exploration_initial_eps=self.exploration_initial_eps,
            exploration_final_eps=self.exploration_final_eps,
        )
