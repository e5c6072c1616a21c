"""Library-backed optimisers: Optuna's samplers as archgym agents, through its ask/tell API.

One adapter (:class:`OptunaAgent`) maps an archgym design space to Optuna distributions,
asks a batch of trials, decodes them to designs, and tells Optuna each design's result.
The five agents differ only in the sampler they build and its settings:

=========  ====================================================  ===================
name       Optuna sampler                                        objective
=========  ====================================================  ===================
``tpe``    ``TPESampler`` (multivariate, constant liar)          reward (maximise)
``cmaes``  ``CmaEsSampler`` (CMA-ES with margin for integers)    reward (maximise)
``nsga2``  ``NSGAIISampler``                                     metrics (Pareto)
``qmc``    ``QMCSampler`` (scrambled Sobol or Halton)            none (space filling)
``grid``   ``GridSampler`` (shuffled grid of ``levels`` values)  none (exhaustive)
=========  ====================================================  ===================

Encoding: a categorical parameter is an Optuna categorical over its choice indices; an
ordered discrete parameter (integer, powers of two, ordinal) an integer distribution over
its index ``0..n-1`` (so a powers-of-two knob is searched on its log scale); a real one a
float distribution on ``[low, high]`` (log-scaled when the parameter is).

Results: single-objective samplers are told the env's reward (a failed simulation is a
``FAIL`` trial). ``nsga2`` is told the objective's metrics (or ``metrics``), each in its
direction (``Metric.better``); a design that violates the objective's constraints is told
with a positive constraint value (Optuna's constrained domination), a failed one as
``FAIL``.

Duplicates: a trial that decodes to a design already evaluated in this run is told the
known result at once and asked again (up to a few times), so the budget is not spent on
it; designs repeated inside one batch are evaluated once (the per-run cache) and each
trial is told the result.

Seeding: every sampler gets a seed drawn from the agent's rng; Optuna's own generators
are per-sampler, so runs are reproducible and leave global RNG state alone. Optuna's
logging (one INFO line per trial) and experimental-feature warnings are silenced while
the agent talks to the study, and restored afterwards.
"""

from __future__ import annotations

import contextlib
import logging
import math
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from archgym.agent import Agent, RunResult
from archgym.agents._common import MetricDirections, check_choice, check_float, check_int, design_key
from archgym.design_space import DesignSpace, Real
from archgym.errors import ConfigError
from archgym.evaluation import Evaluation

_MAX_RETRIES = 20  # re-asks of a trial that decodes to an already evaluated design
#: largest grid accepted: GridSampler keeps a list of every point and scans all of them after
#: each trial (about 30 ms per trial at 200,000 points on one core)
MAX_GRID = 1_000_000


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Silence Optuna's per-trial log lines and experimental warnings inside the block."""
    import optuna  # noqa: F401  (configures its logger on first import: do that before changing it)

    logger = logging.getLogger("optuna")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"optuna")
            warnings.filterwarnings("ignore", message=r".*experimental.*")
            yield
    finally:
        logger.setLevel(level)


