"""Scores that compare agents across tasks: normalised best reward, evaluations to target, hypervolume.

A *task* is what one suite entry fixes: env, workload, objective (its hash), budget and source
(simulator or proxy). Runs of one task are comparable; runs of different tasks are not, until
each run's best reward is put on the task's own scale::

    score = (best_reward - random_median) / (best - random_median)

* ``random_median`` (score 0): the median over seeds of random search's best reward at the
  task's budget;
* ``best`` (score 1): the best reward any run of any agent reached on the task.

Both come from the suite's recorded reference (``suite.reference`` in ``conf/suite/<name>.yaml``,
:mod:`archgym.suite`) when the runs' task, objective and budget match it, so a new agent is scored
on the same scale as the leaderboard (it may score above 1 by beating every recorded run);
otherwise from the runs being scored (``reference_source`` says which). A run that found no
feasible design has best reward 0 (the objectives' infeasible reward). Where the two anchors
coincide (random search already reaches the best reward) a run scores 1 if it reaches it, else 0.

Per run, also: ``evaluations_to_target`` (``NaN`` when the target was not met) and, for objectives
over two or more metrics, ``normalised_hypervolume``: the run's final hypervolume
(:mod:`archgym.hypervolume`) over the largest any run of the task reached.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from archgym.suite import Reference, Suite, load_suite

#: columns that identify a task among a sweep's runs
TASK_KEYS = ["task", "env_id", "workload", "objective_hash", "budget", "source"]
#: the agent whose median defines score 0
RANDOM_AGENT = "random"
#: anchors closer than this count as equal (the degenerate case in the module doc)
_EPS = 1e-12


def _run_files(run_dir: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A run's ``summary.json`` and ``.hydra/config.yaml`` (empty where absent)."""
    import yaml

    d = Path(run_dir)
    summary = json.loads((d / "summary.json").read_text()) if (d / "summary.json").is_file() else {}
    cfg_file = d / ".hydra" / "config.yaml"
    config = (yaml.safe_load(cfg_file.read_text()) or {}) if cfg_file.is_file() else {}
    return summary, config


def with_tasks(runs: pd.DataFrame) -> pd.DataFrame:
    """``runs`` (one row per run, as :func:`archgym.report.load_sweep` reads them) plus task columns.

    Adds ``task`` (the suite's task name, else ``<env>/<workload>``), ``suite`` (its name or ""),
    ``budget`` and ``hypervolume`` (final value, ``NaN`` for single-metric objectives).
    """
    extra = []
    for run_dir, env_id, workload in zip(runs["run_dir"], runs["env_id"], runs["workload"]):
        summary, config = _run_files(str(run_dir))
        suite = (
            (config.get("suite") or {}).get("name", "") if isinstance(config.get("suite"), Mapping) else ""
        )
        task = (
            str(config["task"])
            if suite and config.get("task")
            else f"{str(env_id).split('/')[-1]}/{workload}"
        )
        hv = (summary.get("hypervolume") or {}).get("value")
        extra.append(
            {
                "task": task,
                "suite": str(suite),
                "budget": summary.get("budget", np.nan),
                "hypervolume": float(hv) if hv is not None else np.nan,
            }
        )
    out = runs.drop(columns=[c for c in ("task", "suite", "budget", "hypervolume") if c in runs])
    return pd.concat([out.reset_index(drop=True), pd.DataFrame(extra)], axis=1)


def task_references(runs: pd.DataFrame, suite: Suite | None = None) -> pd.DataFrame:
    """One row per task: ``random_median``, ``best``, ``reference_source`` (``suite`` or ``runs``).

    ``runs`` must have the task columns (:func:`with_tasks`). A task without a recorded
    reference and without random-search runs gets ``NaN`` anchors (its scores are ``NaN``).
    """
    rows = []
    for key, grp in runs.groupby(TASK_KEYS, sort=True, dropna=False):
        rec = dict(zip(TASK_KEYS, key))
        recorded = _recorded(suite, rec)
        if recorded is not None:
            rec.update(random_median=recorded.random_median, best=recorded.best, reference_source="suite")
        else:
            rewards = grp["best_reward"].fillna(0.0)
            random = rewards[grp["agent"] == RANDOM_AGENT]
            rec.update(
                random_median=float(random.median()) if len(random) else np.nan,
                best=float(rewards.max()),
                reference_source="runs",
            )
        rows.append(rec)
    return pd.DataFrame(rows, columns=[*TASK_KEYS, "random_median", "best", "reference_source"])


