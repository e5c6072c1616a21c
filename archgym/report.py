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
  and each agent's Pareto front, one panel per env (directions and units from the dataset's
  metadata; "lower is better" for datasets older than schema 2). The legend counts the
  distinct designs on each front; an axis is logarithmic when its metric spans more than two
  decades.

Every table has the env (``env_id``, ``workload``) and the ``source`` (``simulator`` or
``proxy``) of its runs; runs evaluated by a proxy are never pooled with simulated ones and
are labelled "(proxy)" in the figures. Each agent has one colour in every figure.

A run's "best config" is the one with the highest success rate over seeds, ties broken by
the median best reward. Runs are left out, with a line on stderr saying which and why, when
their ``summary.json`` says ``complete: false``, or when their objective differs from the one
most runs of their env share (``objective=HASH`` chooses another): rewards of different
targets cannot be compared.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from archgym.atomic import atomic_path, write_text_atomic
from archgym.dataset import DatasetMetadata, dataset_metadata, load_dataset, param_columns
from archgym.hypervolume import write_hypervolume_report
from archgym.logger import METRIC_PREFIX
from archgym.objective import objective_hash
from archgym.provenance import SIMULATOR_SOURCE

SUMMARY_FILE = "summary.json"
#: what identifies a group of comparable runs in every table
GROUP_KEYS = ["env_id", "workload", "source", "agent"]


@dataclass
class SweepData:
    """The runs of a sweep: one row per run, best-so-far curves, and every evaluated row."""

    runs: pd.DataFrame
    curves: dict[
        str, np.ndarray
    ]  # run_dir -> best reward so far after each evaluation (NaN before a feasible one)
    rows: pd.DataFrame
    incomplete: int
    #: run directory -> why it was left out
    dropped: dict[str, str] = field(default_factory=dict)
    metadata: DatasetMetadata = field(default_factory=lambda: DatasetMetadata(()))


def best_so_far(df: pd.DataFrame) -> np.ndarray:
    """Best feasible reward after each evaluation of one run (rows in ``step`` order)."""
    df = df.sort_values("step")
    r = np.where(df["feasible"].to_numpy(bool), df["reward"].to_numpy(np.float64), -np.inf)
    cur = np.maximum.accumulate(r) if len(r) else r
    return np.where(np.isfinite(cur), cur, np.nan)


def _summary_objective_hash(s: dict[str, Any]) -> str:
    if s.get("objective_hash"):
        return str(s["objective_hash"])
    return objective_hash(s["objective"]) if s.get("objective") else ""


def load_sweep(
    sweep_dir: str | os.PathLike, progress: bool = False, objective: str | None = None
) -> SweepData:
    """Read every complete run under ``sweep_dir`` whose objective is its env's chosen one.

    Per env, the objective most runs share is kept (``objective`` names another by hash);
    left-out runs are listed in :attr:`SweepData.dropped` with the reason.

    Raises:
        FileNotFoundError: the directory does not exist or holds no run.
    """
    from tqdm.auto import tqdm

    root = Path(sweep_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"no sweep directory at {root}")
    summaries: list[tuple[Path, dict[str, Any]]] = []
    dropped: dict[str, str] = {}
    for path in sorted(root.rglob(SUMMARY_FILE)):
        s = json.loads(path.read_text())
        if not s.get("complete", False) or not (path.parent / "dataset").is_dir():
            dropped[str(path.parent)] = "incomplete (summary says complete: false or no dataset/)"
        else:
            summaries.append((path, s))
    chosen = _chosen_objectives(summaries, objective)
    records, curves, frames = [], {}, []
    for path, s in tqdm(summaries, desc="reading runs", unit="run", disable=not progress):
        h = _summary_objective_hash(s)
        if h != chosen.get(s.get("env_id")):
            dropped[str(path.parent)] = (
                f"different objective ({h or 'not recorded'}; this report uses {chosen.get(s.get('env_id'))} "
                f"for {s.get('env_id')})"
            )
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
                "source": "proxy" if s.get("source", SIMULATOR_SOURCE) != SIMULATOR_SOURCE else "simulator",
                "objective_hash": h,
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
            + (f" ({len(dropped)} left out: {next(iter(dropped.values()))})" if dropped else "")
        )
    runs = pd.DataFrame(records)
    runs["best_reward"] = runs["best_reward"].astype(float)
    runs["evaluations_to_target"] = runs["evaluations_to_target"].astype(float)
    incomplete = sum(1 for why in dropped.values() if why.startswith("incomplete"))
    meta = dataset_metadata([Path(d) / "dataset" for d in runs["run_dir"]])
    rows = pd.concat(frames, ignore_index=True, sort=False)
    return SweepData(runs, curves, rows, incomplete, dropped, meta)