class OptunaAgent(Agent):
    """Base class: drives one Optuna sampler through ``study.ask`` / ``study.tell``.

    Subclasses build the sampler (:meth:`_make_sampler`), choose the batch size
    (:attr:`batch_size`) and, for multi-objective search, set :attr:`multi_objective`.
    """

    multi_objective = False
    batch_size: int = 1
    metrics: list[str] | None = None

    def __init__(self, space: DesignSpace, seed: int = 0) -> None:
        super().__init__(space, seed)
        self._sampler_seed = int(self.rng.integers(2**31))
        self._study: Any = None
        self._pending: list[tuple[Any, dict[str, Any]]] = []  # (trial, design) awaiting tell
        self._known: dict[tuple, list[float] | None] = {}  # design key -> values told (None: failed)
        self._constraint: dict[tuple, float] = {}  # design key -> constraint violation told
        self._directions: MetricDirections | None = None

    # ----------------------------------------------------------- env binding
    def bind(self, env: Any) -> None:
        """Learn metric names and directions from an env (needed for multi-objective search)."""
        self._directions = MetricDirections.of(env)

    def run(self, env: Any, budget: int, *, stop_on_success: bool = False) -> RunResult:
        self.bind(env)
        return super().run(env, budget, stop_on_success=stop_on_success)

    def objective_metrics(self) -> list[str]:
        """The metrics a multi-objective agent optimises, validated against the bound env."""
        if self._directions is None:
            raise RuntimeError(
                f"agent {self.name!r} optimises metrics and needs their directions: "
                "call run(env, ...) or bind(env) first"
            )
        return self._directions.select(self.metrics, minimum=1, what=f"agent {self.name!r}")

    # ------------------------------------------------------------ encoding
    def _distributions(self) -> dict[str, Any]:
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        out: dict[str, Any] = {}
        for p in self.space.params:
            if isinstance(p, Real):
                out[p.name] = FloatDistribution(p.low, p.high, log=p.log)
            elif p.is_categorical:
                out[p.name] = CategoricalDistribution(tuple(range(p.n)))
            else:
                out[p.name] = IntDistribution(0, p.n - 1)
        return out

    def _decode(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            p.name: float(params[p.name]) if isinstance(p, Real) else p.from_index(int(params[p.name]))
            for p in self.space.params
        }

    # --------------------------------------------------------------- study
    def _make_sampler(self) -> Any:
        raise NotImplementedError

    def _study_or_create(self) -> Any:
        if self._study is None:
            import optuna

            directions: list[Any] = [optuna.study.StudyDirection.MAXIMIZE]
            if self.multi_objective:
                names = self.objective_metrics()  # RuntimeError before bind(env)
                assert self._directions is not None
                directions = [
                    optuna.study.StudyDirection.MAXIMIZE
                    if self._directions.sign(m) > 0
                    else optuna.study.StudyDirection.MINIMIZE
                    for m in names
                ]
            self._study = optuna.create_study(sampler=self._make_sampler(), directions=directions)
        return self._study

    def _next_batch_size(self) -> int:
        return self.batch_size

    def _retry_repeats(self, study: Any) -> bool:
        """Whether a trial that repeats a design is worth asking again."""
        return True

    def ask(self) -> list[dict[str, Any]]:
        with _quiet_optuna():
            study = self._study_or_create()
            dists = self._distributions()
            designs: list[dict[str, Any]] = []
            batch: set[tuple] = set()
            for _ in range(self._next_batch_size()):
                for _ in range(_MAX_RETRIES):
                    trial = study.ask(fixed_distributions=dists)
                    design = self._decode(trial.params)
                    key = design_key(self.space.validate(design))
                    if not self._retry_repeats(study):
                        break
                    if key in self._known:  # known result: tell it and ask again
                        self._tell_trial(trial, key)
                    elif key in batch:  # already in this batch: told its result with it
                        self._pending.append((trial, design))
                    else:
                        break
                else:  # the sampler keeps repeating itself: propose a duplicate (cached)
                    trial = study.ask(fixed_distributions=dists)
                    design = self._decode(trial.params)
                batch.add(design_key(self.space.validate(design)))
                self._pending.append((trial, design))
                designs.append(design)
        return designs

    def tell(self, designs: Sequence[dict[str, Any]], evaluations: Sequence[Evaluation]) -> None:
        by_key = {}
        for d, ev in zip(designs, evaluations):
            key = design_key(self.space.validate(d))
            by_key[key] = ev
            self._known[key], self._constraint[key] = self._values(ev)
        with _quiet_optuna():
            still = []
            for trial, design in self._pending:
                key = design_key(self.space.validate(design))
                if key in by_key:
                    self._tell_trial(trial, key)
                else:
                    still.append((trial, design))  # proposed but cut off by the budget
            self._pending = still

    def _values(self, ev: Evaluation) -> tuple[list[float] | None, float]:
        """The values Optuna is told for one evaluation, and its constraint violation."""
        if not self.multi_objective:
            ok = ev.error is None and math.isfinite(ev.reward)
            return ([float(ev.reward)] if ok else None), 0.0
        names = self.objective_metrics()
        if ev.metrics is None or not all(math.isfinite(ev.metrics.get(m, math.nan)) for m in names):
            return None, 0.0
        return [float(ev.metrics[m]) for m in names], (0.0 if ev.feasible else 1.0)

    def _tell_trial(self, trial: Any, key: tuple) -> None:
        from optuna.trial import TrialState

        values = self._known[key]
        trial.set_user_attr("constraint", [self._constraint.get(key, 0.0)])
        if values is None:
            self._study.tell(trial, state=TrialState.FAIL)
        else:
            self._study.tell(trial, values)


