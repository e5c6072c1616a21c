"""The leaderboard of a suite run: agents ranked by normalised score with rliable's intervals.

:func:`leaderboard` reads a sweep (:func:`archgym.report.load_sweep`), scores every run
(:mod:`archgym.scores`) and aggregates per agent (:mod:`archgym.stats`):

* ``leaderboard.csv`` / ``leaderboard.md``: per agent, IQM and mean normalised score with
  stratified-bootstrap 95 % intervals, runs and tasks behind them, success rate, median
  evaluations to target and mean normalised hypervolume (multi-metric tasks);
* ``tasks.csv``: per task and agent, median score and its runs, success rate, median
  evaluations to target; and the task's two anchors and where they come from;
* ``improvement.csv``: the probability that each agent beats each other one, with intervals;
* ``profiles.csv``: performance profiles (fraction of runs above each score) with bands;
* ``lottery.csv``: per agent and hyperparameter configuration, the median normalised score
  over its runs and whether it met the target on at least half of them.

Agents are ranked on every task of the sweep; an agent with no run on some task is named
below the table and left out of the ranking (its tasks are in ``tasks.csv``). When an agent ran several configurations (the lottery suite), its leaderboard row pools them:
that is the lottery's question, "what does a user who picks a configuration at random get".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from archgym.atomic import write_text_atomic
from archgym.report import SweepData
from archgym.scores import TASK_KEYS, run_scores, score_matrix
from archgym.stats import DEFAULT_REPS, aggregate_scores, improvement_probabilities, performance_profiles


@dataclass
class Leaderboard:
    """Everything the leaderboard files and the HTML report show."""

    scored: pd.DataFrame  # one row per run, with task columns, score, evaluations_to_target
    references: pd.DataFrame  # one row per task: random_median, best, reference_source
    table: pd.DataFrame  # one row per agent
    tasks: pd.DataFrame  # one row per (task, agent)
    improvement: pd.DataFrame  # x, y, p, lo, hi
    profiles: pd.DataFrame  # agent, tau, fraction, lo, hi
    lottery: pd.DataFrame  # agent, params, runs, median_score, success_rate, meets_target
    #: agents left out of the comparison: the tasks they have no run on
    left_out: dict[str, list[str]]


def leaderboard(data: SweepData, suite: str | None = None, reps: int = DEFAULT_REPS) -> Leaderboard:
    """Score and aggregate a sweep's runs (see module doc)."""
    scored, refs = run_scores(data.runs, suite)
    matrices, _, left_out = score_matrix(scored[scored["score"].notna()])
    table = aggregate_scores(matrices, reps=reps) if matrices else pd.DataFrame(columns=["agent"])
    per_agent = scored.groupby("agent").agg(
        success_rate=("success", "mean"),
        median_evals_to_target=("evaluations_to_target", "median"),
        normalised_hypervolume=("normalised_hypervolume", "mean"),
    )
    table = table.merge(per_agent.reset_index(), on="agent", how="left")
    return Leaderboard(
        scored=scored,
        references=refs,
        table=table,
        tasks=task_table(scored),
        improvement=improvement_probabilities(matrices, reps=max(200, reps // 4)),
        profiles=performance_profiles(matrices, reps=reps) if matrices else pd.DataFrame(),
        lottery=lottery_table(scored),
        left_out=left_out,
    )


def task_table(scored: pd.DataFrame) -> pd.DataFrame:
    """Per task and agent: median score, runs, success rate, median evaluations to target."""
    g = scored.groupby([*TASK_KEYS, "random_median", "best", "reference_source", "agent"], dropna=False)
    out = g.agg(
        runs=("run_dir", "size"),
        median_score=("score", "median"),
        success_rate=("success", "mean"),
        median_evals_to_target=("evaluations_to_target", "median"),
        median_wall_time_s=("wall_time_s", "median"),
    ).reset_index()
    return out.sort_values(["task", "median_score"], ascending=[True, False]).reset_index(drop=True)


def lottery_table(scored: pd.DataFrame) -> pd.DataFrame:
    """Per agent and configuration: median score over its runs, success rate, meets the target."""
    g = scored.groupby(["agent", "params"], dropna=False)
    out = g.agg(
        runs=("run_dir", "size"), median_score=("score", "median"), success_rate=("success", "mean")
    ).reset_index()
    out["meets_target"] = out["success_rate"] >= 0.5
    return out.sort_values(["agent", "median_score"], ascending=[True, False]).reset_index(drop=True)


def _interval(v: float, lo: float, hi: float) -> str:
    return f"{v:.3f} [{lo:.3f}, {hi:.3f}]" if np.isfinite(v) else "n/a"


def leaderboard_markdown(board: Leaderboard) -> str:
    """The leaderboard as a Markdown table (intervals in brackets), then the tasks' anchors."""
    lines = [
        "| rank | agent | IQM score [95 % CI] | mean score [95 % CI] | runs x tasks | success rate | "
        "median evals to target |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(board.table.to_dict("records"), start=1):
        e = float(r["median_evals_to_target"])
        evals = f"{e:.0f}" if np.isfinite(e) else "-"
        iqm = _interval(float(r["iqm"]), float(r["iqm_lo"]), float(r["iqm_hi"]))
        mean = _interval(float(r["mean"]), float(r["mean_lo"]), float(r["mean_hi"]))
        lines.append(
            f"| {i} | {r['agent']} | {iqm} | {mean} | {r['runs']} x {r['tasks']} | {r['success_rate']:.2f} | {evals} |"
        )
    for agent, tasks in board.left_out.items():
        lines.append(
            f"\n{agent} is not ranked: no run on {', '.join(tasks)} (see tasks.csv for its other tasks)."
        )
    lines += [
        "",
        "| task | budget | random median (score 0) | best (score 1) | from |",
        "|---|---|---|---|---|",
    ]
    for ref in board.references.to_dict("records"):
        lines.append(
            f"| {ref['task']} | {ref['budget']} | {float(ref['random_median']):.4f} | {float(ref['best']):.4f} "
            f"| {ref['reference_source']} |"
        )
    return "\n".join(lines) + "\n"


def write_leaderboard(board: Leaderboard, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write the CSV and Markdown files of the module doc into ``out_dir``; returns ``{name: path}``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "leaderboard.csv": board.table,
        "tasks.csv": board.tasks,
        "improvement.csv": board.improvement,
        "profiles.csv": board.profiles,
        "lottery.csv": board.lottery,
    }
    written = {}
    for name, df in files.items():
        write_text_atomic(out / name, df.to_csv(index=False))
        written[name] = out / name
    write_text_atomic(out / "leaderboard.md", leaderboard_markdown(board))
    written["leaderboard.md"] = out / "leaderboard.md"
    return written


__all__ = [
    "Leaderboard",
    "leaderboard",
    "leaderboard_markdown",
    "lottery_table",
    "task_table",
    "write_leaderboard",
]
