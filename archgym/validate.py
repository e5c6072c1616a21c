"""``archgym validate``: re-evaluate a dataset's best designs with a second simulator.

    archgym validate runs/accelerator/random/seed0-... --simulator zigzag --top 10

(the command line is :mod:`archgym.cli.validate`).

Generic over environments: the dataset names its env (``env_id``); the env is rebuilt (with
``-k key=value`` constructor arguments, e.g. ``-k workload=resnet18``), the second simulator
is attached the same way ``env.simulator=NAME`` does in a run (``native``, ``proxy`` or an
env's own, e.g. the accelerator's ``zigzag``), and the selected designs are evaluated by it:

* the ``--top`` designs with the highest reward, plus every design on the Pareto front of
  the objective's target metrics (``--no-pareto`` to skip), without duplicates;
* per metric it prints the Spearman rank correlation between the two simulators and the
  median / min / max ratio second / first;
* the second simulator's rows are written as a dataset under ``<dataset>/validation-<name>``
  (``simulator_version`` names the second simulator, ``source`` is its provenance label,
  ``agent`` is ``validate``); :func:`archgym.dataset.load_dataset` returns them only with
  ``include_validation=True``, told apart by ``simulator_version``.

Core module: it never imports an env; it goes through the registry and the env's API.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from archgym.dataset import load_dataset, param_columns
from archgym.logger import METRIC_PREFIX, PARAM_PREFIX, DatasetLogger, RunInfo
from archgym.objective import objective_spec
from archgym.provenance import archgym_version, simulator_source, workload_hash
from archgym.registry import make_env
from archgym.report import pareto_mask
from archgym.simulator import evaluate_safely, use_simulator


@dataclass
class MetricComparison:
    """How the second simulator's values of one metric compare with the first's."""

    metric: str
    n: int
    spearman: float
    ratio_median: float
    ratio_min: float
    ratio_max: float


@dataclass
class ValidationReport:
    env_id: str
    workload: str
    first: str
    second: str
    designs: list[dict[str, Any]]
    first_metrics: list[dict[str, float]]
    second_metrics: list[dict[str, float] | None]
    errors: list[str | None]
    comparisons: list[MetricComparison]
    output: Path | None

    def table(self) -> str:
        lines = [
            f"{self.env_id} [{self.workload}]: {len(self.designs)} designs, {self.first} vs {self.second}",
            f"{'metric':<18} {'n':>4} {'spearman':>9} {'ratio med':>10} {'min':>8} {'max':>8}",
        ]
        for c in self.comparisons:
            lines.append(
                f"{c.metric:<18} {c.n:>4} {c.spearman:>9.3f} {c.ratio_median:>10.3f} "
                f"{c.ratio_min:>8.3f} {c.ratio_max:>8.3f}"
            )
        failed = sum(e is not None for e in self.errors)
        if failed:
            lines.append(f"{failed} design(s) failed on {self.second}; see the error column of the rows")
        if self.output is not None:
            lines.append(f"rows written to {self.output}")
        return "\n".join(lines)


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman rank correlation (average ranks for ties); NaN with < 2 points or no spread."""
    x, y = pd.Series(list(a), dtype=float), pd.Series(list(b), dtype=float)
    return float(x.corr(y, method="spearman")) if len(x) >= 2 else math.nan


def select_designs(
    df: pd.DataFrame, metrics: Sequence[str], higher: Sequence[bool], top: int, pareto: bool
) -> pd.DataFrame:
    """The ``top`` rows by reward plus the Pareto front on ``metrics`` (valid rows, unique designs)."""
    pcols = param_columns(df)
    ok = df[df["error"].isna()] if "error" in df else df
    mcols = [METRIC_PREFIX + m for m in metrics]
    ok = ok.dropna(subset=mcols).drop_duplicates(subset=pcols)
    if ok.empty:
        raise ValueError("the dataset has no successfully evaluated design to validate")
    picked = ok.sort_values("reward", ascending=False, kind="stable").head(top)
    if pareto and mcols:
        sign = np.where(np.asarray(higher), -1.0, 1.0)  # minimise every column
        front = ok[pareto_mask(ok[mcols].to_numpy(dtype=float) * sign)]
        picked = pd.concat([picked, front]).drop_duplicates(subset=pcols)
    return picked