def _constraint(trial: Any) -> Sequence[float]:
    """Optuna constraints_func: positive when the design violated the objective's constraints."""
    return list(trial.user_attrs.get("constraint", [0.0]))


class TPE(OptunaAgent):
    """Tree-structured Parzen estimator (Optuna ``TPESampler``) on the reward.

    Args:
        n_startup_trials: random designs before the density model is used (>= 1).
        n_ei_candidates: candidates scored by expected improvement per proposal (>= 1).
        multivariate: model parameters jointly (multivariate TPE) rather than one by one.
        batch_size: designs per ``ask`` (pending ones are imputed by the constant liar).
    """

    name = "tpe"

    def __init__(
        self,
        space: DesignSpace,
        seed: int = 0,
        n_startup_trials: int = 10,
        n_ei_candidates: int = 24,
        multivariate: bool = True,
        batch_size: int = 1,
    ) -> None:
        super().__init__(space, seed)
        self.n_startup_trials = check_int("n_startup_trials", n_startup_trials, 1)
        self.n_ei_candidates = check_int("n_ei_candidates", n_ei_candidates, 1)
        self.multivariate = bool(multivariate)
        self.batch_size = check_int("batch_size", batch_size, 1)

    def _make_sampler(self) -> Any:
        from optuna.samplers import TPESampler

        return TPESampler(
            n_startup_trials=self.n_startup_trials,
            n_ei_candidates=self.n_ei_candidates,
            multivariate=self.multivariate,
            group=self.multivariate,
            constant_liar=self.batch_size > 1,
            seed=self._sampler_seed,
        )


class CMAES(OptunaAgent):
    """CMA-ES (Optuna ``CmaEsSampler``, ``cmaes`` package) on the reward.

    Ordered parameters are searched by CMA-ES with margin (keeps integer coordinates from
    freezing); categorical ones, which CMA-ES cannot model, by a seeded random sampler.

    Args:
        popsize: designs per CMA-ES generation, proposed as one batch (>= 2).
        sigma0: initial step size as a fraction of each parameter's range, (0, 1].
        n_startup_trials: random designs before CMA-ES starts (>= 0).
    """

    name = "cmaes"

    def __init__(
        self,
        space: DesignSpace,
        seed: int = 0,
        popsize: int = 8,
        sigma0: float = 0.3,
        n_startup_trials: int = 0,
    ) -> None:
        super().__init__(space, seed)
        self.popsize = check_int("popsize", popsize, 2)
        self.sigma0 = check_float("sigma0", sigma0, 0.0, 1.0, low_open=True)
        self.n_startup_trials = check_int("n_startup_trials", n_startup_trials, 0)
        self.batch_size = self.popsize

    def _make_sampler(self) -> Any:
        from optuna.samplers import CmaEsSampler, RandomSampler

        # Optuna takes sigma0 in the search space's units: scale by the widest range
        widest = max((float(d.high - d.low) for d in self._ordered_dists()), default=1.0)
        return CmaEsSampler(
            sigma0=self.sigma0 * widest,
            popsize=self.popsize,
            n_startup_trials=self.n_startup_trials,
            with_margin=any(p.is_discrete and not p.is_categorical for p in self.space.params),
            independent_sampler=RandomSampler(seed=self._sampler_seed + 1),
            warn_independent_sampling=False,
            seed=self._sampler_seed,
        )

    def _ordered_dists(self) -> list[Any]:
        return [d for d in self._distributions().values() if hasattr(d, "high")]


class NSGA2(OptunaAgent):
    """NSGA-II (Optuna ``NSGAIISampler``) on the objective's metrics as a Pareto problem.

    Args:
        population_size: designs per generation, proposed as one batch (>= 2).
        mutation_prob: per-parameter mutation probability; ``None`` = 1 / #parameters.
        crossover_prob: probability a child is a crossover of two parents, [0, 1].
        metrics: metric names to optimise (>= 1); ``None`` = the objective's metrics.
    """

    name = "nsga2"
    multi_objective = True

    def __init__(
        self,
        space: DesignSpace,
        seed: int = 0,
        population_size: int = 16,
        mutation_prob: float | None = None,
        crossover_prob: float = 0.9,
        metrics: Sequence[str] | None = None,
    ) -> None:
        super().__init__(space, seed)
        self.population_size = check_int("population_size", population_size, 2)
        self.mutation_prob = (
            None if mutation_prob is None else check_float("mutation_prob", mutation_prob, 0, 1)
        )
        self.crossover_prob = check_float("crossover_prob", crossover_prob, 0.0, 1.0)
        if metrics is not None and len(metrics) < 1:
            raise ConfigError("metrics must name at least one metric (or be null for the objective's)")
        self.metrics = None if metrics is None else [str(m) for m in metrics]
        self.batch_size = self.population_size

    def _make_sampler(self) -> Any:
        from optuna.samplers import NSGAIISampler

        return NSGAIISampler(
            population_size=self.population_size,
            mutation_prob=self.mutation_prob,
            crossover_prob=self.crossover_prob,
            constraints_func=_constraint,
            seed=self._sampler_seed,
        )


