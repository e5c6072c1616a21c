"""Simulator in the loop: any agent searches on a proxy; the real simulator checks the best designs.

:class:`ProxyInLoopAgent` wraps any agent (ask/tell or RL). It is itself an agent run on the
*real* env, so the run's budget counts real simulations only, every dataset row is a real
simulation (``simulator_version`` / ``source`` of the real simulator) and ``stop_on_success``
stops on a real success. Each of its rounds:

1. **warm-up** (first round only): ``warmup`` scrambled-Sobol designs go to the real simulator;
2. the proxy is (re)trained on every real row so far (a :func:`~archgym.proxy.core.fit_proxy`
   of ``kind``; small, fast settings by default);
3. the wrapped agent searches on a copy of the env whose simulator is the proxy, for
   ``every`` proposals (``agent.run(proxy_env, every)``: ask/tell agents keep their state from
   round to round, RL agents learn afresh each round);
4. the real simulator evaluates the round's ``top_k`` proposals by predicted reward plus the
   ``uncertain`` most uncertain ones (largest predictive std relative to the prediction;
   designs outside the training range first), never a design it has simulated before.

``env.simulator=proxy_in_loop`` (``conf/simulator/proxy_in_loop.yaml``) turns it on for any
``archgym run``; :func:`proxy_in_loop` is its ``archgym.simulators`` entry point.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

import numpy as np
import pandas as pd

from archgym.agent import Agent
from archgym.design_space import design_key
from archgym.env import ArchGymEnv
from archgym.errors import ConfigError
from archgym.evaluation import Evaluation
from archgym.proxy.core import ProxyModel, TrainingTable, fit_proxy
from archgym.proxy.simulator import OUT_OF_RANGE, STD_SUFFIX, ProxySimulator
from archgym.sampling import design_stream
from archgym.simulator import SimulatorChoice

#: small, fast model settings for retraining every round (a few hundred rows)
DEFAULT_PARAMS: Mapping[str, Mapping[str, Any]] = {
    "gbt": {"n_estimators": 200, "learning_rate": 0.1, "num_leaves": 15, "ensemble": 3},
    "rf": {"n_estimators": 100},
    "gp": {"iterations": 40},
    "mlp": {"epochs": 150, "hidden": 64, "layers": 2, "ensemble": 3},
}
SETTINGS = ("kind", "every", "top_k", "uncertain", "warmup", "params", "log_targets")


class ProxyInLoopAgent(Agent):
    """Runs ``inner`` on a proxy of ``env`` and sends its most promising designs to the real simulator.

    Args:
        inner: the agent that searches (on the proxy).
        env: the real env (its space, workload, objective and simulator's metric definitions).
        kind: proxy model (``gbt``, ``rf``, ``gp``, ``mlp``).
        every: proposals the inner agent makes on the proxy per round.
        top_k: best proposals (by predicted reward) simulated per round.
        uncertain: most uncertain further proposals simulated per round.
        warmup: Sobol designs simulated before the first proxy is trained.
        params: model settings (default :data:`DEFAULT_PARAMS` of ``kind``).
        log_targets: fit positive metrics in log space.
    """

    name = "proxy_in_loop"

    def __init__(
        self,
        inner: Agent,
        env: Any,
        seed: int = 0,
        *,
        kind: str = "gbt",
        every: int = 100,
        top_k: int = 4,
        uncertain: int = 1,
        warmup: int = 16,
        params: Mapping[str, Any] | None = None,
        log_targets: bool = True,
    ) -> None:
        base = env.unwrapped
        super().__init__(base.space, seed)
        for label, value, low in (("every", every, 1), ("top_k", top_k, 1), ("uncertain", uncertain, 0)):
            if int(value) < low:
                raise ConfigError(f"proxy_in_loop.{label} must be >= {low}, got {value}")
        if int(warmup) < 4:
            raise ConfigError(f"proxy_in_loop.warmup must be >= 4 (a proxy needs data), got {warmup}")
        self.inner = inner
        self.kind, self.every, self.top_k = kind, int(every), int(top_k)
        self.uncertain, self.warmup = int(uncertain), int(warmup)
        self.params = dict(DEFAULT_PARAMS.get(kind, {}) if params is None else params)
        self.log_targets = bool(log_targets)
        self._base = base
        self._designs: list[dict[str, Any]] = []  # real rows that simulated fine
        self._targets: list[list[float]] = []
        self._simulated: set[tuple] = set()  # every design sent to the real simulator
        self._sobol: Iterator[dict[str, Any]] | None = None
        self.model: ProxyModel | None = None
        self._proxy_env: Any = None
        self._stale = True
        self.rounds = 0

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "inner": self.inner.name,
            "inner_params": self.inner.hyperparameters(),
            **{k: getattr(self, k) for k in SETTINGS},
        }

    # ------------------------------------------------------------------ agent API
    def ask(self) -> list[dict[str, Any]]:
        if len(self._simulated) < self.warmup or len(self._designs) < 4:
            return self._fresh_sobol(self.warmup - len(self._simulated) if self.rounds == 0 else 4)
        if self._stale:
            self._retrain()
        self.rounds += 1
        proposals: list[Evaluation] = []
        env = self._proxy_env
        env.add_recorder(proposals.append)
        try:
            self.inner.run(env, self.every)
        finally:
            env.remove_recorder(proposals.append)
        return self._select(proposals) or self._fresh_sobol(1)

    def tell(self, designs: Sequence[dict[str, Any]], evaluations: Sequence[Evaluation]) -> None:
        names = self._base.simulator.metric_names
        for ev in evaluations:
            key = design_key(ev.design)
            if ev.metrics is not None and key not in self._simulated:
                self._designs.append(dict(ev.design))
                self._targets.append([ev.metrics[n] for n in names])
            self._simulated.add(key)
        self._stale = True

    # ------------------------------------------------------------------ internals
    def _fresh_sobol(self, n: int) -> list[dict[str, Any]]:
        if self._sobol is None:
            self._sobol = design_stream(self.space, "sobol", self.seed)
        out: list[dict[str, Any]] = []
        for design in islice(self._sobol, 50 * max(1, n)):
            key = design_key(design)
            if key not in self._simulated and all(design_key(d) != key for d in out):
                out.append(design)
            if len(out) >= max(1, n):
                break
        return out or [self.space.sample(self.rng)]

    def _retrain(self) -> None:
        base = self._base
        names = list(base.simulator.metric_names)
        table = TrainingTable(
            pd.DataFrame(self._designs, columns=list(self.space.names)),
            pd.DataFrame(self._targets, columns=names, dtype=np.float64),
            base.env_id,
            str(base.workload_name),
            base.simulator.version,
        )
        self.model = fit_proxy(
            table, self.kind, seed=self.seed + len(self._designs), log_targets=self.log_targets, **self.params
        )
        sim = ProxySimulator(self.model, base.simulator.metrics)
        if self._proxy_env is None:
            self._proxy_env = ArchGymEnv(
                base.space,
                sim,
                base.workload,
                base.objective,
                episode_length=base.episode_length,
                action_encoding=base.action_encoding,
                observe_design=base.observe_design,
                env_id=base.env_id,
                workload_name=base.workload_name,
            )
        else:
            self._proxy_env.set_simulator(sim)
        self._stale = False

    def _select(self, proposals: Sequence[Evaluation]) -> list[dict[str, Any]]:
        """Top-k by predicted reward, then the most uncertain, among designs not yet simulated."""
        unique: dict[tuple, Evaluation] = {}
        for ev in proposals:
            key = design_key(ev.design)
            if key not in self._simulated and key not in unique and ev.metrics is not None:
                unique[key] = ev
        ranked = sorted(unique.values(), key=lambda e: (not e.feasible, -e.reward))
        chosen = ranked[: self.top_k]
        rest = ranked[self.top_k :]
        rest.sort(key=self._uncertainty, reverse=True)
        chosen += rest[: self.uncertain]
        return [ev.design for ev in chosen]

    def _uncertainty(self, ev: Evaluation) -> tuple[float, float]:
        """(out of range, largest relative predictive std over the metrics)."""
        assert ev.metrics is not None
        rel = [ev.extra.get(n + STD_SUFFIX, 0.0) / max(abs(v), 1e-12) for n, v in ev.metrics.items()]
        return (ev.extra.get(OUT_OF_RANGE, 0.0), max(rel, default=0.0))


def proxy_in_loop(env: ArchGymEnv, settings: Mapping[str, Any]) -> SimulatorChoice:
    """``env.simulator=proxy_in_loop`` (the entry point of ``archgym.simulators``): the env keeps
    its real simulator, and the run's agent is wrapped in a :class:`ProxyInLoopAgent`.

    Raises:
        archgym.errors.ConfigError: an unknown setting or proxy kind, naming it (bad numbers
            are refused when the agent is wrapped).
    """
    from archgym.proxy.models import MODELS

    given = {k: v for k, v in settings.items() if not (k == "params" and v is None)}
    unknown = sorted(set(given) - set(SETTINGS))
    if unknown:
        raise ConfigError(
            f"env.simulator: unknown proxy_in_loop setting(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(SETTINGS)}"
        )
    if given.get("kind", "gbt") not in MODELS:
        raise ConfigError(
            f"env.simulator.kind: unknown proxy model {given['kind']!r}; allowed: {', '.join(MODELS)}"
        )
    return SimulatorChoice(env.simulator, lambda agent: ProxyInLoopAgent(agent, env, agent.seed, **given))