def recorded_env_kwargs(df: pd.DataFrame, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The env keyword arguments the runs recorded (``env_kwargs`` column), updated by ``given``.

    Runs with different recorded kwargs need them given (``-k key=value``) for the keys that differ.
    """
    recorded = [json.loads(v) for v in df["env_kwargs"].dropna().unique()] if "env_kwargs" in df else []
    base: dict[str, Any] = dict(recorded[0]) if len(recorded) == 1 else {}
    if len(recorded) > 1:
        shared = {k: v for k, v in recorded[0].items() if all(r.get(k) == v for r in recorded[1:])}
        base = shared
    return {**base, **dict(given or {})}


def validate(
    paths: Sequence[str | Path],
    simulator: Mapping[str, Any],
    env_kwargs: Mapping[str, Any] | None = None,
    top: int = 10,
    pareto: bool = True,
    write: bool = True,
    progress: bool = True,
) -> ValidationReport:
    """Re-evaluate the best / Pareto designs of the datasets at ``paths`` (see the module docstring)."""
    # a proxy run's rows are what a proxy validation checks; earlier validations' rows are not candidates
    df = load_dataset(*paths, include_proxy=True)
    envs = df["env_id"].unique().tolist()
    if len(envs) != 1:
        raise ValueError(f"the dataset mixes environments {envs}; validate one at a time")
    first_versions = sorted(set(df["simulator_version"].astype(str)))
    kwargs = recorded_env_kwargs(df, env_kwargs)
    env = make_env(str(envs[0]), **kwargs)
    base: Any = env.unwrapped
    workloads = df["workload"].astype(str).unique().tolist()
    if str(base.workload_name) not in workloads:
        raise ValueError(
            f"the dataset's workload(s) {workloads} differ from the env's {base.workload_name!r}; "
            "pass the env's workload with -k workload=NAME"
        )
    df = df.loc[df["workload"].astype(str) == str(base.workload_name)]
    first_name = first_versions[0] if len(first_versions) == 1 else ", ".join(first_versions)
    use_simulator(base, simulator)
    second = base.simulator
    targets = list(getattr(base.evaluator.objective, "targets", {}) or second.metric_names)
    higher = [second.metric(m).better == "higher" for m in targets]
    rows = select_designs(df, targets, higher, top, pareto)
    names = list(base.space.names)
    designs = [base.space.validate({n: r[PARAM_PREFIX + n] for n in names}) for _, r in rows.iterrows()]
    first = [{m: float(r[METRIC_PREFIX + m]) for m in second.metric_names} for _, r in rows.iterrows()]
    outcomes = []
    it: Any = designs
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(designs, desc=f"validate with {simulator.get('name')}", unit="design")
    for d in it:
        outcomes.extend(evaluate_safely(second, [d], base.prepared_workload.data))
    comps = []
    for m in second.metric_names:
        pairs = [(f[m], o.metrics[m]) for f, o in zip(first, outcomes) if o.metrics is not None]
        pairs = [(a, b) for a, b in pairs if np.isfinite(a) and np.isfinite(b)]
        ratios = [b / a for a, b in pairs if a != 0]
        if not pairs:
            continue
        comps.append(
            MetricComparison(
                m,
                len(pairs),
                spearman([a for a, _ in pairs], [b for _, b in pairs]),
                float(np.median(ratios)) if ratios else math.nan,
                float(np.min(ratios)) if ratios else math.nan,
                float(np.max(ratios)) if ratios else math.nan,
            )
        )
    out = None
    if write:
        out = _write(
            Path(paths[0]),
            base,
            second,
            designs,
            outcomes,
            str(simulator.get("name")),
            kwargs,
        )
    return ValidationReport(
        str(envs[0]),
        str(base.workload_name),
        first_name,
        second.version,
        designs,
        first,
        [o.metrics for o in outcomes],
        [o.error for o in outcomes],
        comps,
        out,
    )


def _write(
    path: Path,
    base: Any,
    second: Any,
    designs: list,
    outcomes: list,
    name: str,
    env_kwargs: Mapping[str, Any],
) -> Path:
    from archgym.evaluation import Evaluation

    root = path if path.is_dir() else path.parent
    out = root / f"validation-{name}"
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    info = RunInfo(
        run_id=f"validate-{stamp}-{uuid.uuid4().hex[:8]}",
        env_id=str(base.env_id),
        workload=str(base.workload_name),
        simulator_version=str(second.version),
        agent="validate",
        seed=0,
        objective=objective_spec(base.evaluator.objective),
        metrics=tuple(second.metrics),
        env_kwargs=dict(env_kwargs),
        workload_hash=workload_hash(base.workload_name),
        source=simulator_source(second),
        archgym_version=archgym_version(),
    )
    with DatasetLogger(out, info, base.space, second.metric_names, flush_every=max(1, len(designs))) as log:
        for step, (d, o) in enumerate(zip(designs, outcomes), 1):
            score = base.evaluator.objective(o.metrics)
            log.log(
                Evaluation(
                    design=d,
                    metrics=o.metrics,
                    reward=score.reward,
                    feasible=score.feasible and o.error is None,
                    success=score.success and o.error is None,
                    error=o.error,
                    wall_time_s=o.wall_time_s,
                    cached=False,
                    step=step,
                )
            )
    return out
