"""The agent interface: ``ask`` designs, ``tell`` their evaluations, ``run`` for a budget.

Every search algorithm — random search, evolution, ant colony, Bayesian optimisation,
reinforcement learning — is an :class:`Agent`. The budget is a number of simulator
evaluations (duplicates included: see :mod:`archgym.evaluation`), the currency ArchGym
compares algorithms on. ``run`` stops at the budget or, with ``stop_on_success``, as soon
as a design meets the objective's target.

Agents are seeded: the same space, hyperparameters and seed give the same sequence of
designs. They hold no global state; all randomness comes from ``self.rng``.
"""

from __future__ import annotations

import inspect
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from archgym.design_space import DesignSpace
from archgym.env import unwrap
from archgym.evaluation import Evaluation


@dataclass
class RunResult:
    """Summary of one agent run."""

    evaluations: int = 0
    best: Evaluation | None = None
    first_success_step: int | None = None
    wall_time_s: float = 0.0
    best_so_far: list[float] = field(default_factory=list)

    def observe(self, ev: Evaluation) -> None:
        """Update with one evaluation (used as an env recorder)."""
        self.evaluations += 1
        best = self.best
        if best is None or (ev.feasible and (not best.feasible or ev.reward > best.reward)):
            self.best = best = ev
        if ev.success and self.first_success_step is None:
            self.first_success_step = self.evaluations
        self.best_so_far.append(best.reward if best.feasible else float("nan"))

    @property
    def success(self) -> bool:
        return self.first_success_step is not None


class Agent(ABC):
    """Base class of all search agents.

    Subclasses implement :meth:`ask` and :meth:`tell`; RL agents override :meth:`run`.
    Constructor keyword arguments are the agent's hyperparameters (what Hydra configures);
    :meth:`hyperparameters` reports them for the dataset.
    """

    #: short name used in configs and datasets, e.g. ``"random"``, ``"ga"``
    name: ClassVar[str] = "agent"

    def __init__(self, space: DesignSpace, seed: int = 0) -> None:
        self.space = space
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)

    @abstractmethod
    def ask(self) -> list[dict[str, Any]]:
        """Propose the next batch of designs (at least one)."""

    @abstractmethod
    def tell(self, designs: Sequence[dict[str, Any]], evaluations: Sequence[Evaluation]) -> None:
        """Learn from the evaluations of the designs last proposed."""

    @classmethod
    def hyperparameter_defaults(cls) -> dict[str, Any]:
        """Every hyperparameter the constructor takes (besides space and seed), with its default."""
        params = inspect.signature(cls.__init__).parameters.values()
        return {
            p.name: p.default
            for p in params
            if p.name not in ("self", "space", "seed") and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        }

    def hyperparameters(self) -> dict[str, Any]:
        """The hyperparameters (:meth:`hyperparameter_defaults`) and their current values."""
        return {k: getattr(self, k) for k in self.hyperparameter_defaults() if hasattr(self, k)}

    def run(self, env: gym.Env[Any, Any], budget: int, *, stop_on_success: bool = False) -> RunResult:
        """Ask/evaluate/tell until ``budget`` evaluations are spent (or the target is met)."""
        if budget < 1:
            raise ValueError(f"budget must be >= 1 evaluation, got {budget}")
        base = unwrap(env)
        result = RunResult()
        base.add_recorder(result.observe)
        start = time.perf_counter()
        try:
            while result.evaluations < budget:
                designs = self.ask()
                if not designs:
                    raise RuntimeError(f"agent {self.name!r} proposed no designs")
                designs = designs[: budget - result.evaluations]
                evaluations = base.evaluate(designs)
                self.tell(designs, evaluations)
                if stop_on_success and result.success:
                    break
        finally:
            base.remove_recorder(result.observe)
            result.wall_time_s = time.perf_counter() - start
        return result
