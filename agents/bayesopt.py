"""Bayesian optimisation with BoTorch / GPyTorch.

The surrogate is a Gaussian process on the design space's **unit-cube encoding**
(:meth:`~archgym.design_space.DesignSpace.to_unit`: index centres ``(i + 0.5) / n`` for
discrete parameters, the exact position for reals):

* ``SingleTaskGP`` (Matérn-5/2 with ARD, standardised outcomes) when every parameter is
  ordered (integer / ordinal / real);
* ``MixedSingleTaskGP`` (a categorical kernel on the categorical dimensions combined with
  a continuous kernel on the others) when the space has categorical parameters.

Acquisition:

* single objective: ``qLogExpectedImprovement`` on the env's **reward**. Infeasible or
  failed designs are kept in the data set with the worst feasible reward seen so far
  imputed (the GP learns to avoid the region without being distorted by e.g. ``-inf``);
* multi-objective (``multi_objective=True``): ``qLogNoisyExpectedHypervolumeImprovement``
  on the simulator metrics named by ``metrics`` (default: the objective's metrics, or all
  simulator metrics), each oriented by its ``Metric.better`` (lower-is-better metrics are
  negated) and, with ``log_metrics``, log-transformed when positive. Only feasible
  designs are modelled; the reference point is inferred from the observed Pareto front.

Proposals are always valid designs: the acquisition is optimised over the discrete /
mixed domain itself — by **enumeration** of every unevaluated design when the space is
small, else by BoTorch's **mixed alternating** optimiser (discrete local search over
the allowed unit values alternating with L-BFGS on real dimensions) or a discrete
**local search** — and the result is decoded with ``from_unit``. A proposal that repeats
a design already evaluated or proposed in this run is replaced by a random unseen design
(duplicates would add no information but cost budget).

The first ``n_initial`` designs come from a scrambled Sobol sequence. All randomness
(Sobol scrambling, GP fitting restarts, acquisition optimisation, MC samplers) is drawn
from the agent's seeded rng through torch/python generators forked and seeded per ask, so
the agent is reproducible and leaves global RNG state untouched. It runs on a GPU with
``device="cuda"`` (or ``"auto"`` when one is present).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import torch

from archgym.agent import Agent, RunResult
from archgym.agents._common import (
    MetricDirections,
    check_choice,
    check_int,
    design_key,
    isolated_global_rngs,
)
from archgym.design_space import DesignSpace
from archgym.errors import ConfigError
from archgym.evaluation import Evaluation

OPTIMIZERS = ("auto", "enumerate", "alternating", "local_search")
MO_ACQUISITIONS = ("nehvi", "parego")
DEVICES = ("auto", "cpu", "cuda")
_MAX_RETRIES = 50

#: a trust region in the unit cube: per-coordinate lower and upper bounds
Box = tuple[np.ndarray, np.ndarray]


class TrainingData(NamedTuple):
    """What one proposal models: inputs (unit cube), targets, and the trust region to propose in."""

    X: torch.Tensor
    Y: torch.Tensor
    box: Box | None


class BayesianOptimization(Agent):
    """GP-based Bayesian optimisation (BoTorch) over mixed discrete / continuous spaces.

    Args:
        space: the design space.
        seed: seeds all of the agent's randomness.
        n_initial: size of the initial scrambled-Sobol design (>= 1), proposed as one batch
            before any model is fitted.
        q: designs proposed per ``ask`` after the initial design (the acquisition's batch
            size; >= 1). Larger q means fewer model fits per evaluation.
        multi_objective: false: maximise the env's scalar reward with qLogEI; true: find
            the Pareto front of ``metrics`` with qLogNEHVI.
        metrics: metric names for multi-objective BO (>= 2); ``None`` = the objective's
            metrics if it names at least two, else all simulator metrics.
        log_metrics: model log(metric) for metrics that are positive (multi-objective).
        mo_acquisition: multi-objective acquisition: ``"parego"`` (ParEGO, Knowles 2006: per
            proposal, the metrics are scalarised by an augmented Chebyshev function with
            weights drawn from the simplex, and a one-output GP + qLogEI search it, trust
            region included: the cost of single-objective BO) or ``"nehvi"`` (qLogNEHVI on a
            multi-output GP: exact expected hypervolume improvement, whose box decompositions
            grow steeply with the front: seconds per proposal at 300 observations of 3 metrics).
        optimizer: ``"enumerate"`` (score every unevaluated design; exact, for spaces of
            at most ``max_enumerate`` designs), ``"alternating"`` (BoTorch's
            ``optimize_acqf_mixed_alternating``), ``"local_search"`` (BoTorch's
            ``optimize_acqf_discrete_local_search``; discrete spaces only) or ``"auto"``
            (enumerate when the space is small enough, else alternating).
        max_enumerate: largest design-space size that ``"auto"`` enumerates (>= 1).
        num_restarts: starting points of the acquisition optimiser (>= 1).
        raw_samples: random points scored to choose those starting points (>= 1).
        mc_samples: quasi-MC samples of the acquisition function (>= 1).
        fit_maxiter: L-BFGS iterations when fitting the GP hyperparameters (>= 1).
        refit_every: fit the GP hyperparameters every this many model updates; in between
            the previous hyperparameters are reused on the new data (>= 1; 1 = always).
        max_model_points: past this many usable observations the GP models only the
            ``max_model_points`` nearest the incumbent (single objective; TuRBO-style trust
            region, and proposals stay inside the box those points span) or nearest the
            Pareto front (multi-objective). Keeps a proposal's cost flat in the number of
            observations (>= 2; 0 = always model every observation).
        device: ``"cpu"``, ``"cuda"`` or ``"auto"`` (cuda when available).
        num_threads: torch CPU threads while fitting / optimising (restored afterwards);
            0 = leave torch's setting. GP fits on small data sets are latency-bound, so 1
            is often fastest on a shared or small machine.
    """

    name = "bo"

    def __init__(
        self,
        space: DesignSpace,
        seed: int = 0,
        n_initial: int = 10,
        q: int = 1,
        multi_objective: bool = False,
        metrics: Sequence[str] | None = None,
        log_metrics: bool = True,
        mo_acquisition: str = "parego",
        optimizer: str = "auto",
        max_enumerate: int = 20000,
        num_restarts: int = 8,
        raw_samples: int = 256,
        mc_samples: int = 128,
        fit_maxiter: int = 75,
        refit_every: int = 1,
        max_model_points: int = 128,
        device: str = "auto",
        num_threads: int = 0,
    ) -> None:
        super().__init__(space, seed)
        self.n_initial = check_int("n_initial", n_initial, 1)
        self.q = check_int("q", q, 1)
        self.multi_objective = bool(multi_objective)
        self.metrics = None if metrics is None else [str(m) for m in metrics]
        if self.multi_objective and self.metrics is not None and len(self.metrics) < 2:
            raise ConfigError(
                f"metrics must name at least 2 metrics for multi-objective BO, got {self.metrics}"
            )
        self.log_metrics = bool(log_metrics)
        self.mo_acquisition = check_choice("mo_acquisition", mo_acquisition, MO_ACQUISITIONS)
        self.optimizer = check_choice("optimizer", optimizer, OPTIMIZERS)
        self.max_enumerate = check_int("max_enumerate", max_enumerate, 1)
        if self.optimizer == "local_search" and not all(p.is_discrete for p in space.params):
            raise ConfigError(
                "optimizer 'local_search' needs an all-discrete design space; use 'alternating'"
            )
        if self.optimizer == "enumerate" and space.size > self.max_enumerate:
            raise ConfigError(
                f"optimizer 'enumerate': the space has {space.size:g} designs, more than "
                f"max_enumerate={self.max_enumerate}; raise max_enumerate or use 'alternating'"
            )
        self.num_restarts = check_int("num_restarts", num_restarts, 1)
        self.raw_samples = check_int("raw_samples", raw_samples, 1)
        self.mc_samples = check_int("mc_samples", mc_samples, 1)
        self.fit_maxiter = check_int("fit_maxiter", fit_maxiter, 1)
        self.refit_every = check_int("refit_every", refit_every, 1)
        self.max_model_points = check_int("max_model_points", max_model_points, 0)
        if 0 < self.max_model_points < 2:
            raise ConfigError("max_model_points must be 0 (model every observation) or >= 2")
        self.device = check_choice("device", device, DEVICES)
        if device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("device 'cuda' requested but torch sees no CUDA device; use 'cpu' or 'auto'")
        self.num_threads = check_int("num_threads", num_threads, 0)
        self._device = torch.device(
            "cuda" if device == "cuda" or (device == "auto" and torch.cuda.is_available()) else "cpu"
        )
        self._dtype = torch.float64

        self._X: list[np.ndarray] = []  # unit encodings of evaluated designs
        self._fit: list[float] = []  # reward (nan when infeasible)
        self._metric_rows: list[dict[str, float] | None] = []  # metrics of feasible designs
        self._keys: set[tuple] = set()  # designs evaluated or proposed in this run
        self._sobol = torch.quasirandom.SobolEngine(
            len(space), scramble=True, seed=int(self.rng.integers(2**31))
        )
        self._n_initial_proposed = 0
        self._n_model_updates = 0
        self._hypers: dict[str, torch.Tensor] | None = None
        self._directions: MetricDirections | None = None  # learnt by bind(env)
        self._grid: np.ndarray | None = None  # every index vector (enumerate optimiser)

    # ----------------------------------------------------------- env binding
    def bind(self, env: gym.Env[Any, Any]) -> None:
        """Learn metric names and directions from an env (needed for multi-objective BO)."""
        self._directions = MetricDirections.of(env)

    def run(self, env: gym.Env[Any, Any], budget: int, *, stop_on_success: bool = False) -> RunResult:
        self.bind(env)
        return super().run(env, budget, stop_on_success=stop_on_success)

    def _mo_metrics(self) -> list[str]:
        if self._directions is None:
            raise RuntimeError(
                "multi-objective BO needs the metrics' directions: call run(env, ...) or bind(env) first"
            )
        return self._directions.select(self.metrics, minimum=2, what="multi-objective BO")

    # ------------------------------------------------------------ proposals
    def _tensor(self, a: Any) -> torch.Tensor:
        return torch.as_tensor(np.asarray(a, dtype=np.float64), dtype=self._dtype, device=self._device)

    def _claim(self, design: dict[str, Any]) -> bool:
        """Mark a design as proposed; False when it was already evaluated/proposed."""
        key = design_key(self.space.validate(design))
        if key in self._keys:
            return False
        self._keys.add(key)
        return True

    def _random_unseen(self) -> dict[str, Any]:
        for _ in range(_MAX_RETRIES):
            d = self.space.sample(self.rng)
            if self._claim(d):
                return d
        return d  # the space is (nearly) exhausted: a duplicate is unavoidable

    def _sobol_designs(self, n: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(n):
            for _ in range(_MAX_RETRIES):
                d = self.space.from_unit(self._sobol.draw(1).numpy()[0])
                if self._claim(d):
                    break
            else:
                d = self._random_unseen()
            out.append(d)
        return out

    def ask(self) -> list[dict[str, Any]]:
        if self._n_initial_proposed < self.n_initial:
            n = self.n_initial - self._n_initial_proposed
            self._n_initial_proposed += n
            return self._sobol_designs(n)
        data = self._training_data()
        if data is None:  # not enough usable observations to fit a model yet
            return [self._random_unseen() for _ in range(self.q)]
        with (
            isolated_global_rngs(
                int(self.rng.integers(2**31)), self.num_threads, self._device.type == "cuda"
            ),
            warnings.catch_warnings(),
        ):
            warnings.filterwarnings("ignore", module=r"botorch|gpytorch|linear_operator")
            model = self._fit_model(data.X, data.Y)
            acqf = self._acquisition(model, data.X, data.Y)
            candidates = self._optimize(acqf, data.box)
        out = []
        for u in candidates.detach().cpu().numpy():
            d = self.space.from_unit(u)
            out.append(d if self._claim(d) else self._random_unseen())
        return out or [self._random_unseen()]

    def tell(self, designs: Sequence[dict[str, Any]], evaluations: Sequence[Evaluation]) -> None:
        for d, ev in zip(designs, evaluations):
            d = self.space.validate(d)
            self._keys.add(design_key(d))
            self._X.append(self.space.to_unit(d))
            ok = ev.feasible and math.isfinite(ev.reward)
            self._fit.append(float(ev.reward) if ok else math.nan)
            self._metric_rows.append(dict(ev.metrics) if ev.feasible and ev.metrics is not None else None)

    # --------------------------------------------------------------- model
    def _training_data(self) -> TrainingData | None:
        """The observations to model and the trust region to propose in (None: too few yet)."""
        X = np.asarray(self._X, dtype=np.float64)
        if self.multi_objective:
            names = self._mo_metrics()
            rows = [
                (x, r)
                for x, r in zip(X, self._metric_rows)
                if r is not None and all(math.isfinite(r.get(n, math.nan)) for n in names)
            ]
            if len(rows) < 2:
                return None
            Y = np.array([[r[n] for n in names] for _, r in rows], dtype=np.float64)
            for k, n in enumerate(names):
                if self.log_metrics and (Y[:, k] > 0).all():
                    Y[:, k] = np.log(Y[:, k])
                Y[:, k] *= self._directions.sign(n)  # type: ignore[union-attr]
            Xm = np.stack([x for x, _ in rows])
            if self.mo_acquisition == "parego":  # one random scalarisation per proposal
                s = self._chebyshev(Y)
                keep, box = self._trust_region(Xm, s)
                return TrainingData(self._tensor(Xm[keep]), self._tensor(s[keep, None]), box)
            keep = self._near_front(Y)
            return TrainingData(self._tensor(Xm[keep]), self._tensor(Y[keep]), None)
        y = np.asarray(self._fit, dtype=np.float64)
        feasible = np.isfinite(y)
        if feasible.sum() < 1 or len(y) < 2:
            return None
        y = np.where(feasible, y, y[feasible].min())  # impute the worst feasible reward
        keep, box = self._trust_region(X, y)
        return TrainingData(self._tensor(X[keep]), self._tensor(y[keep, None]), box)

    def _chebyshev(self, Y: np.ndarray) -> np.ndarray:
        """ParEGO's scalarisation (Knowles 2006): BoTorch's augmented Chebyshev function of the
        min-max normalised metrics, with weights drawn uniformly from the simplex (seeded)."""
        from botorch.utils.multi_objective.scalarization import get_chebyshev_scalarization

        weights = self._tensor(self.rng.dirichlet(np.ones(Y.shape[1])))
        Yt = self._tensor(Y)
        return get_chebyshev_scalarization(weights, Yt)(Yt, None).detach().cpu().numpy()

    # -------------------------------------------------------- trust region
    def _distances(self, X: np.ndarray, centre: np.ndarray) -> np.ndarray:
        """Distance in the unit cube; a categorical coordinate counts 0 (same) or 1 (other)."""
        diff = np.abs(X - centre)
        cat = self.space.categorical_dims
        if cat:
            diff[:, cat] = (diff[:, cat] > 1e-9).astype(np.float64)
        return np.sqrt((diff**2).sum(axis=1))

    def _trust_region(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, Box | None]:
        """Indices of the observations to model, and the box they span (None: all are modelled)."""
        k = self.max_model_points
        if k == 0 or len(y) <= k:
            return np.arange(len(y)), None
        dist = self._distances(X, X[int(np.argmax(y))])
        keep = np.sort(np.argsort(dist, kind="stable")[:k])
        return keep, (X[keep].min(axis=0), X[keep].max(axis=0))

    def _near_front(self, Y: np.ndarray) -> np.ndarray:
        """Indices of the ``max_model_points`` observations nearest the Pareto front."""
        k = self.max_model_points
        if k == 0 or len(Y) <= k:
            return np.arange(len(Y))
        from botorch.utils.multi_objective.pareto import is_non_dominated

        Z = (Y - Y.mean(axis=0)) / np.where(Y.std(axis=0) > 0, Y.std(axis=0), 1.0)
        front = Z[is_non_dominated(torch.as_tensor(Y)).numpy()]
        gap = np.min(np.linalg.norm(Z[:, None, :] - front[None, :, :], axis=2), axis=1)
        return np.sort(np.argsort(gap, kind="stable")[:k])

    def _in_box(self, j: int, values: list[float], box: Box | None) -> list[float]:
        """The unit values of parameter ``j`` inside the trust region (all when there is none)."""
        if box is None or self.space.params[j].is_categorical:
            return values
        lo, hi = box[0][j] - 1e-9, box[1][j] + 1e-9
        inside = [v for v in values if lo <= v <= hi]
        return inside or values

    def _fit_model(self, X: torch.Tensor, Y: torch.Tensor) -> Any:
        from botorch.exceptions.errors import ModelFittingError
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import MixedSingleTaskGP, SingleTaskGP
        from gpytorch.mlls import ExactMarginalLogLikelihood

        cat_dims = self.space.categorical_dims
        model = MixedSingleTaskGP(X, Y, cat_dims=cat_dims) if cat_dims else SingleTaskGP(X, Y)
        if self._hypers is not None:  # warm start from the previous fit
            model.load_state_dict(self._hypers, strict=False)
        if self._hypers is None or self._n_model_updates % self.refit_every == 0:
            mll = ExactMarginalLogLikelihood(model.likelihood, model)
            try:
                fit_gpytorch_mll(mll, optimizer_kwargs={"options": {"maxiter": self.fit_maxiter}})
            except ModelFittingError as exc:  # keep the previous (or initial) hyperparameters, and say so
                warnings.warn(
                    f"BO: the GP fit failed ({exc}); proposing with the previous hyperparameters",
                    RuntimeWarning,
                    stacklevel=2,
                )
        self._n_model_updates += 1
        self._hypers = {
            k: v.detach().clone()
            for k, v in model.state_dict().items()
            if not k.startswith("outcome_transform")
        }
        model.eval()
        return model

    def _acquisition(self, model: Any, X: torch.Tensor, Y: torch.Tensor) -> Any:
        from botorch.sampling import SobolQMCNormalSampler

        sampler = SobolQMCNormalSampler(
            sample_shape=torch.Size([self.mc_samples]), seed=int(torch.randint(2**31, ()).item())
        )
        if not self.multi_objective or self.mo_acquisition == "parego":  # reward / scalarised metrics
            from botorch.acquisition.logei import qLogExpectedImprovement

            return qLogExpectedImprovement(model, best_f=Y.max(), sampler=sampler)
        from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
        from botorch.utils.multi_objective.hypervolume import infer_reference_point
        from botorch.utils.multi_objective.pareto import is_non_dominated

        ref_point = infer_reference_point(Y[is_non_dominated(Y)])
        return qLogNoisyExpectedHypervolumeImprovement(
            model, ref_point=ref_point, X_baseline=X, sampler=sampler, prune_baseline=True, cache_root=False
        )

    # ----------------------------------------------------------- optimiser
    def _unit_values(self, j: int) -> list[float]:
        n = int(self.space.nvec[j])
        return [(i + 0.5) / n for i in range(n)]

    def _all_candidates(self, box: Box | None) -> torch.Tensor:
        """Unit encodings of every design not yet evaluated or proposed (discrete spaces)."""
        nvec = tuple(int(n) for n in self.space.nvec)
        if self._grid is None:
            self._grid = np.indices(nvec).reshape(len(nvec), -1).T
        taken = [
            np.ravel_multi_index(tuple(self.space.to_indices(dict(zip(self.space.names, k)))), nvec)
            for k in self._keys
        ]
        mask = np.ones(self._grid.shape[0], dtype=bool)
        mask[np.asarray(taken, dtype=np.int64)] = False
        units = (self._grid + 0.5) / np.asarray(nvec, dtype=np.float64)
        if box is not None:
            ordered = [j for j, p in enumerate(self.space.params) if not p.is_categorical]
            inside = mask & np.all(
                (units[:, ordered] >= box[0][ordered] - 1e-9) & (units[:, ordered] <= box[1][ordered] + 1e-9),
                axis=1,
            )
            mask = inside if inside.any() else mask
        return self._tensor(units[mask])

    def _optimize(self, acqf: Any, box: Box | None) -> torch.Tensor:
        from botorch.optim import (
            optimize_acqf_discrete,
            optimize_acqf_discrete_local_search,
            optimize_acqf_mixed_alternating,
        )

        method = self.optimizer
        if method == "auto":
            method = "enumerate" if self.space.size <= self.max_enumerate else "alternating"
        if method == "enumerate":
            choices = self._all_candidates(box)
            if choices.shape[0] == 0:
                return self._tensor(np.empty((0, len(self.space))))
            q = min(self.q, choices.shape[0])
            cand, _ = optimize_acqf_discrete(acqf, q=q, choices=choices, max_batch_size=2048, unique=True)
            return cand
        if method == "local_search":
            per_dim = [
                self._tensor(self._in_box(j, self._unit_values(j), box)) for j in range(len(self.space))
            ]
            X_avoid = self._tensor(np.asarray(self._X)) if self._X else None
            cand, _ = optimize_acqf_discrete_local_search(
                acqf,
                discrete_choices=per_dim,
                q=self.q,
                num_restarts=self.num_restarts,
                raw_samples=self.raw_samples,
                X_avoid=X_avoid,
            )
            return cand
        d = len(self.space)
        bounds = torch.zeros(2, d, dtype=self._dtype, device=self._device)
        bounds[1] = 1.0
        discrete: dict[int, list[float]] = {}
        categorical: dict[int, list[float]] = {}
        fixed: dict[int, float] = {}
        for j, p in enumerate(self.space.params):
            if not p.is_discrete:
                if box is not None and box[1][j] - box[0][j] < 1e-9:
                    fixed[j] = float(box[0][j])
                elif box is not None:
                    bounds[0, j], bounds[1, j] = float(box[0][j]), float(box[1][j])
                continue
            vals = self._in_box(j, self._unit_values(j), box)
            if len(vals) == 1:
                fixed[j] = vals[0]
                continue
            bounds[0, j], bounds[1, j] = vals[0], vals[-1]
            (categorical if p.is_categorical else discrete)[j] = vals
        cand, _ = optimize_acqf_mixed_alternating(
            acqf,
            bounds=bounds,
            discrete_dims=discrete or None,
            cat_dims=categorical or None,
            fixed_features=fixed or None,
            q=self.q,
            num_restarts=self.num_restarts,
            raw_samples=self.raw_samples,
        )
        return cand