def _chosen_objectives(
    summaries: Sequence[tuple[Path, dict[str, Any]]], wanted: str | None
) -> dict[Any, str]:
    """Per env id: ``wanted`` when its runs have it, else the objective hash most of its runs share."""
    counts: dict[Any, dict[str, int]] = {}
    for _, s in summaries:
        per_env = counts.setdefault(s.get("env_id"), {})
        h = _summary_objective_hash(s)
        per_env[h] = per_env.get(h, 0) + 1
    return {
        env: wanted if wanted in c else max(c, key=lambda h: (c[h], h != "")) for env, c in counts.items()
    }


def config_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (env, workload, source, agent, hyperparameter config), aggregated over seeds."""
    g = runs.groupby([*GROUP_KEYS, "params"], sort=True, dropna=False)
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
    """Each (env, workload, source, agent)'s best config: highest success rate, then median best reward."""
    ranked = configs.sort_values(["success_rate", "median_best_reward"], ascending=False)
    return ranked.groupby(GROUP_KEYS, sort=True, dropna=False).head(1).reset_index(drop=True)


def agent_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (env, workload, source, agent) — see the module doc for the columns."""
    configs = config_table(runs)
    best = best_configs(configs).set_index(GROUP_KEYS)
    g = runs.groupby(GROUP_KEYS, sort=True, dropna=False)
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


def agent_colours(agents: Sequence[str]) -> dict[str, Any]:
    """One colour per agent (sorted by name), the same in every figure of a report."""
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if len(set(agents)) <= 10 else "tab20"]
    return {a: cmap(i % cmap.N) for i, a in enumerate(sorted(set(agents)))}


def _line_style(source: str) -> str:
    return "--" if source != SIMULATOR_SOURCE else "-"


def _label(agent: str, source: str) -> str:
    return f"{agent} (proxy)" if source != SIMULATOR_SOURCE else agent


def plot_best_so_far(data: SweepData, path: Path) -> Path:
    """Median and 25-75 % band over seeds of each agent's best config (see module doc)."""
    import matplotlib.pyplot as plt

    configs = config_table(data.runs)
    best = best_configs(configs)
    colours = agent_colours(data.runs["agent"].tolist())
    several_envs = data.runs[["env_id", "workload"]].drop_duplicates().shape[0] > 1
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for row in best.itertuples(index=False):
        sel = data.runs[
            (data.runs["agent"] == row.agent)
            & (data.runs["params"] == row.params)
            & (data.runs["env_id"] == row.env_id)
            & (data.runs["workload"] == row.workload)
            & (data.runs["source"] == row.source)
        ]
        curves = [data.curves[d] for d in sel["run_dir"] if len(data.curves[d])]
        if not curves:
            continue
        m = _padded(curves)
        x = np.arange(1, m.shape[1] + 1)
        with np.errstate(all="ignore"), _quiet():
            med, lo, hi = (np.nanpercentile(m, q, axis=0) for q in (50, 25, 75))
        n_cfg = int(((configs["agent"] == row.agent) & (configs["env_id"] == row.env_id)).sum())
        agent, source, env_id = str(row.agent), str(row.source), str(row.env_id)
        label = f"{_label(agent, source)} (best of {n_cfg} configs, {len(curves)} seeds)"
        if several_envs:
            label += f" [{env_id.split('/')[-1]} {row.workload}]"
        colour = colours[agent]
        ax.plot(x, med, _line_style(source), color=colour, label=label)
        ax.fill_between(x, lo, hi, alpha=0.2, color=colour)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("best reward so far")
    envs = ", ".join(sorted(set(data.runs["env_id"].astype(str))))
    ax.set_title(f"Best reward vs evaluations (median, 25-75 % over seeds): {envs}", fontsize=9)
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
    colours = agent_colours(agents)
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
            ax.scatter(
                i + rng.uniform(-0.15, 0.15, len(v)),
                v,
                s=14,
                alpha=0.7,
                zorder=3,
                color=colours[agents[i - 1]],
            )
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


def spans_decades(values: np.ndarray, decades: float = 2.0) -> bool:
    """True when positive ``values`` span more than ``decades`` powers of ten (then use a log axis)."""
    v = values[np.isfinite(values)]
    if not len(v) or v.min() <= 0:
        return False
    return bool(np.log10(v.max() / v.min()) > decades)


def objective_metrics(block: dict[str, Any]) -> list[str]:
    """The metrics an objective block reads (targets or weighted terms), in order."""
    return [t["metric"] for t in block.get("targets", block.get("terms", []))]


