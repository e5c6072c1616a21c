"""Objectives: turn a simulator's metrics into a reward, a feasibility flag and a success flag.

* :class:`TargetSpec` — ArchGym's *target specification*: the user gives a target value per
  metric; the reward grows as the normalised distance to the targets shrinks, and a design
  *succeeds* when every metric is within a relative tolerance of its target.
* :class:`WeightedSum` — minimise (or maximise) a weighted sum of normalised metrics.
* :class:`Constraint` — hard limits such as ``area_mm2 <= 5``: a design that violates one is
  *infeasible*; it gets ``infeasible_reward`` and never succeeds.

The target-spec reward
----------------------
ArchGym uses ``target / |x - target|`` per metric, which is unbounded at the target and
almost flat far from it. Here, with the relative distance ``d_i = |x_i - t_i| / |t_i|`` (zero
for a one-sided target that is already met) and weights ``w_i``::

    reward = 1 / (1 + sum_i w_i d_i^2 / sum_i w_i)

It is bounded in ``(0, 1]``, equals 1 exactly on target, is smooth in every metric, and
decays like ``1/d^2`` — slowly enough to keep a gradient far from the target.
"""

from __future__ import annotations

import hashlib
import json
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from archgym.errors import ObjectiveError as ObjectiveError
from archgym.simulator import Metric

TargetMode = Literal["exact", "at_most", "at_least"]
#: physical units whose quantities cannot be negative (time, energy, power, rates, sizes, counts)
NONNEGATIVE_UNITS = frozenset(
    ["s", "ms", "us", "ns", "cycles", "J", "mJ", "uJ", "nJ", "pJ", "W", "mW", "uW", "GB/s", "MB/s"]
    + ["GB", "MB", "KB", "B", "mm^2", "um^2", "pJ/bit", "uJ*ms", "M", "MFLOP", "Hz", "MHz", "GHz"]
)
_MODES = ("exact", "at_most", "at_least")


@dataclass(frozen=True)
class Score:
    """What an objective says about one evaluated design."""

    reward: float
    feasible: bool
    success: bool


@dataclass(frozen=True)
class Constraint:
    """A hard limit on one metric, e.g. ``Constraint("area_mm2", "<=", 5.0)``."""

    metric: str
    op: Literal["<=", ">="]
    bound: float

    def __post_init__(self) -> None:
        if self.op not in ("<=", ">="):
            raise ObjectiveError(f"constraint on {self.metric!r}: op must be '<=' or '>=', got {self.op!r}")

    def holds(self, metrics: Mapping[str, float]) -> bool:
        v = metrics[self.metric]
        return v <= self.bound if self.op == "<=" else v >= self.bound

    @classmethod
    def parse(cls, spec: str | Mapping | Constraint) -> Constraint:
        """Accept ``"area_mm2<=5"``, ``{"metric":..., "op":..., "bound":...}`` or a Constraint."""
        if isinstance(spec, Constraint):
            return spec
        if isinstance(spec, Mapping):
            return cls(str(spec["metric"]), spec["op"], float(spec["bound"]))
        for op in ("<=", ">="):
            if op in spec:
                name, bound = spec.split(op, 1)
                return cls(name.strip(), op, float(bound))
        raise ObjectiveError(f"cannot parse constraint {spec!r}; write it like 'area_mm2<=5'")


def check_metric_names(names: Iterable[str], metrics: Sequence[Metric]) -> None:
    """Raise :class:`ObjectiveError` naming the first of ``names`` that no metric has."""
    known = [m.name for m in metrics]
    for name in names:
        if name not in known:
            raise ObjectiveError(f"unknown metric {name!r} in objective; allowed: {', '.join(known)}")


