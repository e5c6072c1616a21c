"""Hypervolume of a run's feasible Pareto front, against a recorded reference point.

For an objective over two or more metrics, the quality of a *set* of designs is the volume
of metric space that its feasible designs dominate, bounded by a reference point (Zitzler &
Thiele 1998). Every metric is first normalised by the env's reference scale ``s_i`` (the
objective's target, else the simulator's declared scale: what the env divides observations
by) and oriented so that larger is better::

    lower-is-better:   y_i = (r_i - x_i) / s_i        r_i = REFERENCE_FACTOR * s_i
    higher-is-better:  y_i = (x_i - r_i) / s_i        r_i = s_i / REFERENCE_FACTOR

so the reference point sits at the origin and is "twice as bad as the target" in every
metric (``REFERENCE_FACTOR = 2``). A design outside that box adds nothing. The figure is
unitless, comparable across agents, seeds and runs of the same env and objective, and the
reference point (in the metrics' own units) is written next to it, in ``summary.json``.

The computation is BoTorch's exact box-decomposition hypervolume
(:class:`botorch.utils.multi_objective.hypervolume.Hypervolume`) on the non-dominated set.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from archgym.atomic import atomic_path, write_text_atomic
from archgym.logger import METRIC_PREFIX

#: the reference point is this many times worse than the reference scale in every metric
REFERENCE_FACTOR = 2.0


@dataclass(frozen=True)
class HypervolumeReference:
    """Which metrics, in which direction, normalised how, against which reference point."""

    metrics: tuple[str, ...]
    better: tuple[str, ...]  # "lower" | "higher" per metric
    scale: tuple[float, ...]  # normalisation per metric, in its units
    reference: tuple[float, ...]  # reference point per metric, in its units

    @classmethod
    def for_env(cls, env: Any) -> HypervolumeReference | None:
        """The reference of an env's objective; ``None`` when it reads fewer than two metrics."""
        base = env.unwrapped
        names = tuple(base.objective.metric_names)
        if len(names) < 2:
            return None
        metric = {m.name: m for m in base.simulator.metrics}
        scales = {n: metric[n].scale for n in names}
        scales.update({k: v for k, v in base.objective.reference_scales().items() if k in scales})
        better = tuple(metric[n].better for n in names)
        scale = tuple(abs(float(scales[n])) for n in names)
        ref = tuple(
            s * REFERENCE_FACTOR if b == "lower" else s / REFERENCE_FACTOR for s, b in zip(scale, better)
        )
        return cls(names, better, scale, ref)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> HypervolumeReference:
        return cls(
            tuple(d["metrics"]),
            tuple(d["better"]),
            tuple(float(x) for x in d["scale"]),
            tuple(float(x) for x in d["reference"]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) for k, v in asdict(self).items()}

    def oriented(self, values: np.ndarray) -> np.ndarray:
        """Raw metric rows ``(n, k)`` -> normalised, larger-is-better, reference at 0."""
        x = np.asarray(values, dtype=np.float64).reshape(-1, len(self.metrics))
        sign = np.array([-1.0 if b == "lower" else 1.0 for b in self.better])
        return sign * (x - np.asarray(self.reference)) / np.asarray(self.scale)


def hypervolume(points: np.ndarray) -> float:
    """Hypervolume dominated by oriented points (larger is better) above the origin."""
    import torch
    from botorch.utils.multi_objective.hypervolume import Hypervolume
    from botorch.utils.multi_objective.pareto import is_non_dominated

    p = np.asarray(points, dtype=np.float64)
    p = p[np.isfinite(p).all(axis=1) & (p > 0).all(axis=1)] if p.size else p.reshape(0, 1)
    if len(p) == 0:
        return 0.0
    y = torch.as_tensor(p)
    front = y[is_non_dominated(y)]
    return float(Hypervolume(torch.zeros(y.shape[1], dtype=y.dtype)).compute(front))


def hypervolume_curve(points: np.ndarray, feasible: Sequence[bool]) -> np.ndarray:
    """Hypervolume of the feasible designs among the first ``t`` evaluations, for every ``t``.

    Recomputed only when a design lands outside the current front's dominated region.
    """
    p = np.asarray(points, dtype=np.float64)
    out = np.zeros(len(p))
    front = np.empty((0, p.shape[1] if p.ndim == 2 else 1))
    hv = 0.0
    for t, (row, ok) in enumerate(zip(p, feasible)):
        if ok and np.isfinite(row).all() and (row > 0).all():
            dominated = len(front) and bool(np.any(np.all(front >= row, axis=1)))
            if not dominated:
                front = np.vstack([front[~np.all(row >= front, axis=1)], row])
                hv = hypervolume(front)
        out[t] = hv
    return out


