"""The simulator protocol: what every cost model (real simulator or trained proxy) offers.

A simulator declares the metrics it reports (name, unit, which direction is better), a
version/provenance string that goes into every dataset row, and evaluates designs on a
workload. ``evaluate_many`` is the batch form; the default loops over ``evaluate`` and
simulators override it when they can vectorise.

Simulators are deterministic: the same design, workload and seed give the same metrics.
Errors raised for one design are caught per design by :func:`evaluate_safely` so a run
continues and the failure is recorded in the dataset, never swallowed silently.
"""

from __future__ import annotations

import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from archgym.errors import InvalidWorkloadError as InvalidWorkloadError
from archgym.errors import SimulationError as SimulationError

Design = dict[str, Any]
Metrics = dict[str, float]


@dataclass(frozen=True)
class Metric:
    """One quantity a simulator reports.

    Attributes:
        name: column name in datasets, e.g. ``"avg_read_latency_ns"``.
        unit: physical unit, e.g. ``"ns"``, ``"mW"``, ``"GB/s"``, ``"1"`` for ratios.
        better: ``"lower"`` or ``"higher"``.
        scale: a typical magnitude used to normalise observations (not a bound).
        description: one line for ``--help`` and docs.
    """

    name: str
    unit: str
    better: Literal["lower", "higher"] = "lower"
    scale: float = 1.0
    description: str = ""

    def __post_init__(self) -> None:
        if self.better not in ("lower", "higher"):
            raise ValueError(f"Metric {self.name!r}: better must be 'lower' or 'higher', got {self.better!r}")
        if not self.scale > 0:
            raise ValueError(f"Metric {self.name!r}: scale must be > 0, got {self.scale!r}")


class Simulator(ABC):
    """Base class of all cost models.

    Subclasses set :attr:`metrics` and :attr:`version` and implement :meth:`evaluate`.
    """

    #: the metrics every evaluation returns, in a fixed order
    metrics: tuple[Metric, ...] = ()
    #: provenance string recorded in every dataset row (model name, version, device data)
    version: str = "unversioned"
    #: further per-design numbers an evaluation may report beside the metrics (e.g. a proxy's
    #: ``<metric>_std``); they are logged in ``extra.<name>`` columns, never scored
    extra_columns: tuple[str, ...] = ()

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.metrics)

    def metric(self, name: str) -> Metric:
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(f"unknown metric {name!r}; this simulator reports: {', '.join(self.metric_names)}")

    def check_workload(self, workload: Any) -> None:  # noqa: B027 (an optional hook: accept by default)
        """Raise :class:`InvalidWorkloadError` for a workload nothing can be simulated on.

        The env calls this once when it is built, so an unusable workload (say, an empty trace)
        is a configuration error rather than a run of failed evaluations. Default: accept.
        """

    @abstractmethod
    def evaluate(self, design: Mapping[str, Any], workload: Any) -> Metrics:
        """Simulate one design on a workload and return ``{metric name: value}``."""

    def evaluate_many(self, designs: Sequence[Mapping[str, Any]], workload: Any) -> list[Metrics]:
        """Simulate several designs; override to vectorise. Raises on the first failure."""
        return [self.evaluate(d, workload) for d in designs]


@dataclass
class Outcome:
    """What one simulator call produced for one design: metrics, or the error that stopped it."""

    metrics: Metrics | None
    error: str | None = None
    wall_time_s: float = 0.0
    #: the numbers of :attr:`Simulator.extra_columns` the simulator reported for this design
    extra: dict[str, float] = field(default_factory=dict)


def _describe(exc: BaseException) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" (at {frame.filename}:{frame.lineno})" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}"


def evaluate_safely(
    simulator: Simulator, designs: Sequence[Mapping[str, Any]], workload: Any
) -> list[Outcome]:
    """Evaluate designs, catching errors per design.

    Tries the (possibly vectorised) batch call first; if it raises, falls back to one
    call per design so that only the failing designs are marked as errors. Wall time is
    measured per design (the batch time is split evenly across the batch).
    """
    if not designs:
        return []
    start = time.perf_counter()
    try:
        results = simulator.evaluate_many(designs, workload)
        per = (time.perf_counter() - start) / len(designs)
        if len(results) != len(designs):
            raise SimulationError(
                f"{type(simulator).__name__}.evaluate_many returned {len(results)} results "
                f"for {len(designs)} designs"
            )
        return [_checked(simulator, r, per) for r in results]
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception:
        pass  # retry one design at a time below, so only the failing designs are marked
    outcomes = []
    for d in designs:
        t0 = time.perf_counter()
        try:
            m = simulator.evaluate(d, workload)
            outcomes.append(_checked(simulator, m, time.perf_counter() - t0))
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # recorded, not swallowed: goes into the dataset's error column
            outcomes.append(Outcome(None, _describe(exc), time.perf_counter() - t0))
    return outcomes


def _checked(simulator: Simulator, metrics: Mapping[str, float], wall: float) -> Outcome:
    missing = [n for n in simulator.metric_names if n not in metrics]
    if missing:
        return Outcome(None, f"SimulationError: simulator returned no value for {', '.join(missing)}", wall)
    extra = {n: float(metrics[n]) for n in simulator.extra_columns if n in metrics}
    return Outcome({n: float(metrics[n]) for n in simulator.metric_names}, None, wall, extra)