class Objective(ABC):
    """Base class: holds constraints and checks metric names against a simulator."""

    def __init__(
        self, constraints: Iterable[Constraint | str | Mapping] = (), infeasible_reward: float = 0.0
    ) -> None:
        self.constraints: tuple[Constraint, ...] = tuple(Constraint.parse(c) for c in constraints)
        self.infeasible_reward = float(infeasible_reward)

    @property
    @abstractmethod
    def metric_names(self) -> tuple[str, ...]:
        """Metrics this objective reads (besides constraints)."""

    def check_metrics(self, metrics: Sequence[Metric]) -> None:
        """Raise :class:`ObjectiveError` if any referenced metric is not reported by the simulator."""
        check_metric_names((*self.metric_names, *(c.metric for c in self.constraints)), metrics)

    def feasible(self, metrics: Mapping[str, float]) -> bool:
        return all(c.holds(metrics) for c in self.constraints)

    @abstractmethod
    def _score(self, metrics: Mapping[str, float]) -> tuple[float, bool]:
        """Reward and success for a feasible design."""

    def __call__(self, metrics: Mapping[str, float] | None) -> Score:
        """Score one design; ``None`` (a failed simulation) scores as infeasible."""
        if metrics is None or any(not math.isfinite(metrics[n]) for n in self.metric_names):
            return Score(self.infeasible_reward, False, False)
        if not self.feasible(metrics):
            return Score(self.infeasible_reward, False, False)
        reward, success = self._score(metrics)
        return Score(float(reward), True, bool(success))

    def reference_scales(self) -> dict[str, float]:
        """Per-metric magnitudes the env may use to normalise observations."""
        return {}


class TargetSpec(Objective):
    """ArchGym-style target specification with a bounded, smooth reward (see module doc).

    Args:
        targets: ``{metric: target value}`` (targets must be non-zero).
        tolerance: relative tolerance for success, e.g. ``0.05`` = within 5 % of every target.
        modes: per metric ``"exact"`` (default: two-sided), ``"at_most"`` (only overshoot
            counts, e.g. a latency budget) or ``"at_least"`` (only undershoot counts).
        weights: per-metric weight in the reward (default 1 each).
        constraints: hard limits; a violating design is infeasible.
    """

    def __init__(
        self,
        targets: Mapping[str, float],
        tolerance: float = 0.05,
        modes: Mapping[str, TargetMode] | None = None,
        weights: Mapping[str, float] | None = None,
        constraints: Iterable[Constraint | str | Mapping] = (),
        infeasible_reward: float = 0.0,
    ) -> None:
        super().__init__(constraints, infeasible_reward)
        if not targets:
            raise ObjectiveError("TargetSpec needs at least one target, e.g. {'power_mw': 500}")
        self.targets = {str(k): float(v) for k, v in targets.items()}
        for k, v in self.targets.items():
            if v == 0 or not math.isfinite(v):
                raise ObjectiveError(f"target for {k!r} must be a non-zero finite number, got {v}")
        if not tolerance >= 0:
            raise ObjectiveError(f"tolerance must be >= 0, got {tolerance}")
        self.tolerance = float(tolerance)
        self.modes: dict[str, TargetMode] = {k: "exact" for k in self.targets}
        for k, m in (modes or {}).items():
            if k not in self.targets:
                raise ObjectiveError(
                    f"mode given for {k!r}, which has no target; targets: {', '.join(self.targets)}"
                )
            if m not in _MODES:
                raise ObjectiveError(f"mode for {k!r} must be one of {', '.join(_MODES)}, got {m!r}")
            self.modes[k] = m
        self.weights = {k: 1.0 for k in self.targets}
        for k, w in (weights or {}).items():
            if k not in self.targets:
                raise ObjectiveError(
                    f"weight given for {k!r}, which has no target; targets: {', '.join(self.targets)}"
                )
            if w < 0:
                raise ObjectiveError(f"weight for {k!r} must be >= 0, got {w}")
            self.weights[k] = float(w)
        if sum(self.weights.values()) <= 0:
            raise ObjectiveError("at least one target weight must be positive")

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(self.targets)

    def check_metrics(self, metrics: Sequence[Metric]) -> None:
        """Also refuse a negative target for a metric whose unit cannot be negative (time, power...)."""
        super().check_metrics(metrics)
        units = {m.name: m.unit for m in metrics}
        for k, v in self.targets.items():
            if v < 0 and units.get(k) in NONNEGATIVE_UNITS:
                raise ObjectiveError(
                    f"target for {k!r} must be positive ({k} is in {units[k]}, which cannot be "
                    f"negative), got {v}"
                )

    def distances(self, metrics: Mapping[str, float]) -> dict[str, float]:
        """Relative distance to each target (0 when a one-sided target is met)."""
        out = {}
        for k, t in self.targets.items():
            d = (metrics[k] - t) / abs(t)
            mode = self.modes[k]
            if mode == "at_most":
                d = max(d, 0.0)
            elif mode == "at_least":
                d = min(d, 0.0)
            out[k] = abs(d)
        return out

    def _score(self, metrics: Mapping[str, float]) -> tuple[float, bool]:
        d = self.distances(metrics)
        wsum = sum(self.weights.values())
        loss = sum(self.weights[k] * d[k] ** 2 for k in d) / wsum
        success = all(d[k] <= self.tolerance + 1e-12 for k in d)
        return 1.0 / (1.0 + loss), success

    def reference_scales(self) -> dict[str, float]:
        return {k: abs(v) for k, v in self.targets.items()}

    def __repr__(self) -> str:
        return f"TargetSpec(targets={self.targets}, tolerance={self.tolerance}, modes={self.modes})"


