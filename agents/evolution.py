"""Evolutionary search: a genetic algorithm and regularised (aging) evolution.

Both agents work on the design space's **index encoding** (one integer per parameter,
see :class:`archgym.design_space.DesignSpace`), so they handle mixed categorical /
integer / ordinal spaces (and discretised reals) alike:

* *mutation* of a categorical parameter jumps to another choice uniformly; an ordered
  parameter is redrawn uniformly or, with ``mutation_step > 0``, moved by a few index
  positions (a local move that respects the order of e.g. buffer sizes);
* *crossover* exchanges whole parameter values between two parents.

Duplicates: evaluations are cached per run, so a repeated design costs no simulator time
but still spends one evaluation of the budget. With ``avoid_duplicates`` (default) the
agents re-mutate a child that was already proposed in this run (up to a few tries) rather
than waste budget on it; with a tiny design space duplicates eventually become unavoidable
and are proposed anyway.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from archgym.agent import Agent
from archgym.agents._common import check_choice, check_float, check_int, fitness, index_key, mutate_indices
from archgym.design_space import DesignSpace
from archgym.evaluation import Evaluation

_MAX_RETRIES = 20  # re-mutations of a duplicate child before proposing it anyway

SELECTIONS = ("tournament", "elitist")
CROSSOVERS = ("uniform", "one_point")


class _IndexAgent(Agent):
    """Shared machinery: duplicate tracking in the index encoding."""

    avoid_duplicates: bool

    def __init__(self, space: DesignSpace, seed: int) -> None:
        super().__init__(space, seed)
        self._seen: set[tuple[int, ...]] = set()

    def _fresh(self, idx: np.ndarray, mutation_prob: float, mutation_step: int) -> np.ndarray:
        """``idx`` itself if unseen (or duplicates are allowed), else a re-mutated variant."""
        if self.avoid_duplicates:
            tries = 0
            while index_key(idx) in self._seen and tries < _MAX_RETRIES:
                idx = mutate_indices(
                    self.space, idx, self.rng, mutation_prob, mutation_step, at_least_one=True
                )
                tries += 1
        self._seen.add(index_key(idx))
        return idx

    def _random_unique(self, n: int) -> list[np.ndarray]:
        out = []
        for _ in range(n):
            idx = self.space.sample_indices(self.rng)
            if self.avoid_duplicates:
                tries = 0
                while index_key(idx) in self._seen and tries < _MAX_RETRIES:
                    idx = self.space.sample_indices(self.rng)
                    tries += 1
            self._seen.add(index_key(idx))
            out.append(idx)
        return out

    def _told(
        self, designs: Sequence[dict[str, Any]], evaluations: Sequence[Evaluation]
    ) -> list[tuple[np.ndarray, float]]:
        pairs = []
        for d, ev in zip(designs, evaluations):
            idx = self.space.to_indices(d)
            self._seen.add(index_key(idx))
            pairs.append((idx, fitness(ev)))
        return pairs


class GeneticAlgorithm(_IndexAgent):
    """A generational genetic algorithm over the index encoding.

    The first ``ask`` proposes ``population_size`` random designs. Every later ``ask``
    proposes one generation of offspring: two parents are selected, recombined with
    probability ``crossover_prob`` (else the child copies the first parent) and mutated
    gene by gene with probability ``mutation_prob``.

    Args:
        space: the design space.
        seed: seeds all of the agent's randomness.
        population_size: designs per generation (>= 2). ArchGym's GA sweeps 16..128.
        selection: ``"tournament"``: parents win a ``tournament_size``-way tournament
            among the current population, the next population is the offspring plus the
            ``elite_size`` best of the current one (generational replacement with
            elitism). ``"elitist"``: (mu + lambda) evolution — parents are drawn uniformly
            from the population and the next population is the best ``population_size``
            of parents and offspring together.
        tournament_size: contestants per tournament (>= 1; 1 = uniform parent choice);
            larger means stronger selection pressure. Used by ``"tournament"``.
        elite_size: best designs carried unchanged into the next generation (not
            re-evaluated) under ``"tournament"`` selection, ``0 <= elite_size <
            population_size``; each generation then proposes ``population_size -
            elite_size`` offspring.
        crossover_prob: probability in [0, 1] that a child is a crossover of two parents.
        crossover: ``"uniform"`` (each parameter from either parent with probability 1/2)
            or ``"one_point"`` (a prefix of parameters from one parent, the rest from
            the other).
        mutation_prob: per-parameter mutation probability in [0, 1].
        mutation_step: 0 = a mutated ordered parameter is redrawn uniformly; ``k > 0`` =
            it moves by 1..k index positions. Categorical parameters always jump.
        avoid_duplicates: re-mutate children already proposed in this run (see module doc).
    """

    name = "ga"

    def __init__(
        self,
        space: DesignSpace,
        seed: int = 0,
        population_size: int = 16,
        selection: str = "tournament",
        tournament_size: int = 3,
        elite_size: int = 1,
        crossover_prob: float = 0.9,
        crossover: str = "uniform",
        mutation_prob: float = 0.1,
        mutation_step: int = 0,
        avoid_duplicates: bool = True,
    ) -> None:
        super().__init__(space, seed)
        self.population_size = check_int("population_size", population_size, 2)
        self.selection = check_choice("selection", selection, SELECTIONS)
        self.tournament_size = check_int("tournament_size", tournament_size, 1, self.population_size)
        self.elite_size = check_int("elite_size", elite_size, 0, self.population_size - 1)
        self.crossover_prob = check_float("crossover_prob", crossover_prob, 0.0, 1.0)
        self.crossover = check_choice("crossover", crossover, CROSSOVERS)
        self.mutation_prob = check_float("mutation_prob", mutation_prob, 0.0, 1.0)
        self.mutation_step = check_int("mutation_step", mutation_step, 0)
        self.avoid_duplicates = bool(avoid_duplicates)
        self._population: list[tuple[np.ndarray, float]] | None = None
        self.generation = 0

    # ----------------------------------------------------------------- operators
    def _select(self, pop: list[tuple[np.ndarray, float]]) -> np.ndarray:
        if self.selection == "elitist":
            return pop[int(self.rng.integers(len(pop)))][0]
        k = min(self.tournament_size, len(pop))
        contestants = self.rng.choice(len(pop), size=k, replace=False)
        best = max(contestants, key=lambda i: (pop[i][1], -i))
        return pop[int(best)][0]

    def _recombine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if self.rng.random() >= self.crossover_prob or len(a) < 2:
            return a.copy()
        if self.crossover == "uniform":
            return np.where(self.rng.random(len(a)) < 0.5, a, b)
        cut = int(self.rng.integers(1, len(a)))
        return np.concatenate([a[:cut], b[cut:]])

    # ---------------------------------------------------------------- interface
    def ask(self) -> list[dict[str, Any]]:
        if not self._population:
            return [self.space.from_indices(i) for i in self._random_unique(self.population_size)]
        pop = self._population
        n_children = self.population_size - (self.elite_size if self.selection == "tournament" else 0)
        children = []
        for _ in range(n_children):
            child = self._recombine(self._select(pop), self._select(pop))
            child = mutate_indices(self.space, child, self.rng, self.mutation_prob, self.mutation_step)
            children.append(self._fresh(child, self.mutation_prob, self.mutation_step))
        return [self.space.from_indices(c) for c in children]

    def tell(self, designs: Sequence[dict[str, Any]], evaluations: Sequence[Evaluation]) -> None:
        told = self._told(designs, evaluations)
        if not told:
            return
        if not self._population:
            self._population = told
            return
        ranked = sorted(self._population, key=lambda p: p[1], reverse=True)  # stable: ties keep age order
        if self.selection == "elitist":
            merged = sorted(ranked + told, key=lambda p: p[1], reverse=True)
            self._population = merged[: self.population_size]
        else:
            self._population = ranked[: self.elite_size] + told
        self.generation += 1

    @property
    def population(self) -> list[tuple[dict[str, Any], float]]:
        """The current population as ``(design, fitness)`` pairs (read-only copy)."""
        return [(self.space.from_indices(i), f) for i, f in (self._population or [])]


class AgingEvolution(_IndexAgent):
    """Regularised (aging) evolution, Real et al. 2019 (AmoebaNet).

    A first-in-first-out population of ``population_size`` designs, filled with random
    designs. Then each child comes from a tournament: ``sample_size`` members are drawn
    uniformly without replacement, the best one is copied and mutated (at least one
    parameter changes). The child joins the population and the **oldest** member — not
    the worst — leaves, which regularises the search against lucky evaluations.

    Args:
        space: the design space.
        seed: seeds all of the agent's randomness.
        population_size: size of the aging population (>= 2).
        sample_size: tournament size, ``1 <= sample_size <= population_size``.
        mutation_prob: per-parameter mutation probability in [0, 1] on top of the one
            parameter that always mutates.
        mutation_step: 0 = a mutated ordered parameter is redrawn uniformly; ``k > 0`` =
            it moves by 1..k index positions. Categorical parameters always jump.
        batch_size: children proposed per ``ask`` (evaluated as one simulator batch);
            1 is the textbook algorithm.
        avoid_duplicates: re-mutate children already proposed in this run.
    """

    name = "aging"

    def __init__(
        self,
        space: DesignSpace,
        seed: int = 0,
        population_size: int = 32,
        sample_size: int = 8,
        mutation_prob: float = 0.0,
        mutation_step: int = 0,
        batch_size: int = 1,
        avoid_duplicates: bool = True,
    ) -> None:
        super().__init__(space, seed)
        self.population_size = check_int("population_size", population_size, 2)
        self.sample_size = check_int("sample_size", sample_size, 1, self.population_size)
        self.mutation_prob = check_float("mutation_prob", mutation_prob, 0.0, 1.0)
        self.mutation_step = check_int("mutation_step", mutation_step, 0)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.avoid_duplicates = bool(avoid_duplicates)
        self._population: deque[tuple[np.ndarray, float]] = deque(maxlen=self.population_size)
        self._n_initial = 0  # random designs proposed so far

    def ask(self) -> list[dict[str, Any]]:
        if self._n_initial < self.population_size or not self._population:
            n = max(1, min(self.batch_size, self.population_size - self._n_initial))
            self._n_initial += n
            return [self.space.from_indices(i) for i in self._random_unique(n)]
        pop = list(self._population)
        children = []
        for _ in range(self.batch_size):
            k = min(self.sample_size, len(pop))
            sample = self.rng.choice(len(pop), size=k, replace=False)
            parent = pop[int(max(sample, key=lambda i: (pop[i][1], i)))][0]  # ties: the younger
            child = mutate_indices(
                self.space, parent, self.rng, self.mutation_prob, self.mutation_step, at_least_one=True
            )
            children.append(self._fresh(child, self.mutation_prob, self.mutation_step))
        return [self.space.from_indices(c) for c in children]

    def tell(self, designs: Sequence[dict[str, Any]], evaluations: Sequence[Evaluation]) -> None:
        self._population.extend(self._told(designs, evaluations))
