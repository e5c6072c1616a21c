"""Turn a sweep directory into tables and figures: ``archgym report SWEEP_DIR [--out DIR]``.

Reads every run under the sweep (each directory with a ``summary.json`` and a
``dataset/``) and writes to ``--out`` (default ``SWEEP_DIR/report``):

* ``agents.csv`` / ``agents.md`` — one row per agent: runs, hyperparameter configs, seeds,
  best reward (max and median over runs), success rate over all runs, success rate of its
  best config over seeds, median evaluations to reach the target (successful runs), median
  wall time per run;
* ``configs.csv`` — one row per (agent, hyperparameter config) over its seeds;
* ``best_so_far.png`` — best reward so far vs evaluations, per agent, for the agent's best
  config: the median over seeds and the 25-75 % band;
* ``lottery.png`` — the hyperparameter lottery: per agent, the distribution over its
  hyperparameter grid of each config's median best reward and success rate over seeds;
* ``hypervolume.csv`` / ``hypervolume.png`` — for objectives over two or more metrics: each
  agent's hypervolume of the feasible front at the end and vs evaluations
  (:mod:`archgym.hypervolume`, reference point from each run's ``summary.json``);
* ``pareto.png`` — for runs with two or more metrics: every evaluated design in two metrics
  and each agent's Pareto front (directions from the env's metric definitions; "lower is
  better" when the env cannot be built).

A run's "best config" is the one with the highest success rate over seeds, ties broken by
the median best reward. Runs whose ``summary.json`` says ``complete: false`` are left out
(and counted in the printout).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from archgym.atomic import atomic_path, write_text_atomic
from archgym.dataset import load_dataset
from archgym.hypervolume import write_hypervolume_report
from archgym.logger import METRIC_PREFIX

SUMMARY_FILE = "summary.json"


@dataclass
class SweepData:
    """The runs of a sweep: one row per run, best-so-far curves, and every evaluated row."""

    runs: pd.DataFrame
    curves: dict[
        str, np.ndarray
    ]  # run_dir -> best reward so far after each evaluation (NaN before a feasible one)
    rows: pd.DataFrame
    incomplete: int


def best_so_far(df: pd.DataFrame) -> np.ndarray:
    """Best feasible reward after each evaluation of one run (rows in ``step`` order)."""
    df = df.sort_values("step")
    r = np.where(df["feasible"].to_numpy(bool), df["reward"].to_numpy(np.float64), -np.inf)
    cur = np.maximum.accumulate(r) if len(r) else r
    return np.where(np.isfinite(cur), cur, np.nan)


def load_sweep(sweep_dir: str | os.PathLike, progress: bool = False) -> SweepData:
    """Read every complete run under ``sweep_dir``.

    Raises:
        FileNotFoundError: the directory does not exist or holds no run.
    """
    from tqdm.auto import tqdm

    root = Path(sweep_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"no sweep directory at {root}")
    summaries = sorted(root.rglob(SUMMARY_FILE))
    records, curves, frames, incomplete = [], {}, [], 0
    for path in tqdm(summaries, desc="reading runs", unit="run", disable=not progress):
        s = json.loads(path.read_text())
        if not s.get("complete", False) or not (path.parent / "dataset").is_dir():
            incomplete += 1
            continue
        df = load_dataset(path.parent / "dataset")
        key = str(path.parent)
        curves[key] = best_so_far(df)
        frames.append(df.assign(run_dir=key))
        params = s.get("agent_params") or {}
        records.append(
            {
                "run_dir": key,
                "env_id": s.get("env_id"),
                "workload": s.get("workload"),
                "agent": s.get("agent"),
                "params": json.dumps(params, sort_keys=True, default=str),
                "seed": s.get("seed"),
                "evaluations": s.get("evaluations"),
                "best_reward": s.get("best_reward"),
                "success": bool(s.get("success")),
                "evaluations_to_target": s.get("evaluations_to_target"),
                "wall_time_s": s.get("wall_time_s"),
            }
        )
    if not records:
        raise FileNotFoundError(
            f"no complete run (a directory with {SUMMARY_FILE} and dataset/) under {root}"
        )
    runs = pd.DataFrame(records)
    runs["best_reward"] = runs["best_reward"].astype(float)
    runs["evaluations_to_target"] = runs["evaluations_to_target"].astype(float)
    return SweepData(runs, curves, pd.concat(frames, ignore_index=True, sort=False), incomplete)


def config_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (env, workload, agent, hyperparameter config), aggregated over seeds."""
    g = runs.groupby(["env_id", "workload", "agent", "params"], sort=True, dropna=False)
    out = g.agg(
        seeds=("seed", "nunique"),
        runs=("run_dir", "size"),
        success_rate=("success", "mean"),
        best_reward=("best_reward", "max"),
        median_best_reward=("best_reward", "median"),
        median_evals_to_target=("evaluations_to_target", "median"),
        median_wall_time_s=("wall_time_s", "median"),
    ).reset_index()
    return out.sort_values(
        ["agent", "success_rate", "median_best_reward"], ascending=[True, False, False]
    ).reset_index(drop=True)