class WeightedSum(Objective):
    """Reward ``= -sum_i w_i * x_i / s_i`` (higher is better).

    A positive weight *minimises* a metric; a negative weight maximises it. ``scales``
    normalise metrics of different units (default 1). Optionally ``success_threshold``:
    success when the reward reaches it.
    """

    def __init__(
        self,
        weights: Mapping[str, float],
        scales: Mapping[str, float] | None = None,
        constraints: Iterable[Constraint | str | Mapping] = (),
        success_threshold: float | None = None,
        infeasible_reward: float = -math.inf,
    ) -> None:
        super().__init__(constraints, infeasible_reward)
        if not weights:
            raise ObjectiveError("WeightedSum needs at least one weight, e.g. {'latency_ms': 1.0}")
        self.weights = {str(k): float(v) for k, v in weights.items()}
        self.scales = {k: float((scales or {}).get(k, 1.0)) for k in self.weights}
        for k, s in self.scales.items():
            if not s > 0:
                raise ObjectiveError(f"scale for {k!r} must be > 0, got {s}")
        self.success_threshold = success_threshold

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(self.weights)

    def _score(self, metrics: Mapping[str, float]) -> tuple[float, bool]:
        r = -sum(w * metrics[k] / self.scales[k] for k, w in self.weights.items())
        ok = self.success_threshold is not None and r >= self.success_threshold
        return r, ok

    def reference_scales(self) -> dict[str, float]:
        return dict(self.scales)


def round_up_significant(x: float, digits: int = 2) -> float:
    """Round ``x`` up to ``digits`` significant digits, so a budget derived from a design still admits it."""
    if x <= 0 or not math.isfinite(x):
        return x
    exp = math.floor(math.log10(x)) - digits + 1
    return round(math.ceil(x / 10.0**exp) * 10.0**exp, max(0, -exp))


def build_objective(spec: Mapping | Objective | None, **defaults: Any) -> Objective:
    """Build an objective from a config mapping.

    ``{"targets": {...}, "tolerance": .., "modes": .., "constraints": [..]}`` gives a
    :class:`TargetSpec`; ``{"weights": {...}, ...}`` a :class:`WeightedSum`. ``defaults``
    fill keys the mapping does not set.
    """
    if isinstance(spec, Objective):
        return spec
    merged = {**defaults, **{k: v for k, v in dict(spec or {}).items() if v is not None}}
    if "weights" in merged and "targets" not in merged:
        return WeightedSum(**merged)
    if "targets" in merged:
        return TargetSpec(**merged)
    raise ObjectiveError("an objective needs 'targets' (target specification) or 'weights' (weighted sum)")


ConstraintSpec = Constraint | str | Mapping[str, Any]


