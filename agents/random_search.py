"""ArchGym's baselines: uniform random search and a random walk in the index encoding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archgym.agent import Agent
from archgym.design_space import DesignSpace
from archgym.errors import ConfigError
from archgym.evaluation import Evaluation


class RandomSearch(Agent):
    """Uniform random sampling of the design space.

    Args:
        batch_size: designs proposed per ``ask`` (evaluated as one simulator batch).
    """

    name = "random"

    def __init__(self, space: DesignSpace, seed: int = 0, batch_size: int = 16) -> None:
        super().__init__(space, seed)
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = int(batch_size)

    def ask(self) -> list[dict[str, Any]]:
        return [self.space.sample(self.rng) for _ in range(self.batch_size)]

    def tell(self, designs: Sequence[dict[str, Any]], evaluations: Sequence[Evaluation]) -> None:
        pass  # memoryless


class RandomWalk(Agent):
    """A random walk: each step moves one parameter by ``1..step_size`` index positions.

    Args:
        step_size: largest move of an ordered parameter (categorical ones jump anywhere).
        restart_prob: chance per step of jumping to a uniformly random design instead.
        greedy: if true, only move when the new design is at least as good (a
            stochastic hill-climber); if false (ArchGym's random walk), always move.
    """

    name = "rw"

    def __init__(
        self,
        space: DesignSpace,
        seed: int = 0,
        step_size: int = 1,
        restart_prob: float = 0.0,
        greedy: bool = False,
    ) -> None:
        super().__init__(space, seed)
        if step_size < 1:
            raise ConfigError(f"step_size must be >= 1, got {step_size}")
        if not 0.0 <= restart_prob <= 1.0:
            raise ConfigError(f"restart_prob must be in [0, 1], got {restart_prob}")
        self.step_size = int(step_size)
        self.restart_prob = float(restart_prob)
        self.greedy = bool(greedy)
        self._current = space.sample_indices(self.rng)
        self._current_reward = float("-inf")
        self._started = False

    def ask(self) -> list[dict[str, Any]]:
        if not self._started:
            return [self.space.from_indices(self._current)]
        if self.rng.random() < self.restart_prob:
            proposal = self.space.sample_indices(self.rng)
        else:
            proposal = self.space.neighbour(self._current, self.rng, self.step_size)
        return [self.space.from_indices(proposal)]

    def tell(self, designs: Sequence[dict[str, Any]], evaluations: Sequence[Evaluation]) -> None:
        for d, ev in zip(designs, evaluations):
            reward = ev.reward if ev.feasible else float("-inf")
            if not self._started or not self.greedy or reward >= self._current_reward:
                self._current = self.space.to_indices(d)
                self._current_reward = reward
            self._started = True