class HypervolumeTracker:
    """A recorder (``env.add_recorder``) keeping a run's hypervolume as it goes."""

    def __init__(self, reference: HypervolumeReference) -> None:
        self.reference = reference
        self._rows: list[list[float]] = []
        self._feasible: list[bool] = []

    @classmethod
    def for_env(cls, env: Any) -> HypervolumeTracker | None:
        ref = HypervolumeReference.for_env(env)
        return None if ref is None else cls(ref)

    def __call__(self, ev: Any) -> None:
        m = ev.metrics or {}
        self._rows.append([float(m.get(n, math.nan)) for n in self.reference.metrics])
        self._feasible.append(bool(ev.feasible))

    def value(self) -> float:
        y = self.reference.oriented(np.asarray(self._rows)) if self._rows else np.empty((0, 1))
        return hypervolume(y[np.asarray(self._feasible, dtype=bool)]) if self._rows else 0.0

    def summary(self) -> dict[str, Any]:
        """What ``summary.json`` records: the value, the reference point and how it is normalised."""
        return {"value": self.value(), "reference_factor": REFERENCE_FACTOR, **self.reference.to_dict()}


def run_curves(rows: Any) -> dict[str, tuple[str, np.ndarray]]:
    """``run_dir -> (agent, hypervolume after each evaluation)`` for the runs of a sweep.

    ``rows`` is the sweep's dataset (one row per evaluation, with ``run_dir``, ``agent``,
    ``step``, ``feasible`` and the ``metric.*`` columns); each run's reference point is
    read from its ``summary.json``. Runs without one (single-metric objectives) are skipped.
    """
    out: dict[str, tuple[str, np.ndarray]] = {}
    for run_dir, df in rows.groupby("run_dir", sort=True):
        summary_file = Path(str(run_dir)) / "summary.json"
        try:
            recorded = json.loads(summary_file.read_text()).get("hypervolume")
        except (OSError, ValueError):
            recorded = None
        if not recorded:
            continue
        ref = HypervolumeReference.from_dict(recorded)
        cols = [METRIC_PREFIX + n for n in ref.metrics]
        if not all(c in df.columns for c in cols):
            continue
        df = df.sort_values("step")
        curve = hypervolume_curve(ref.oriented(df[cols].to_numpy(np.float64)), df["feasible"].to_numpy(bool))
        out[str(run_dir)] = (str(df["agent"].iloc[0]), curve)
    return out


def plot_hypervolume(curves: Mapping[str, Sequence[np.ndarray]], path: str | os.PathLike) -> Path:
    """Median (and 25-75 % band) hypervolume vs evaluations, one line per agent."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for agent, runs in sorted(curves.items()):
        n = max(len(c) for c in runs)
        m = np.vstack([np.concatenate([c, np.full(n - len(c), c[-1] if len(c) else 0.0)]) for c in runs])
        x = np.arange(1, n + 1)
        med, lo, hi = (np.percentile(m, q, axis=0) for q in (50, 25, 75))
        (line,) = ax.plot(x, med, label=f"{agent} ({len(runs)} runs)")
        ax.fill_between(x, lo, hi, alpha=0.2, color=line.get_color())
    ax.set_xlabel("evaluations")
    ax.set_ylabel(f"hypervolume (normalised, reference = {REFERENCE_FACTOR:g}x target)")
    ax.set_title("Hypervolume of the feasible front vs evaluations (median, 25-75 %)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return Path(path)


def write_hypervolume_report(rows: Any, out_dir: str | os.PathLike) -> dict[str, Path]:
    """``hypervolume.csv`` (per agent: runs, median / max final hypervolume) and
    ``hypervolume.png``; nothing when no run recorded a reference point."""
    import pandas as pd

    per_run = run_curves(rows)
    if not per_run:
        return {}
    by_agent: dict[str, list[np.ndarray]] = {}
    for agent, curve in per_run.values():
        by_agent.setdefault(agent, []).append(curve)
    table = pd.DataFrame(
        [
            {
                "agent": a,
                "runs": len(cs),
                "median_hypervolume": float(np.median([c[-1] if len(c) else 0.0 for c in cs])),
                "max_hypervolume": float(max(c[-1] if len(c) else 0.0 for c in cs)),
            }
            for a, cs in sorted(by_agent.items())
        ]
    )
    out = Path(out_dir)
    write_text_atomic(out / "hypervolume.csv", table.to_csv(index=False))
    return {
        "hypervolume.csv": out / "hypervolume.csv",
        "hypervolume.png": plot_hypervolume(by_agent, out / "hypervolume.png"),
    }