def objective_from_config(
    metrics: Sequence[Metric],
    *,
    objective: Mapping[str, Any] | Objective | None = None,
    targets: Mapping[str, float] | None = None,
    default_targets: Callable[[], Mapping[str, float]] | None = None,
    tolerance: float = 0.05,
    modes: Mapping[str, str] | None = None,
    default_mode: TargetMode | None = None,
    weights: Mapping[str, float] | None = None,
    constraints: Iterable[ConstraintSpec] | None = None,
    budgets: Mapping[str, float | None] | None = None,
) -> Objective:
    """The objective of an env from its config keys (the one place every env builds it).

    * ``objective``: a full spec (see :func:`build_objective`) or an :class:`Objective`; it
      wins over ``targets``/``modes``/``weights``/``tolerance``.
    * otherwise a :class:`TargetSpec` on ``targets`` (default: ``default_targets()``, called
      only when needed, since deriving targets may cost simulations). A target's mode is
      ``modes[metric]`` if given, else ``default_mode``, else taken from the metric's
      direction (``at_least`` where higher is better, ``at_most`` otherwise).
    * ``constraints`` (``"area_mm2<=5"``, mappings or :class:`Constraint`) and ``budgets``
      (``{metric: upper bound or None}``, e.g. from an env's ``area_budget_mm2`` keyword) are
      hard limits added to either.

    Metric names are checked against ``metrics`` (the simulator's); every error is an
    :class:`ObjectiveError` naming the bad key and the allowed values.
    """
    cons = [Constraint.parse(c) for c in (constraints or ())]
    cons += [Constraint(m, "<=", float(b)) for m, b in (budgets or {}).items() if b is not None]
    if isinstance(objective, Objective):
        if cons:
            raise ObjectiveError(
                "constraints/budgets cannot be added to an Objective instance; put them in it"
            )
        obj: Objective = objective
    elif objective is not None:
        spec = dict(objective)
        spec["constraints"] = list(spec.get("constraints") or ()) + cons
        obj = build_objective(spec)
    else:
        if targets:
            tgt = {str(k): float(v) for k, v in targets.items()}
        elif default_targets is not None:
            tgt = dict(default_targets())
        else:
            raise ObjectiveError("targets: missing; give {metric: value} or a full objective")
        check_metric_names(tgt, metrics)
        better = {m.name: m.better for m in metrics}
        md: dict[str, TargetMode] = {}
        for k in tgt:
            md[k] = default_mode or ("at_least" if better[k] == "higher" else "at_most")
        for k, m in (modes or {}).items():
            if m not in _MODES:
                raise ObjectiveError(f"mode for {k!r} must be one of {', '.join(_MODES)}, got {m!r}")
            md[str(k)] = m  # type: ignore[assignment]  # checked against _MODES just above
        obj = TargetSpec(tgt, tolerance=tolerance, modes=md, weights=weights, constraints=cons)
    obj.check_metrics(metrics)
    return obj


#: the objective block's name for each target mode (``exact`` is written ``equal``)
_BLOCK_MODES = {"exact": "equal", "at_most": "at_most", "at_least": "at_least"}


def _number(x: float) -> float | str:
    """A float for JSON: non-finite values as strings (``"-inf"``), which JSON cannot hold."""
    return float(x) if math.isfinite(x) else str(float(x))


def objective_spec(objective: Objective) -> dict[str, Any]:
    """The objective as a plain, JSON-ready block (what ``summary.json`` and datasets carry).

    Target specifications give ``{"kind": "target_spec", "targets": [{metric, value, mode,
    weight}], "tolerance", "constraints", "infeasible_reward"}`` (modes ``at_most``,
    ``at_least`` or ``equal``); weighted sums ``{"kind": "weighted_sum", "terms": [{metric,
    weight, scale}], "success_threshold", "constraints", "infeasible_reward"}``. Another
    objective class gives ``{"kind": <class name>, "metrics": [...], "constraints": ...}``.
    """
    constraints = [{"metric": c.metric, "op": c.op, "bound": _number(c.bound)} for c in objective.constraints]
    common = {"constraints": constraints, "infeasible_reward": _number(objective.infeasible_reward)}
    if isinstance(objective, TargetSpec):
        targets = [
            {
                "metric": k,
                "value": _number(v),
                "mode": _BLOCK_MODES[objective.modes[k]],
                "weight": _number(objective.weights[k]),
            }
            for k, v in objective.targets.items()
        ]
        return {
            "kind": "target_spec",
            "targets": targets,
            "tolerance": _number(objective.tolerance),
            **common,
        }
    if isinstance(objective, WeightedSum):
        terms = [
            {"metric": k, "weight": _number(w), "scale": _number(objective.scales[k])}
            for k, w in objective.weights.items()
        ]
        threshold = objective.success_threshold
        return {
            "kind": "weighted_sum",
            "terms": terms,
            "success_threshold": None if threshold is None else _number(threshold),
            **common,
        }
    return {"kind": type(objective).__name__, "metrics": list(objective.metric_names), **common}


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys (non-JSON values as strings): equal values, equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, allow_nan=False)


def objective_hash(spec: Mapping[str, Any] | Objective) -> str:
    """12 hex digits of the SHA-256 of the objective block's canonical JSON."""
    block = objective_spec(spec) if isinstance(spec, Objective) else spec
    return hashlib.sha256(canonical_json(block).encode()).hexdigest()[:12]


__all__ = [
    "Constraint",
    "ConstraintSpec",
    "Objective",
    "ObjectiveError",
    "Score",
    "TargetSpec",
    "WeightedSum",
    "build_objective",
    "objective_from_config",
    "canonical_json",
    "objective_hash",
    "objective_spec",
    "round_up_significant",
]
