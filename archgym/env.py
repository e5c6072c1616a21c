"""The base environment: design space + simulator + workload + objective as a ``gymnasium.Env``.

* **action**: one design, encoded by the design space — ``MultiDiscrete`` index vector
  (default) or a ``[-1, 1]`` ``Box`` (``action_encoding="box"``, for continuous-action RL).
* **observation**: the metric vector of the last evaluated design, each metric divided by
  its reference scale (the objective's target, else the simulator's declared scale), so
  values near 1 mean "near target". With ``observe_design=True`` the last design's
  unit-cube encoding is appended. Before the first step the observation is all zeros.
* **reward**: from the objective; **terminated** when the objective's success holds (e.g.
  every target met within tolerance); **truncated** after ``episode_length`` steps.
* **info**: the same keys and types on every step, feasible or not, so vectorised clients
  (Gymnasium's ``SyncVectorEnv``/``AsyncVectorEnv``, SB3's ``VecEnv``) can stack them:
  ``design`` (decoded; ``{}`` after ``reset``), ``metrics`` (raw, in the simulator's units;
  each metric's worst value, +/-inf, when the design could not be simulated), ``feasible``, ``success``,
  ``error`` (``""`` when there is none) and ``episode_step``.
* **render**: ``render_mode="ansi"`` (text) or ``"rgb_array"`` (a small image of the last
  design's metrics against the targets, :mod:`archgym.rendering`).

:mod:`archgym.vector` batches ``N`` copies of the task in one process (Gymnasium's
``vector_entry_point``): one simulator, ``N`` designs per ``evaluate_many`` call.

Non-RL agents call :meth:`ArchGymEnv.evaluate` with whole batches of designs; both paths go
through the same :class:`~archgym.evaluation.Evaluator`, so every evaluation is counted,
cached and logged alike. Code handed a (possibly wrapped) gymnasium env reaches the
archgym env with :func:`unwrap`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from archgym import rendering
from archgym.design_space import DesignSpace
from archgym.errors import ConfigError
from archgym.evaluation import Evaluation, Evaluator, Recorder
from archgym.objective import Objective
from archgym.plugins import ENV_GROUP, entry_point_table, factory_keywords, load_object
from archgym.simulator import PreparedWorkload, Simulator

ACTION_ENCODINGS = ("multidiscrete", "box")
#: the keyword arguments every env factory passes on to :class:`ArchGymEnv`
ENV_KEYWORDS = ("episode_length", "action_encoding", "observe_design", "render_mode")
_OBS_LIMIT = 1e9  # observations are clipped here so they stay finite float32

#: observations: the scaled metric vector (float32)
ObsType = NDArray[np.float32]
#: actions: an index vector (``multidiscrete``) or a point of ``[-1, 1]^d`` (``box``)
ActType = NDArray[Any]


def _factory_keywords(env_id: str) -> list[str]:
    """The named arguments of the factory registered for ``env_id`` (none if it is not)."""
    path = entry_point_table(ENV_GROUP).get(env_id)
    return [k for k in factory_keywords(load_object(path)) if k not in ENV_KEYWORDS] if path else []


class ArchGymEnv(gym.Env[ObsType, ActType]):
    """A hardware design-space exploration task as a gymnasium environment."""

    metadata = {"render_modes": list(rendering.RENDER_MODES), "render_fps": 4}

    def __init__(
        self,
        space: DesignSpace,
        simulator: Simulator[Any],
        workload: object,
        objective: Objective,
        *,
        episode_length: int = 32,
        action_encoding: str = "multidiscrete",
        observe_design: bool = False,
        render_mode: str | None = None,
        env_id: str = "",
        workload_name: str = "",
        **unknown: Any,
    ) -> None:
        if unknown:  # a keyword an env factory passed on from its caller
            allowed = [*_factory_keywords(env_id), *ENV_KEYWORDS]
            raise ConfigError(
                f"{env_id or type(self).__name__}: unknown keyword(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(allowed)}"
            )
        if episode_length < 1:
            raise ConfigError(f"episode_length must be >= 1, got {episode_length}")
        if action_encoding not in ACTION_ENCODINGS:
            raise ConfigError(
                f"action_encoding must be one of {', '.join(ACTION_ENCODINGS)}, got {action_encoding!r}"
            )
        rendering.check_render_mode(render_mode)
        # decoded, validated and hashed once (InvalidWorkloadError, a ValueError, names the workload)
        self.prepared_workload: PreparedWorkload[Any] = simulator.prepared(workload)
        self.workload = self.prepared_workload.source  # as given: what another simulator prepares
        self.space = space
        self.simulator = simulator
        self.objective = objective
        self.evaluator = Evaluator(space, simulator, self.prepared_workload, objective)
        self.episode_length = int(episode_length)
        self.action_encoding = action_encoding
        self.observe_design = bool(observe_design)
        self.render_mode = render_mode
        self.env_id = env_id
        self.workload_name = workload_name

        scales = {m.name: m.scale for m in simulator.metrics}
        scales.update(objective.reference_scales())
        self._scales = np.array([scales[m.name] for m in simulator.metrics], dtype=np.float64)
        self._n_obs = len(simulator.metrics) + (len(space) if self.observe_design else 0)
        self.observation_space = spaces.Box(-_OBS_LIMIT, _OBS_LIMIT, shape=(self._n_obs,), dtype=np.float32)
        self.action_space: spaces.Space[ActType] = (
            space.multidiscrete_space() if action_encoding == "multidiscrete" else space.box_space()
        )
        self._t = 0
        self._last: Evaluation | None = None

    def set_simulator(self, simulator: Simulator[Any]) -> None:
        """Swap the cost model (e.g. for a trained proxy) before any evaluation.

        The new simulator must report the same metric names, in the same order, so that
        observations, objectives and datasets keep their meaning. It prepares the env's
        workload itself; the evaluator (its cache and counter) is rebuilt; recorders already
        registered are kept.

        Raises:
            ConfigError: the metric names differ from the current simulator's.
        """
        old, new = tuple(m.name for m in self.simulator.metrics), tuple(m.name for m in simulator.metrics)
        if old != new:
            raise ConfigError(
                f"{self.env_id or type(self).__name__}: the new simulator reports metrics {', '.join(new)}; "
                f"this env needs {', '.join(old)}"
            )
        prepared = simulator.prepare(self.workload)
        self.evaluator = self.evaluator.with_simulator(simulator, prepared)
        self.simulator, self.prepared_workload = simulator, prepared

    # ------------------------------------------------------------- agents' API
    def evaluate(self, designs: Sequence[Mapping[str, Any]]) -> list[Evaluation]:
        """Evaluate a batch of designs (validated, cached, counted and recorded)."""
        return self.evaluator(designs)

    def add_recorder(self, recorder: Recorder) -> None:
        """Register a callback run on every evaluation (the dataset logger uses this)."""
        self.evaluator.add_recorder(recorder)

    def remove_recorder(self, recorder: Recorder) -> None:
        self.evaluator.remove_recorder(recorder)

    @property
    def n_evaluations(self) -> int:
        return self.evaluator.count

    def decode(self, action: Any) -> dict[str, Any]:
        """Action (in this env's encoding) -> design dict.

        Raises:
            ValueError: (:class:`~archgym.design_space.InvalidDesignError`) an entry that is
                None, not a number, NaN/inf, or (index encoding) not a whole number in range,
                naming the parameter; nothing is silently cast or truncated.
        """
        if self.action_encoding == "multidiscrete":
            return self.space.from_indices(self.space.check_indices(action))
        return self.space.from_box(self.space.check_box(action))

    def encode(self, design: Mapping[str, Any]) -> np.ndarray:
        """Design dict -> action in this env's encoding."""
        if self.action_encoding == "multidiscrete":
            return self.space.to_indices(design)
        return self.space.to_box(design)

    # ---------------------------------------------------------- gymnasium API
    def observations(self, evs: Sequence[Evaluation | None]) -> NDArray[np.float32]:
        """The observations of several evaluations (``None``: before the first step), shape ``(N, n_obs)``."""
        n = len(self.simulator.metrics)
        obs = np.zeros((len(evs), self._n_obs), dtype=np.float64)
        names = self.simulator.metric_names
        for i, ev in enumerate(evs):
            if ev is not None and ev.metrics is not None:
                obs[i, :n] = [ev.metrics[m] for m in names]
            if self.observe_design and ev is not None:
                obs[i, n:] = self.space.to_unit(ev.design)
        obs[:, :n] = np.nan_to_num(obs[:, :n] / self._scales, nan=0.0, posinf=_OBS_LIMIT, neginf=-_OBS_LIMIT)
        return np.clip(obs, -_OBS_LIMIT, _OBS_LIMIT).astype(np.float32)

    def _observation(self, ev: Evaluation | None) -> ObsType:
        return self.observations([ev])[0]

    def info(self, ev: Evaluation | None, episode_step: int) -> dict[str, Any]:
        """The step info of an evaluation (``None``: after ``reset``), with a fixed structure.

        The keys and their types never change: ``metrics`` holds every metric and ``error`` is a
        string (``""`` without an error), so Gymnasium's vector envs can stack the infos of
        feasible and infeasible designs. A design that could not be simulated reports each
        metric's worst value (``+inf`` where lower is better, ``-inf`` where higher is): unlike
        NaN it equals itself, so Gymnasium's checker finds the same step giving the same info.
        """
        worst_metrics = {m.name: (np.inf if m.better == "lower" else -np.inf) for m in self.simulator.metrics}
        if ev is None:
            return {
                "design": {},
                "metrics": worst_metrics,
                "feasible": False,
                "success": False,
                "error": "",
                "episode_step": int(episode_step),
            }
        metrics = worst_metrics if ev.metrics is None else {k: float(ev.metrics[k]) for k in worst_metrics}
        return {
            "design": dict(ev.design),
            "metrics": metrics,
            "feasible": bool(ev.feasible),
            "success": bool(ev.success),
            "error": ev.error or "",
            "episode_step": int(episode_step),
        }

    def _info(self, ev: Evaluation | None) -> dict[str, Any]:
        return self.info(ev, self._t)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[ObsType, dict[str, Any]]:
        super().reset(seed=seed)
        self._t = 0
        self._last = None
        return self._observation(None), self._info(None)

    def step(self, action: ActType) -> tuple[ObsType, float, bool, bool, dict[str, Any]]:
        design = self.decode(action)
        ev = self.evaluate([design])[0]
        self._t += 1
        self._last = ev
        terminated = bool(ev.success)
        truncated = (not terminated) and self._t >= self.episode_length
        return self._observation(ev), float(ev.reward), terminated, truncated, self._info(ev)

    def render(self) -> Any:
        """The last evaluation as text (``"ansi"``) or an RGB image (``"rgb_array"``); None without a mode."""
        return rendering.render(self, self._last, self._t, self.render_mode)


def unwrap(env: gym.Env[Any, Any]) -> ArchGymEnv:
    """The :class:`ArchGymEnv` under any gymnasium wrappers (``env.unwrapped``, typed).

    Raises:
        TypeError: ``env`` is not an archgym environment.
    """
    base = env.unwrapped
    if not isinstance(base, ArchGymEnv):
        raise TypeError(
            f"expected an archgym environment (ArchGymEnv, possibly wrapped), got {type(base).__name__}"
        )
    return base
