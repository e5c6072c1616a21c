"""Statistics over normalised scores with rliable (Agarwal et al., NeurIPS 2021).

Everything here calls rliable's own functions on ``(runs x tasks)`` score matrices
(:func:`archgym.scores.score_matrix`): the interquartile mean and the mean with stratified
bootstrap 95 % confidence intervals (rliable's ``get_interval_estimates`` on its ``StratifiedBootstrap``: :func:`interval_estimates`),
performance profiles, i.e. the fraction of runs scoring above tau, with their bands
(``rliable.library.score_distributions``, bootstrapped the same way), and the probability of improvement of
every agent over every other (:func:`rliable.metrics.probability_of_improvement`, with its
interval). ``pip install -e ".[suite]"`` installs rliable.

The bootstrap is seeded (``seed``), so the same runs give the same intervals.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

#: bootstrap replications (rliable's default is 50,000; 2,000 gives intervals stable to ~0.01)
DEFAULT_REPS = 2000
#: score thresholds of the performance profiles
PROFILE_TAUS = np.linspace(-0.5, 1.25, 71)


def _rliable() -> Any:
    try:
        from rliable import library, metrics
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('the suite statistics need rliable: pip install -e ".[suite]"') from exc
    return library, metrics


def _bootstraps() -> tuple[type, type]:
    """rliable's two stratified bootstraps, runnable on arch 8.

    rliable 1.2 hands ``random_state=`` to arch's bootstrap constructors, a keyword arch 8 (the
    first arch that imports under pandas 3) renamed ``seed``. A class between rliable's and
    arch's in the method order takes the old name; nothing else changes. rliable draws its
    indices from numpy's global generator, which :func:`_seeded` seeds and restores.
    """
    import arch.bootstrap as arch_bs

    library, _ = _rliable()

    class _IID(arch_bs.IIDBootstrap):
        def __init__(self, *args: Any, random_state: Any = None, **kwargs: Any) -> None:
            super().__init__(*args, seed=random_state, **kwargs)

    class _Independent(arch_bs.IndependentSamplesBootstrap):
        def __init__(self, *args: Any, random_state: Any = None, **kwargs: Any) -> None:
            super().__init__(*args, seed=random_state, **kwargs)

    stratified: Any = library.StratifiedBootstrap
    independent: Any = library.StratifiedIndependentBootstrap

    class Stratified(stratified, _IID):
        pass

    class StratifiedIndependent(independent, _Independent):
        pass

    return Stratified, StratifiedIndependent


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Seed numpy's global generator for rliable's resampling, then put its state back."""
    state = np.random.get_state()  # noqa: NPY002 (rliable resamples with the global generator)
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def interval_estimates(
    score_dict: Mapping[str, Any], func: Callable[..., np.ndarray], reps: int = DEFAULT_REPS, seed: int = 0
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """rliable's ``get_interval_estimates`` (percentile, 95 %) on its stratified bootstraps.

    A value is a ``(runs x tasks)`` matrix, or a tuple of them for a function of several
    (resampled independently, as rliable does for the probability of improvement).
    """
    stratified, independent = _bootstraps()
    points, intervals = {}, {}
    with _seeded(seed):
        for key, scores in score_dict.items():
            if isinstance(scores, np.ndarray):
                bs, points[key] = stratified(scores), func(scores)
            else:
                bs, points[key] = independent(*scores), func(*scores)
            intervals[key] = bs.conf_int(func, reps=reps, size=0.95, method="percentile")
    return points, intervals


def aggregate_scores(
    scores: Mapping[str, np.ndarray], reps: int = DEFAULT_REPS, seed: int = 0
) -> pd.DataFrame:
    """IQM and mean with stratified-bootstrap 95 % intervals, one row per agent, best IQM first."""
    _, metrics = _rliable()

    def func(x: np.ndarray) -> np.ndarray:
        return np.array([metrics.aggregate_iqm(x), metrics.aggregate_mean(x)])

    points, intervals = interval_estimates(scores, func, reps, seed)
    rows = [
        {
            "agent": agent,
            "runs": scores[agent].shape[0],
            "tasks": scores[agent].shape[1],
            "iqm": points[agent][0],
            "iqm_lo": intervals[agent][0, 0],
            "iqm_hi": intervals[agent][1, 0],
            "mean": points[agent][1],
            "mean_lo": intervals[agent][0, 1],
            "mean_hi": intervals[agent][1, 1],
        }
        for agent in scores
    ]
    table = pd.DataFrame(rows)
    return table.sort_values(["iqm", "mean"], ascending=False).reset_index(drop=True)


def performance_profiles(
    scores: Mapping[str, np.ndarray], taus: np.ndarray = PROFILE_TAUS, reps: int = DEFAULT_REPS, seed: int = 0
) -> pd.DataFrame:
    """Fraction of runs (over every task) scoring above each tau, with its 95 % band: long format."""
    library, _ = _rliable()

    def profile(x: np.ndarray) -> np.ndarray:
        return np.asarray(library.score_distributions(x, taus))

    profiles, cis = interval_estimates(scores, profile, reps, seed)
    frames = [
        pd.DataFrame(
            {
                "agent": agent,
                "tau": taus,
                "fraction": profiles[agent],
                "lo": cis[agent][0],
                "hi": cis[agent][1],
            }
        )
        for agent in scores
    ]
    return pd.concat(frames, ignore_index=True)


def improvement_probabilities(
    scores: Mapping[str, np.ndarray], reps: int = DEFAULT_REPS, seed: int = 0
) -> pd.DataFrame:
    """P(X > Y) for every ordered pair of agents with its 95 % interval (rliable's paired form).

    Computed once per unordered pair: P(Y > X) = 1 - P(X > Y) (ties count one half).
    """
    _, metrics = _rliable()
    agents = sorted(scores)
    pairs = {f"{x}|{y}": (scores[x], scores[y]) for i, x in enumerate(agents) for y in agents[i + 1 :]}
    if not pairs:
        return pd.DataFrame(columns=["x", "y", "p", "lo", "hi"])

    def func(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.array([metrics.probability_of_improvement(a, b)])

    points, intervals = interval_estimates(pairs, func, reps, seed)
    rows = []
    for key in pairs:
        x, y = key.split("|")
        p, lo, hi = points[key][0], intervals[key][0, 0], intervals[key][1, 0]
        rows.append({"x": x, "y": y, "p": p, "lo": lo, "hi": hi})
        rows.append({"x": y, "y": x, "p": 1.0 - p, "lo": 1.0 - hi, "hi": 1.0 - lo})
    return pd.DataFrame(rows).sort_values(["x", "y"]).reset_index(drop=True)


__all__ = [
    "DEFAULT_REPS",
    "PROFILE_TAUS",
    "aggregate_scores",
    "improvement_probabilities",
    "interval_estimates",
    "performance_profiles",
]