def _pareto_metrics(
    rows: pd.DataFrame, data: SweepData, metrics: Sequence[str] | None, env_id: str
) -> list[str] | None:
    available = [
        c[len(METRIC_PREFIX) :] for c in rows.columns if c.startswith(METRIC_PREFIX) and rows[c].notna().any()
    ]
    hashes = set(data.runs.loc[data.runs["env_id"] == env_id, "objective_hash"])
    objective = [m for h in hashes for m in objective_metrics(data.metadata.objectives.get(h, {}))]
    preferred = [m for m in dict.fromkeys(objective) if m in available]
    preferred += [m for m in available if m not in preferred]
    chosen = list(metrics) if metrics else preferred[:2]
    unknown = [m for m in chosen if m not in available]
    if unknown:
        raise ValueError(
            f"unknown metric(s) {', '.join(unknown)} for --pareto on {env_id}; "
            f"available: {', '.join(available)}"
        )
    return chosen[:2] if len(chosen) >= 2 else None


def pareto_designs(rows: pd.DataFrame, mx: str, my: str, meta: DatasetMetadata) -> pd.DataFrame:
    """The distinct designs (by ``param.*``) on the Pareto front of two metrics, sorted by ``mx``.

    A design evaluated several times (by several runs, or cached) counts once.
    """
    cols = [METRIC_PREFIX + mx, METRIC_PREFIX + my]
    rows = rows.dropna(subset=cols).drop_duplicates(subset=param_columns(rows) or cols)
    sign = np.array([1.0 if meta.better(m) == "lower" else -1.0 for m in (mx, my)])
    front = rows.loc[pareto_mask(rows[cols].to_numpy(np.float64) * sign)]
    return front.sort_values(cols[0])


def _axis_label(meta: DatasetMetadata, metric: str) -> str:
    unit = meta.unit(metric)
    return (
        f"{metric}" + (f" [{unit}]" if unit and unit != "1" else "") + f" ({meta.better(metric)} is better)"
    )


def plot_pareto(data: SweepData, path: Path, metrics: Sequence[str] | None = None) -> Path | None:
    """Every evaluated design in two metrics and each agent's Pareto front, one panel per env.

    ``None`` when no env has two metrics. Directions and units come from the dataset's metadata.
    """
    import matplotlib.pyplot as plt

    rows = data.rows[data.rows["error"].isna()] if "error" in data.rows else data.rows
    envs = sorted(set(data.runs["env_id"].astype(str)))
    panels: list[tuple[str, list[str]]] = []
    for e in envs:
        chosen = _pareto_metrics(rows[rows["env_id"] == e], data, metrics, e)
        if chosen is not None:
            panels.append((e, chosen))
    if not panels:
        return None
    colours = agent_colours(data.runs["agent"].tolist())
    sources = data.runs.set_index("run_dir")["source"]
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 5), squeeze=False)
    for ax, (env_id, (mx, my)) in zip(axes[0], panels):
        env_rows = rows[rows["env_id"] == env_id]
        cols = [METRIC_PREFIX + mx, METRIC_PREFIX + my]
        groups = env_rows.assign(_source=env_rows["run_dir"].map(sources)).groupby(["agent", "_source"])
        for (agent, source), grp in sorted(groups, key=lambda kv: kv[0]):
            grp = grp.dropna(subset=cols).drop_duplicates(subset=param_columns(grp) or cols)
            if grp.empty:
                continue
            pts = grp[cols].to_numpy(np.float64)
            colour = colours[agent]
            ax.scatter(pts[:, 0], pts[:, 1], s=6, alpha=0.25, color=colour)
            front = pareto_designs(grp, mx, my, data.metadata)[cols].to_numpy(np.float64)
            ax.plot(
                front[:, 0],
                front[:, 1],
                "o" + _line_style(source),
                ms=4,
                color=colour,
                label=f"{_label(agent, source)} ({len(front)} designs on front)",
            )
        values = env_rows[cols].to_numpy(np.float64)
        if spans_decades(values[:, 0]):
            ax.set_xscale("log")
        if spans_decades(values[:, 1]):
            ax.set_yscale("log")
        ax.set_xlabel(_axis_label(data.metadata, mx))
        ax.set_ylabel(_axis_label(data.metadata, my))
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
    objective: str | None = None,
) -> dict[str, Path]:
    """Write the tables and figures of a sweep (see module doc); returns ``{name: path}``.

    Runs left out (incomplete, another objective) are named on stderr with the reason.
    """
    import matplotlib

    matplotlib.use("Agg")
    data = load_sweep(sweep_dir, progress, objective)
    for run_dir, why in data.dropped.items():
        print(f"archgym report: left out {run_dir}: {why}", file=sys.stderr)
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
        "env_id",
        "workload",
        "source",
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


__all__ = [
    "SweepData",
    "agent_table",
    "best_so_far",
    "config_table",
    "load_sweep",
    "make_report",
    "pareto_designs",
    "pareto_mask",
    "plot_best_so_far",
    "plot_lottery",
    "plot_pareto",
    "agent_colours",
    "format_agents",
    "objective_metrics",
    "spans_decades",
]