QMC_TYPES = ("sobol", "halton")


class QMC(OptunaAgent):
    """Quasi-random search (Optuna ``QMCSampler``): a scrambled low-discrepancy sequence.

    Args:
        qmc_type: ``"sobol"`` or ``"halton"``.
        batch_size: designs per ``ask`` (the first ask proposes one design, from which
            Optuna learns the search space).
    """

    name = "qmc"

    def __init__(
        self, space: DesignSpace, seed: int = 0, qmc_type: str = "sobol", batch_size: int = 16
    ) -> None:
        super().__init__(space, seed)
        self.qmc_type = check_choice("qmc_type", qmc_type, QMC_TYPES)
        self.batch_size = check_int("batch_size", batch_size, 1)

    def _make_sampler(self) -> Any:
        from optuna.samplers import QMCSampler, RandomSampler

        return QMCSampler(
            qmc_type=self.qmc_type,
            scramble=True,
            seed=self._sampler_seed,
            independent_sampler=RandomSampler(seed=self._sampler_seed + 1),
            warn_independent_sampling=False,
            warn_asynchronous_seeding=False,
        )

    def _next_batch_size(self) -> int:
        # QMCSampler fixes its search space from the first complete trial
        return 1 if self._study is None or not self._study.trials else self.batch_size


class Grid(OptunaAgent):
    """Grid search (Optuna ``GridSampler``) visiting the grid's points in a seeded random order.

    Each parameter with more than ``levels`` values contributes ``levels`` evenly spaced
    ones (first and last included); a real parameter is gridded on its index encoding.

    Args:
        levels: grid values per parameter (>= 2); the grid may have at most 1,000,000 points.
        batch_size: designs per ``ask``.
    """

    name = "grid"

    def __init__(self, space: DesignSpace, seed: int = 0, levels: int = 3, batch_size: int = 16) -> None:
        super().__init__(space, seed)
        self.levels = check_int("levels", levels, 2)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self._grid = {p.name: self._grid_values(p.n) for p in space.params}
        points = self._points = math.prod(len(v) for v in self._grid.values())
        if points > MAX_GRID:
            raise ConfigError(
                f"levels={self.levels} gives a grid of {points:,} points on this design space, more than "
                f"{MAX_GRID:,}; lower levels"
            )

    def _retry_repeats(self, study: Any) -> bool:
        return len(study.trials) <= self._points  # an exhausted grid can only repeat itself

    def _grid_values(self, n: int) -> list[int]:
        idx = np.unique(np.round(np.linspace(0, n - 1, min(n, self.levels))).astype(int)).tolist()
        return [int(i) for i in idx]

    def _distributions(self) -> dict[str, Any]:
        from optuna.distributions import IntDistribution

        return {p.name: IntDistribution(0, p.n - 1) for p in self.space.params}

    def _decode(self, params: dict[str, Any]) -> dict[str, Any]:
        design = self.space.from_indices([int(params[p.name]) for p in self.space.params])
        for p in self.space.params:  # Real.from_index can round past a log-scale bound (1e-15)
            if isinstance(p, Real):
                design[p.name] = min(max(design[p.name], p.low), p.high)
        return design

    def _make_sampler(self) -> Any:
        from optuna.samplers import GridSampler

        class AskTellGridSampler(GridSampler):
            """GridSampler without its call to ``study.stop()`` once the grid is exhausted.

            ``stop`` only works inside ``study.optimize``; here the budget ends the run, and
            an exhausted grid is visited again in a new random order.
            """

            def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
                pass

        return AskTellGridSampler(self._grid, seed=self._sampler_seed)