def best_configs(configs: pd.DataFrame) -> pd.DataFrame:
    """Each (env, workload, agent)'s best config: highest success rate, then median best reward."""
    ranked = configs.sort_values(["success_rate", "median_best_reward"], ascending=False)
    return (
        ranked.groupby(["env_id", "workload", "agent"], sort=True, dropna=False)
        .head(1)
        .reset_index(drop=True)
    )


def agent_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (env, workload, agent) — see the module doc for the columns."""
    configs = config_table(runs)
    best = best_configs(configs).set_index(["env_id", "workload", "agent"])
    g = runs.groupby(["env_id", "workload", "agent"], sort=True, dropna=False)
    out = g.agg(
        runs=("run_dir", "size"),
        configs=("params", "nunique"),
        seeds=("seed", "nunique"),
        best_reward=("best_reward", "max"),
        median_best_reward=("best_reward", "median"),
        success_rate=("success", "mean"),
        median_evals_to_target=("evaluations_to_target", "median"),
        median_wall_time_s=("wall_time_s", "median"),
    )
    out["best_config_success_rate"] = best["success_rate"]
    out["best_config"] = best["params"]
    return out.reset_index()


def _markdown(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    fmt = lambda v: f"{v:.4g}" if isinstance(v, (float, np.floating)) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def _save_fig(fig: Any, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
    return path


def _padded(curves: Sequence[np.ndarray]) -> np.ndarray:
    """Stack curves of different lengths (early stops) by holding each one's last value."""
    n = max(len(c) for c in curves)
    return np.vstack([np.concatenate([c, np.full(n - len(c), c[-1] if len(c) else np.nan)]) for c in curves])


def plot_best_so_far(data: SweepData, path: Path) -> Path:
    """Median and 25-75 % band over seeds of each agent's best config (see module doc)."""
    import matplotlib.pyplot as plt

    configs = config_table(data.runs)
    best = best_configs(configs)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for row in best.itertuples(index=False):
        sel = data.runs[
            (data.runs["agent"] == row.agent)
            & (data.runs["params"] == row.params)
            & (data.runs["env_id"] == row.env_id)
            & (data.runs["workload"] == row.workload)
        ]
        curves = [data.curves[d] for d in sel["run_dir"] if len(data.curves[d])]
        if not curves:
            continue
        m = _padded(curves)
        x = np.arange(1, m.shape[1] + 1)
        with np.errstate(all="ignore"), _quiet():
            med, lo, hi = (np.nanpercentile(m, q, axis=0) for q in (50, 25, 75))
        n_cfg = int((configs["agent"] == row.agent).sum())
        label = f"{row.agent} (best of {n_cfg} configs, {len(curves)} seeds)"
        if data.runs["workload"].nunique() > 1:
            label += f" [{row.workload}]"
        (line,) = ax.plot(x, med, label=label)
        ax.fill_between(x, lo, hi, alpha=0.2, color=line.get_color())
    ax.set_xlabel("evaluations")
    ax.set_ylabel("best reward so far")
    ax.set_title("Best reward vs evaluations (median, 25-75 % over seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    out = _save_fig(fig, path)
    plt.close(fig)
    return out


class _quiet:
    """Silence numpy's all-NaN warnings inside a block."""

    def __enter__(self) -> None:
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: Any) -> None:
        self._w.__exit__(*exc)


