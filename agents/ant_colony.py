"""Ant colony optimisation over the design space's index encoding (ArchGym's ACO agent).

Every parameter value carries **pheromone** ``tau[j][v]`` and a **heuristic desirability**
``eta[j][v]``. An ant builds a design parameter by parameter: with probability
``greediness`` it takes the value maximising ``tau**alpha * eta**beta`` (exploitation),
otherwise it samples a value with probability proportional to it (exploration). One
``ask`` sends out a colony of ``n_ants`` ants; their evaluations update the trails:

* evaporation: ``tau <- (1 - evaporation) * tau``;
* deposit: every ant adds its *quality* ``q`` in [0, 1] (its reward min-max normalised
  over all feasible designs seen in the run; infeasible designs deposit nothing) to the
  values it chose, and the best design found so far adds ``elite_weight`` to its values
  (the elitist ant);
* floor: ``tau >= tau_min`` so no value becomes impossible (as in MAX-MIN ant systems).

Without a domain heuristic, ``eta[j][v]`` is learned: the normalised best reward observed
with value ``v`` of parameter ``j`` (at least 0.1 so seen values stay reachable), and 1
(optimistic) for values never tried, which draws ants to untried values early on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from archgym.agent import Agent
from archgym.agents._common import INFEASIBLE, check_float, check_int, fitness, index_key, mutate_indices
from archgym.design_space import DesignSpace
from archgym.evaluation import Evaluation

_MAX_RETRIES = 20


class AntColony(Agent):
    """Ant colony optimisation (ant system with an elitist ant and a pheromone floor).

    Args:
        space: the design space.
        seed: seeds all of the agent's randomness.
        n_ants: ants per colony = designs proposed per ``ask`` (>= 1).
        evaporation: pheromone evaporation rate ``rho`` in (0, 1]; higher forgets faster.
        alpha: exponent of the pheromone in the choice weight (>= 0); 0 ignores trails.
        beta: exponent of the heuristic desirability (>= 0); 0 ignores the heuristic.
        greediness: probability in [0, 1] of choosing each parameter's best-weighted
            value instead of sampling (ACS's ``q0``).
        elite_weight: extra deposit (>= 0) on the values of the best design so far.
        tau_init: initial pheromone on every value (> 0).
        tau_min: pheromone floor in [0, tau_init].
        avoid_duplicates: rebuild (then perturb) an ant whose design was already
            proposed in this run, up to a few tries, instead of spending budget on it.
    """

    name = "aco"

    def __init__(
        self,
        space: DesignSpace,
        seed: int = 0,
        n_ants: int = 16,
        evaporation: float = 0.2,
        alpha: float = 1.0,
        beta: float = 1.0,
        greediness: float = 0.1,
        elite_weight: float = 1.0,
        tau_init: float = 1.0,
        tau_min: float = 0.01,
        avoid_duplicates: bool = True,
    ) -> None:
        super().__init__(space, seed)
        self.n_ants = check_int("n_ants", n_ants, 1)
        self.evaporation = check_float("evaporation", evaporation, 0.0, 1.0, low_open=True)
        self.alpha = check_float("alpha", alpha, 0.0)
        self.beta = check_float("beta", beta, 0.0)
        self.greediness = check_float("greediness", greediness, 0.0, 1.0)
        self.elite_weight = check_float("elite_weight", elite_weight, 0.0)
        self.tau_init = check_float("tau_init", tau_init, 0.0, low_open=True)
        self.tau_min = check_float("tau_min", tau_min, 0.0, self.tau_init)
        self.avoid_duplicates = bool(avoid_duplicates)
        self._tau = [np.full(int(n), self.tau_init) for n in space.nvec]
        self._best_by_value = [np.full(int(n), INFEASIBLE) for n in space.nvec]
        self._lo, self._hi = np.inf, -np.inf  # range of feasible fitness seen
        self._best: tuple[np.ndarray, float] | None = None
        self._seen: set[tuple[int, ...]] = set()

    # ---------------------------------------------------------------- internals
    def _quality(self, f: float | np.ndarray) -> np.ndarray:
        """Fitness min-max normalised over the feasible designs seen (infeasible -> 0)."""
        f = np.asarray(f, dtype=np.float64)
        span = self._hi - self._lo
        q = np.ones_like(f) if not span > 0 else (f - self._lo) / span
        return np.where(np.isfinite(f), np.clip(q, 0.0, 1.0), 0.0)

    def _heuristic(self, j: int) -> np.ndarray:
        best = self._best_by_value[j]
        return np.where(np.isfinite(best), 0.1 + 0.9 * self._quality(best), 1.0)

    def _construct(self) -> np.ndarray:
        idx = np.empty(len(self.space), dtype=np.int64)
        for j in range(len(self.space)):
            w = self._tau[j] ** self.alpha * self._heuristic(j) ** self.beta
            if self.rng.random() < self.greediness:
                top = np.flatnonzero(w >= w.max() * (1 - 1e-12))
                idx[j] = int(self.rng.choice(top))
            else:
                idx[j] = int(self.rng.choice(len(w), p=w / w.sum()))
        return idx

    # ---------------------------------------------------------------- interface
    def ask(self) -> list[dict[str, Any]]:
        ants = []
        for _ in range(self.n_ants):
            idx = self._construct()
            tries = 0
            while self.avoid_duplicates and index_key(idx) in self._seen and tries < 2 * _MAX_RETRIES:
                # rebuild first; if the trails have converged, perturb one parameter instead
                idx = (
                    self._construct()
                    if tries < _MAX_RETRIES
                    else mutate_indices(self.space, idx, self.rng, 0.0, at_least_one=True)
                )
                tries += 1
            self._seen.add(index_key(idx))
            ants.append(idx)
        return [self.space.from_indices(i) for i in ants]

    def tell(self, designs: Sequence[dict[str, Any]], evaluations: Sequence[Evaluation]) -> None:
        told = []
        for d, ev in zip(designs, evaluations):
            idx, f = self.space.to_indices(d), fitness(ev)
            self._seen.add(index_key(idx))
            told.append((idx, f))
            if np.isfinite(f):
                self._lo, self._hi = min(self._lo, f), max(self._hi, f)
                if self._best is None or f > self._best[1]:
                    self._best = (idx, f)
            for j, v in enumerate(idx):
                self._best_by_value[j][v] = max(self._best_by_value[j][v], f)
        if not told:
            return
        for j in range(len(self.space)):
            self._tau[j] *= 1.0 - self.evaporation
        for idx, f in told:
            q = float(self._quality(f))
            for j, v in enumerate(idx):
                self._tau[j][v] += q
        if self._best is not None:
            for j, v in enumerate(self._best[0]):
                self._tau[j][v] += self.elite_weight
        for j in range(len(self.space)):
            np.maximum(self._tau[j], self.tau_min, out=self._tau[j])

    @property
    def pheromone(self) -> dict[str, np.ndarray]:
        """Pheromone per parameter value (a copy), keyed by parameter name."""
        return {p.name: t.copy() for p, t in zip(self.space.params, self._tau)}