def _recorded(suite: Suite | None, task: Mapping[str, Any]) -> Reference | None:
    if suite is None or task["task"] not in suite.reference:
        return None
    ref = suite.reference[task["task"]]
    spec = suite.tasks.get(str(task["task"]))
    if spec is not None and spec.budget != task["budget"]:
        return None
    if ref.objective_hash and ref.objective_hash != task["objective_hash"]:
        return None
    return ref


def normalised_score(best_reward: np.ndarray, random_median: np.ndarray, best: np.ndarray) -> np.ndarray:
    """``(r - random_median) / (best - random_median)``; 1/0 (reached / not) where the anchors coincide."""
    r = np.nan_to_num(np.asarray(best_reward, np.float64), nan=0.0)
    lo, hi = np.asarray(random_median, np.float64), np.asarray(best, np.float64)
    span = hi - lo
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = (r - lo) / span
    degenerate = np.where(r >= hi - _EPS, 1.0, 0.0)
    return np.where(np.abs(span) > _EPS, scaled, np.where(np.isnan(span), np.nan, degenerate))


def run_scores(runs: pd.DataFrame, suite: Suite | str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per run: ``score``, ``evaluations_to_target``, ``normalised_hypervolume``; and the task references.

    ``suite`` (a :class:`~archgym.suite.Suite` or its name) supplies recorded references; by
    default the suite named in the runs' config, if any.
    """
    runs = runs if "task" in runs else with_tasks(runs)
    if suite is None:
        names = sorted({s for s in runs["suite"] if s})
        suite = names[0] if len(names) == 1 else None
    if isinstance(suite, str):
        suite = load_suite(suite)
    refs = task_references(runs, suite)
    merged = runs.merge(refs, on=TASK_KEYS, how="left")
    merged["score"] = normalised_score(
        merged["best_reward"].to_numpy(np.float64), merged["random_median"], merged["best"]
    )
    hv_max = merged.groupby(TASK_KEYS, dropna=False)["hypervolume"].transform("max")
    with np.errstate(divide="ignore", invalid="ignore"):
        merged["normalised_hypervolume"] = np.where(hv_max > 0, merged["hypervolume"] / hv_max, np.nan)
    return merged, refs


def score_matrix(
    scored: pd.DataFrame, value: str = "score"
) -> tuple[dict[str, np.ndarray], list[str], dict[str, list[str]]]:
    """Per agent, a ``(runs x tasks)`` matrix of ``value`` (rliable's layout), the task order, and
    the agents left out with the tasks they have no run on.

    Every agent is compared on every task: run ``i`` of an agent is its ``i``-th seed present on
    every task (seeds missing on some task are left out), and an agent with no run on some task
    (e.g. grid search, which refuses spaces too large to grid) is left out of the matrices.
    """
    tasks = sorted(scored["task"].astype(str).unique())
    out: dict[str, np.ndarray] = {}
    missing: dict[str, list[str]] = {}
    for agent, grp in scored.groupby("agent", sort=True):
        table = grp.pivot_table(index="seed", columns="task", values=value, aggfunc="mean")
        absent = [t for t in tasks if t not in table.columns]
        if absent:
            missing[str(agent)] = absent
            continue
        table = table.reindex(columns=tasks).dropna(axis=0, how="any")
        if len(table):
            out[str(agent)] = table.to_numpy(np.float64)
    return out, tasks, missing


__all__ = [
    "RANDOM_AGENT",
    "TASK_KEYS",
    "normalised_score",
    "run_scores",
    "score_matrix",
    "task_references",
    "with_tasks",
]