def plot_lottery(data: SweepData, path: Path) -> Path:
    """Per agent: the distribution over its hyperparameter grid of median best reward and success rate."""
    import matplotlib.pyplot as plt

    configs = config_table(data.runs)
    agents = sorted(configs["agent"].unique())
    rng = np.random.default_rng(0)
    fig, axes = plt.subplots(1, 2, figsize=(max(7, 1.6 * len(agents) + 3), 4.5))
    for ax, col, label in (
        (axes[0], "median_best_reward", "median best reward over seeds"),
        (axes[1], "success_rate", "success rate over seeds"),
    ):
        values = [configs.loc[configs["agent"] == a, col].dropna().to_numpy() for a in agents]
        ax.boxplot([v if len(v) else [np.nan] for v in values], showfliers=False)
        ax.set_xticks(range(1, len(agents) + 1), agents)
        for i, v in enumerate(values, start=1):
            ax.scatter(i + rng.uniform(-0.15, 0.15, len(v)), v, s=14, alpha=0.7, zorder=3)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, axis="y")
    axes[1].set_ylim(-0.05, 1.05)
    n = configs.groupby("agent").size()
    axes[0].set_title(
        "Hyperparameter lottery: one point per config (" + ", ".join(f"{a}: {n[a]}" for a in agents) + ")",
        fontsize=9,
        loc="left",
    )
    fig.tight_layout()
    out = _save_fig(fig, path)
    plt.close(fig)
    return out


def pareto_mask(points: np.ndarray) -> np.ndarray:
    """Non-dominated rows of ``points`` where every column is to be minimised."""
    n = len(points)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        if not keep[i]:
            continue
        dominated = np.all(points <= points[i], axis=1) & np.any(points < points[i], axis=1)
        if dominated.any():
            keep[i] = False
    return keep


def env_metric_info(env_id: str, run_dir: str | None = None) -> tuple[dict[str, str], list[str]]:
    """``({metric: "lower"|"higher"}, objective metrics)`` of an env, built with the run's
    ``env.kwargs`` (from ``.hydra/config.yaml`` when present); empty when it cannot be built."""
    try:
        from archgym.registry import make_env

        kwargs: dict[str, Any] = {}
        cfg_file = Path(run_dir) / ".hydra" / "config.yaml" if run_dir else None
        if cfg_file is not None and cfg_file.exists():
            from omegaconf import OmegaConf

            kwargs = (
                OmegaConf.to_container(OmegaConf.load(cfg_file), resolve=False).get("env", {}).get("kwargs")
                or {}
            )
        env = make_env(env_id, **kwargs)
        base = env.unwrapped
        out = {m.name: m.better for m in base.simulator.metrics}, list(base.objective.metric_names)
        env.close()
        return out
    except Exception:  # reports must work on datasets of envs not installed here
        return {}, []


