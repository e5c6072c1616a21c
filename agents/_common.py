"""Small helpers shared by the search agents: hyperparameter checks and fitness.

Kept private (``_common``): agents' public API is their class and its constructor.
"""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from archgym.design_space import design_key as design_key
from archgym.env import unwrap
from archgym.errors import ConfigError
from archgym.evaluation import Evaluation

#: fitness of an infeasible or failed design (below any finite reward)
INFEASIBLE = -math.inf


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """Return ``value`` as an int, or raise ``ValueError`` naming the parameter and range."""
    rng = f"[{low}, {high}]" if high is not None else f">= {low}"
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        and not (isinstance(value, float) and value.is_integer())
    ):
        raise ConfigError(f"{name} must be an integer {rng}, got {value!r}")
    v = int(value)
    if v < low or (high is not None and v > high):
        raise ConfigError(f"{name} must be an integer {rng}, got {v}")
    return v


def check_float(
    name: str,
    value: Any,
    low: float,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float in the interval, or raise ``ValueError`` naming it."""
    lb, rb = ("(" if low_open else "["), (")" if high_open else "]")
    rng = f"in {lb}{low}, {high}{rb}" if high is not None else f"{'>' if low_open else '>='} {low}"
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number {rng}, got {value!r}") from None
    bad_low = v <= low if low_open else v < low
    bad_high = high is not None and (v >= high if high_open else v > high)
    if math.isnan(v) or bad_low or bad_high:
        raise ConfigError(f"{name} must be a number {rng}, got {value!r}")
    return v


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise ``ValueError`` listing them."""
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def fitness(ev: Evaluation) -> float:
    """What the population-based agents maximise: the reward, or ``-inf`` when infeasible."""
    return float(ev.reward) if ev.feasible and math.isfinite(ev.reward) else INFEASIBLE


def index_key(idx: Iterable[int]) -> tuple[int, ...]:
    """Hashable identity of an index vector."""
    return tuple(int(i) for i in idx)


def mutate_indices(
    space: Any,
    idx: np.ndarray,
    rng: np.random.Generator,
    prob: float,
    step: int = 0,
    at_least_one: bool = False,
) -> np.ndarray:
    """Mutate an index vector gene by gene.

    Each parameter mutates with probability ``prob``; with ``at_least_one`` one random
    mutable parameter mutates for sure. A categorical parameter jumps to another choice
    uniformly; an ordered one is redrawn uniformly (``step == 0``) or moved by
    ``1..step`` index positions up or down (``step > 0``), clipped to its range.
    """
    out = np.array(idx, dtype=np.int64, copy=True)
    nvec = space.nvec
    movable = np.flatnonzero(nvec > 1)
    if movable.size == 0:
        return out
    mask = rng.random(len(nvec)) < prob
    mask &= nvec > 1
    if at_least_one and not mask.any():
        mask[int(rng.choice(movable))] = True
    for j in np.flatnonzero(mask):
        p, n, cur = space.params[j], int(nvec[j]), int(out[j])
        if p.is_categorical or step <= 0:
            new = int(rng.integers(0, n - 1))
            out[j] = new + (new >= cur)  # uniform over the other n - 1 values
        else:
            delta = int(rng.integers(1, step + 1)) * (1 if rng.random() < 0.5 else -1)
            new = int(np.clip(cur + delta, 0, n - 1))
            if new == cur:
                new = int(np.clip(cur - delta, 0, n - 1))
            out[j] = new
    return out


@contextlib.contextmanager
def isolated_global_rngs(seed: int, num_threads: int = 0, cuda: bool = False) -> Iterator[None]:
    """Seed the global RNGs that libraries use internally, and restore them afterwards.

    BoTorch and Stable-Baselines3 draw from torch's global generator (and SB3 also from
    numpy's and python's legacy global ones). Inside this block they are seeded from the
    agent's seed; on exit the previous states (and torch's CPU thread count, when
    ``num_threads > 0`` changed it) are put back, so agents leave no global trace.
    """
    import torch

    # the legacy global numpy generator is the point here: SB3 draws from it
    np_state = np.random.get_state()  # noqa: NPY002
    py_state, threads = random.getstate(), torch.get_num_threads()
    devices = list(range(torch.cuda.device_count())) if cuda else []
    try:
        if num_threads > 0:
            torch.set_num_threads(num_threads)
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            random.seed(seed)
            np.random.seed(seed % 2**32)  # noqa: NPY002
            yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)  # noqa: NPY002
        if num_threads > 0:
            torch.set_num_threads(threads)


@dataclass(frozen=True)
class MetricDirections:
    """What a metric-optimising agent learns from the env it is bound to (:meth:`of`): every
    metric's better direction and the objective's own metrics."""

    better: Mapping[str, str]  # metric -> "lower" | "higher"
    objective_metrics: tuple[str, ...] = ()

    @classmethod
    def of(cls, env: Any) -> MetricDirections:
        """The directions of a (possibly wrapped) archgym env's simulator metrics."""
        base = unwrap(env)
        return cls({m.name: m.better for m in base.simulator.metrics}, tuple(base.objective.metric_names))

    def sign(self, name: str) -> float:
        """+1 for a metric to maximise, -1 for one to minimise."""
        return 1.0 if self.better[name] == "higher" else -1.0

    def select(self, metrics: Sequence[str] | None, minimum: int = 1, what: str = "this agent") -> list[str]:
        """``metrics`` if given (checked), else the objective's (if at least ``minimum``), else all.

        Raises:
            ConfigError: an unknown metric, or fewer than ``minimum`` metrics to optimise.
        """
        if metrics is not None:
            names = list(metrics)
        elif len(self.objective_metrics) >= minimum:
            names = list(self.objective_metrics)
        else:
            names = list(self.better)
        unknown = [m for m in names if m not in self.better]
        if unknown:
            raise ConfigError(f"metrics: unknown metric(s) {unknown}; allowed: {', '.join(self.better)}")
        if len(names) < minimum:
            raise ConfigError(
                f"{what} needs at least {minimum} metrics; the simulator reports only {len(names)}"
            )
        return names