def plot_pareto(data: SweepData, path: Path, metrics: Sequence[str] | None = None) -> Path | None:
    """Two metrics of every evaluated design and each agent's Pareto front; ``None`` if under two metrics."""
    import matplotlib.pyplot as plt

    rows = data.rows
    env_id = str(rows["env_id"].iloc[0])
    rows = (
        rows[(rows["env_id"] == env_id) & rows["error"].isna()]
        if "error" in rows
        else rows[rows["env_id"] == env_id]
    )
    available = [
        c[len(METRIC_PREFIX) :] for c in rows.columns if c.startswith(METRIC_PREFIX) and rows[c].notna().any()
    ]
    better, objective = env_metric_info(env_id, str(rows["run_dir"].iloc[0]) if "run_dir" in rows else None)
    # default: the objective's metrics, then the first others
    preferred = [m for m in objective if m in available] + [m for m in available if m not in objective]
    chosen = list(metrics) if metrics else preferred[:2]
    unknown = [m for m in chosen if m not in available]
    if unknown:
        raise ValueError(
            f"unknown metric(s) {', '.join(unknown)} for --pareto; available: {', '.join(available)}"
        )
    if len(chosen) < 2:
        return None
    mx, my = chosen[:2]
    sign = np.array([1.0 if better.get(m, "lower") == "lower" else -1.0 for m in (mx, my)])
    fig, ax = plt.subplots(figsize=(6.5, 5))
    for agent in sorted(rows["agent"].unique()):
        pts = (
            rows.loc[rows["agent"] == agent, [METRIC_PREFIX + mx, METRIC_PREFIX + my]]
            .dropna()
            .to_numpy(np.float64)
        )
        if not len(pts):
            continue
        sc = ax.scatter(pts[:, 0], pts[:, 1], s=6, alpha=0.25)
        front = pts[pareto_mask(pts * sign)]
        front = front[np.argsort(front[:, 0])]
        ax.plot(
            front[:, 0],
            front[:, 1],
            "o-",
            ms=4,
            color=sc.get_facecolor()[0][:3],
            label=f"{agent} ({len(front)} on front)",
        )
    ax.set_xlabel(f"{mx} ({better.get(mx, 'lower')} is better)")
    ax.set_ylabel(f"{my} ({better.get(my, 'lower')} is better)")
    ax.set_title(f"Pareto fronts: {env_id}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    out = _save_fig(fig, path)
    plt.close(fig)
    return out


def make_report(
    sweep_dir: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    pareto_metrics: Sequence[str] | None = None,
    progress: bool = False,
) -> dict[str, Path]:
    """Write the tables and figures of a sweep (see module doc); returns ``{name: path}``."""
    import matplotlib

    matplotlib.use("Agg")
    data = load_sweep(sweep_dir, progress)
    out = Path(out_dir) if out_dir is not None else Path(sweep_dir) / "report"
    out.mkdir(parents=True, exist_ok=True)
    agents, configs = agent_table(data.runs), config_table(data.runs)
    files: dict[str, Path] = {}
    for name, df in (("agents", agents), ("configs", configs)):
        write_text_atomic(out / f"{name}.csv", df.to_csv(index=False))
        files[f"{name}.csv"] = out / f"{name}.csv"
    write_text_atomic(out / "agents.md", _markdown(agents.drop(columns=["best_config"])))
    files["agents.md"] = out / "agents.md"
    files["best_so_far.png"] = plot_best_so_far(data, out / "best_so_far.png")
    files["lottery.png"] = plot_lottery(data, out / "lottery.png")
    pareto = plot_pareto(data, out / "pareto.png", pareto_metrics)
    if pareto is not None:
        files["pareto.png"] = pareto
    files.update(write_hypervolume_report(data.rows, out))  # multi-metric objectives only
    return files


def format_agents(agents: pd.DataFrame) -> str:
    """The agent table as fixed-width text."""
    cols = [
        "agent",
        "runs",
        "configs",
        "seeds",
        "best_reward",
        "median_best_reward",
        "success_rate",
        "best_config_success_rate",
        "median_evals_to_target",
        "median_wall_time_s",
    ]
    with pd.option_context(
        "display.width", 200, "display.max_columns", 20, "display.float_format", "{:.4g}".format
    ):
        return agents[cols].to_string(index=False)


def main(argv: Sequence[str]) -> int:
    """``archgym report SWEEP_DIR [--out DIR] [--pareto METRIC,METRIC]``."""
    parser = argparse.ArgumentParser(
        prog="archgym report",
        description="Summarise a sweep directory: a table per agent (best reward, evaluations to reach the target, "
        "success rate over seeds, wall time), a table per hyperparameter config, and PNG figures: best "
        "reward vs evaluations per agent (median and spread over seeds), the hyperparameter lottery "
        "(outcomes over each agent's grid) and the Pareto front of two metrics.",
    )
    parser.add_argument(
        "sweep_dir", help="a sweep directory (e.g. multirun/lottery_dram) or any directory of runs"
    )
    parser.add_argument("-o", "--out", help="output directory (default SWEEP_DIR/report)")
    parser.add_argument(
        "--pareto", help="two comma-separated metrics for pareto.png (default: the first two)"
    )
    args = parser.parse_args(list(argv))
    files = make_report(
        args.sweep_dir, args.out, args.pareto.split(",") if args.pareto else None, progress=True
    )
    data_agents = pd.read_csv(files["agents.csv"])
    print(format_agents(data_agents))
    print()
    for name, path in files.items():
        print(f"wrote {path}")
    return 0


__all__ = [
    "SweepData",
    "agent_table",
    "best_so_far",
    "config_table",
    "load_sweep",
    "make_report",
    "pareto_mask",
    "plot_best_so_far",
    "plot_lottery",
    "plot_pareto",
    "env_metric_info",
    "main",
]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
