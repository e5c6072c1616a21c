"""Turn a sweep directory into tables and figures: ``archgym report SWEEP_DIR [--out DIR]``.

Reads every run under the sweep (each directory with a ``summary.json`` and a
``dataset/``) and writes to ``--out`` (default ``SWEEP_DIR/report``):

* ``agents.csv`` / ``agents.md`` — one row per agent: runs, hyperparameter configs, seeds,
  best reward (max and median over runs), success rate over all runs, success rate of its
  best config over seeds, median evaluations to reach the target (successful runs), median
  wall time per run;
* ``configs.csv`` — one row per configuration over its seeds: a configuration is every value
  that can differ between runs of a sweep — env, workload, env kwargs, source, objective
  (``objective_hash``), ``budget``, agent and hyperparameters — so runs of different budgets
  are never pooled; configurations whose runs proposed the same designs seed for seed (e.g.
  random search with another ``batch_size``) name each other in ``identical_to``;
* ``best_so_far.png`` — per agent, its best config over *all* its seeds: the median and
  25-75 % band of the best reward so far (a seed with no feasible design yet counts as the
  objective's infeasible reward, 0), the reward a design at the target's tolerance has (the
  target line), and beside it the fraction of seeds that met the target vs evaluations;
* ``lottery.png`` — the hyperparameter lottery: per agent, one point per distinct config
  (identical configs merged, marked ``xN``) for the median best reward, the success rate and
  the median evaluations to the target over seeds (a seed that never met it counts as never;
  configs whose median seed never met it are drawn as crosses at the top), with a legend;
* ``pareto.csv`` — each agent's Pareto front of *feasible* designs (metrics, ``feasible``,
  reward, agent, the run that found it);
* ``hypervolume.csv`` / ``hypervolume.png`` — for objectives over two or more metrics: each
  agent's hypervolume of the feasible front at the end and vs evaluations
  (:mod:`archgym.hypervolume`, reference point from each run's ``summary.json``);
* ``pareto.png`` — for runs with two or more metrics: every evaluated design in two metrics
  and each agent's Pareto front of feasible designs, one panel per env; infeasible designs
  (violated constraint or failed simulation) are drawn faded grey and counted, never on a front (directions and units from the dataset's
  metadata; "lower is better" for datasets older than schema 2). The legend counts the
  distinct designs on each front; an axis is logarithmic when its metric spans more than two
  decades.

The data preparation (:func:`load_sweep`, :func:`config_table`, :func:`agent_table`,
:func:`curve_bands`, :func:`lottery_table`, :func:`pareto_table`) is separate from the
plotting, so other front ends (an HTML report) reuse it.

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

import hashlib
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
from archgym.dataset import DatasetMetadata, dataset_metadata, find_shards, param_columns, read_shard
from archgym.hypervolume import write_hypervolume_report
from archgym.logger import METRIC_PREFIX
from archgym.objective import objective_hash
from archgym.provenance import SIMULATOR_SOURCE

SUMMARY_FILE = "summary.json"
#: what identifies a group of comparable runs in every table: runs that differ in any of
#: these (a budget, an objective, an env keyword) are never pooled
GROUP_KEYS = ["env_id", "workload", "env_kwargs", "source", "objective_hash", "budget", "agent"]
#: one configuration: a group and the agent's hyperparameters
CONFIG_KEYS = [*GROUP_KEYS, "params"]


@dataclass
class SweepData:
    """The runs of a sweep: one row per run, best-so-far curves, and every evaluated row."""

    runs: pd.DataFrame
    #: run_dir -> best reward so far after each evaluation (the infeasible reward, 0 for
    #: target objectives, before a feasible design)
    curves: dict[str, np.ndarray]
    rows: pd.DataFrame
    incomplete: int
    #: run directory -> why it was left out
    dropped: dict[str, str] = field(default_factory=dict)
    metadata: DatasetMetadata = field(default_factory=lambda: DatasetMetadata(()))


def best_so_far(df: pd.DataFrame, floor: float = float("nan")) -> np.ndarray:
    """Best feasible reward after each evaluation of one run (rows in ``step`` order).

    Before the first feasible design the curve is ``floor`` (the report passes the
    objective's infeasible reward, 0 for target objectives, so no seed drops out of a median).
    """
    df = df.sort_values("step")
    r = np.where(df["feasible"].to_numpy(bool), df["reward"].to_numpy(np.float64), -np.inf)
    cur = np.maximum.accumulate(r) if len(r) else r
    return np.where(np.isfinite(cur), cur, floor)


def reward_floor(block: dict[str, Any]) -> float:
    """The reward an infeasible design gets under an objective block (NaN when not finite)."""
    value = float(block.get("infeasible_reward", 0.0)) if block else 0.0
    return value if np.isfinite(value) else float("nan")


def target_reward(block: dict[str, Any]) -> float | None:
    """The reward a design has when it meets the target just at the tolerance, or ``None``.

    Target objectives: every target met within the tolerance ``t`` gives a reward of at least
    ``1 / (1 + t^2)`` (the README's reward formula); weighted sums: their ``success_threshold``.
    """
    if not block:
        return None
    if block.get("kind") == "target_spec" and block.get("tolerance") is not None:
        return 1.0 / (1.0 + float(block["tolerance"]) ** 2)
    threshold = block.get("success_threshold")
    return float(threshold) if threshold is not None else None


def _summary_objective_hash(s: dict[str, Any]) -> str:
    if s.get("objective_hash"):
        return str(s["objective_hash"])
    return objective_hash(s["objective"]) if s.get("objective") else ""


def trajectory_hash(df: pd.DataFrame, upto: float | None = None) -> str:
    """A hash of the designs a run evaluated, in order, up to step ``upto`` (its evaluations to the
    target: what decided its outcome; all of them when ``None``/NaN). Equal for runs that searched
    alike, e.g. random search with another batch size that only evaluates a longer last batch."""
    df = df.sort_values("step")
    if upto is not None and np.isfinite(upto):
        df = df[df["step"] <= upto]
    cols = [*param_columns(df), "reward"]
    values = pd.util.hash_pandas_object(df[cols], index=False).to_numpy()
    return hashlib.sha256(values.tobytes()).hexdigest()[:16]


def _run_record(key: str, s: dict[str, Any], h: str, df: pd.DataFrame) -> dict[str, Any]:
    params = s.get("agent_params") or {}
    return {
        "run_dir": key,
        "env_id": s.get("env_id"),
        "workload": s.get("workload"),
        "env_kwargs": json.dumps(s.get("env_kwargs") or {}, sort_keys=True, default=str),
        "source": "proxy" if s.get("source", SIMULATOR_SOURCE) != SIMULATOR_SOURCE else "simulator",
        "objective_hash": h,
        "budget": s.get("budget"),
        "agent": s.get("agent"),
        "params": json.dumps(params, sort_keys=True, default=str),
        "seed": s.get("seed"),
        "evaluations": s.get("evaluations"),
        "best_reward": s.get("best_reward"),
        "success": bool(s.get("success")),
        "evaluations_to_target": s.get("evaluations_to_target"),
        "wall_time_s": s.get("wall_time_s"),
        "trajectory": trajectory_hash(df, s.get("evaluations_to_target")),
    }


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
        df = read_run_rows(path.parent / "dataset")
        key = str(path.parent)
        curves[key] = best_so_far(df, reward_floor(s.get("objective") or {}))
        frames.append(df.assign(run_dir=key))
        records.append(_run_record(key, s, h, df))
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


def read_run_rows(dataset_dir: Path) -> pd.DataFrame:
    """The rows of one run's own ``dataset/`` (its shards only, never a validation's)."""
    return pd.concat([read_shard(s) for s in find_shards(dataset_dir)], ignore_index=True, sort=False)


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


def _median_all_seeds(evals: pd.Series) -> float:
    """Median evaluations to the target where a seed that never met it counts as never (inf)."""
    return float(np.median(evals.fillna(np.inf).to_numpy(np.float64))) if len(evals) else float("nan")


def config_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration (:data:`CONFIG_KEYS`), aggregated over seeds.

    ``median_evals_to_target`` is over the runs that met the target; ``median_evals_to_target_all``
    counts a seed that did not as never (``inf`` when most did not). ``identical_to`` names the
    other configs of the same group whose runs proposed the same designs for every seed.
    """
    g = runs.groupby(CONFIG_KEYS, sort=True, dropna=False)
    out = g.agg(
        seeds=("seed", "nunique"),
        runs=("run_dir", "size"),
        success_rate=("success", "mean"),
        best_reward=("best_reward", "max"),
        median_best_reward=("best_reward", "median"),
        median_evals_to_target=("evaluations_to_target", "median"),
        median_evals_to_target_all=("evaluations_to_target", _median_all_seeds),
        median_wall_time_s=("wall_time_s", "median"),
    ).reset_index()
    out["identical_to"] = _identical_configs(runs, out)
    return out.sort_values(
        ["agent", "budget", "success_rate", "median_best_reward"], ascending=[True, True, False, False]
    ).reset_index(drop=True)


def _identical_configs(runs: pd.DataFrame, configs: pd.DataFrame) -> list[str]:
    """Per config row: the params of the other configs of its group with the same runs, seed for seed."""
    if "trajectory" not in runs:
        return [""] * len(configs)
    signature = {
        key: tuple(sorted(zip(grp["seed"], grp["trajectory"])))
        for key, grp in runs.groupby(CONFIG_KEYS, sort=False, dropna=False)
    }
    out = []
    for row in configs[CONFIG_KEYS].itertuples(index=False):
        key = tuple(row)
        twins = [
            k[-1]
            for k, sig in signature.items()
            if k != key and k[:-1] == key[:-1] and sig == signature.get(key)
        ]
        out.append("; ".join(sorted(str(t) for t in twins)))
    return out


def best_configs(configs: pd.DataFrame) -> pd.DataFrame:
    """Each group's best config (:data:`GROUP_KEYS`): highest success rate, then median best reward."""
    ranked = configs.sort_values(["success_rate", "median_best_reward"], ascending=False)
    return ranked.groupby(GROUP_KEYS, sort=True, dropna=False).head(1).reset_index(drop=True)


def agent_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per group (:data:`GROUP_KEYS`) — see the module doc for the columns."""
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


def varying_keys(runs: pd.DataFrame) -> list[str]:
    """The group keys (besides the agent) that take more than one value among ``runs``."""
    return [k for k in GROUP_KEYS if k != "agent" and runs[k].astype(str).nunique() > 1]


def group_label(row: Any, varying: Sequence[str]) -> str:
    """``agent`` plus what tells its group apart from the others (env, budget, objective, proxy)."""
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    label = _label(str(get("agent")), str(get("source")))
    parts = []
    if "env_id" in varying or "workload" in varying:
        parts.append(f"{str(get('env_id')).split('/')[-1]} {get('workload')}")
    if "budget" in varying:
        parts.append(f"budget {get('budget')}")
    if "objective_hash" in varying:
        parts.append(f"objective {get('objective_hash')}")
    if "env_kwargs" in varying and "workload" not in varying:
        parts.append(f"kwargs {hashlib.sha256(str(get('env_kwargs')).encode()).hexdigest()[:6]}")
    return label + (f" [{', '.join(parts)}]" if parts else "")


def markdown_table(df: pd.DataFrame) -> str:
    """A DataFrame as a GitHub markdown table (floats to 4 significant digits)."""
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


#: line styles of an agent's further groups (another budget or objective) in best_so_far.png
GROUP_STYLES: tuple[Any, ...] = ("-", ":", "-.", (0, (5, 1)))


def _line_style(source: str) -> str:
    return "--" if source != SIMULATOR_SOURCE else "-"


def _label(agent: str, source: str) -> str:
    return f"{agent} (proxy)" if source != SIMULATOR_SOURCE else agent


@dataclass
class CurveBand:
    """Best reward so far of one group's best config over all its seeds (see :func:`curve_bands`)."""

    label: str
    agent: str
    source: str
    params: str
    configs: int  # configs of the group the best was chosen from
    seeds: int
    evaluations: np.ndarray  # 1..n
    median: np.ndarray
    q25: np.ndarray
    q75: np.ndarray
    #: fraction of the seeds that met the target by each evaluation
    success_fraction: np.ndarray
    #: the reward of a design at the target's tolerance (the target line), if the objective has one
    target_reward: float | None


def curve_bands(data: SweepData) -> list[CurveBand]:
    """Per group (:data:`GROUP_KEYS`): its best config's best reward so far, median and 25-75 %
    over *every* seed (a seed without a feasible design yet counts as the infeasible reward),
    and the fraction of seeds that met the target by each evaluation."""
    configs = config_table(data.runs)
    varying = varying_keys(data.runs)
    bands = []
    for row in best_configs(configs).to_dict("records"):
        sel = data.runs
        for k in CONFIG_KEYS:
            sel = sel[sel[k].astype(str) == str(row[k])]
        curves = [data.curves[d] for d in sel["run_dir"] if len(data.curves[d])]
        if not curves:
            continue
        m = _padded(curves)
        x = np.arange(1, m.shape[1] + 1)
        with np.errstate(all="ignore"), _quiet():
            med, lo, hi = (np.nanpercentile(m, q, axis=0) for q in (50, 25, 75))
        reached = sel["evaluations_to_target"].to_numpy(np.float64)
        frac = (reached[:, None] <= x[None, :]).mean(axis=0)  # NaN (never) compares False
        n_cfg = int(
            sum(all(str(c[k]) == str(row[k]) for k in GROUP_KEYS) for c in configs.to_dict("records"))
        )
        block = data.metadata.objectives.get(str(row["objective_hash"]), {})
        bands.append(
            CurveBand(
                group_label(row, varying),
                str(row["agent"]),
                str(row["source"]),
                str(row["params"]),
                n_cfg,
                len(curves),
                x,
                med,
                lo,
                hi,
                frac,
                target_reward(block),
            )
        )
    return bands


def plot_best_so_far(data: SweepData, path: Path) -> Path:
    """Best reward so far (median, 25-75 % over all seeds, target line) and the fraction of seeds
    that met the target, per agent's best config (see :func:`curve_bands`)."""
    import matplotlib.pyplot as plt

    colours = agent_colours(data.runs["agent"].tolist())
    fig, (ax, ax_s) = plt.subplots(1, 2, figsize=(12, 4.5))
    targets = set()
    seen: dict[str, int] = {}
    for band in curve_bands(data):
        colour = colours[band.agent]
        nth = seen[band.agent] = seen.get(band.agent, -1) + 1  # another budget/objective: another style
        style = _line_style(band.source) if nth == 0 else GROUP_STYLES[nth % len(GROUP_STYLES)]
        label = f"{band.label} (best of {band.configs} configs, {band.seeds} seeds)"
        ax.plot(band.evaluations, band.median, linestyle=style, color=colour, label=label)
        ax.fill_between(band.evaluations, band.q25, band.q75, alpha=0.2, color=colour)
        ax_s.step(band.evaluations, band.success_fraction, linestyle=style, where="post", color=colour)
        if band.target_reward is not None:
            targets.add(round(band.target_reward, 6))
    for t in sorted(targets):
        ax.axhline(
            t, color="k", ls=":", lw=1, label=f"target: reward {t:.4g} (every target within tolerance)"
        )
    ax.set_xlabel("evaluations")
    ax.set_ylabel("best reward so far (infeasible so far = 0)")
    envs = ", ".join(sorted(set(data.runs["env_id"].astype(str))))
    ax.set_title(f"Best reward vs evaluations (median, 25-75 % over all seeds): {envs}", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax_s.set_xlabel("evaluations")
    ax_s.set_ylabel("fraction of seeds that met the target")
    ax_s.set_ylim(-0.03, 1.03)
    ax_s.set_title("Evaluations to target (same configs)", fontsize=9)
    ax_s.grid(alpha=0.3)
    fig.tight_layout()
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


def lottery_table(data: SweepData) -> pd.DataFrame:
    """The lottery's points: one row per *distinct* config of each group, identical configs merged.

    Columns: the group keys, ``label`` (agent and what tells its group apart), ``params`` (the
    merged configs' hyperparameters joined by `` | ``), ``n_configs`` (how many identical
    configs the point stands for), ``seeds``, ``median_best_reward``, ``success_rate`` and
    ``median_evals_to_target_all`` (``inf``: the median seed never met the target).
    """
    configs = config_table(data.runs)
    varying = varying_keys(data.runs)
    records: list[dict[str, Any]] = []
    seen: set[tuple[tuple[str, ...], str]] = set()
    for row in configs.to_dict("records"):
        group = tuple(str(row[k]) for k in GROUP_KEYS)
        if (group, row["params"]) in seen:
            continue
        twins = [t for t in str(row["identical_to"]).split("; ") if t]
        seen.update((group, t) for t in twins)
        records.append(
            {
                **{k: row[k] for k in GROUP_KEYS},
                "label": group_label(row, varying),
                "params": " | ".join([row["params"], *twins]),
                "n_configs": 1 + len(twins),
                "seeds": row["seeds"],
                "median_best_reward": row["median_best_reward"],
                "success_rate": row["success_rate"],
                "median_evals_to_target_all": row["median_evals_to_target_all"],
            }
        )
    return pd.DataFrame(records)


def plot_lottery(data: SweepData, path: Path) -> Path:
    """Per agent: median best reward, success rate and evaluations to target of each distinct config."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    points = lottery_table(data)
    labels = sorted(points["label"].unique())
    agent_of = dict(zip(points["label"], points["agent"]))
    colours = agent_colours(points["agent"].tolist())
    budget = float(pd.to_numeric(data.runs["budget"], errors="coerce").max())
    rng = np.random.default_rng(0)
    fig, axes = plt.subplots(1, 3, figsize=(max(10, 2.2 * len(labels) + 4), 4.8))
    panels = (
        ("median_best_reward", "median best reward over seeds"),
        ("success_rate", "success rate over seeds"),
        ("median_evals_to_target_all", "median evaluations to target over seeds"),
    )
    for ax, (col, ylabel) in zip(axes, panels):
        for i, label in enumerate(labels, start=1):
            sel = points[points["label"] == label]
            v = sel[col].to_numpy(np.float64)
            never = ~np.isfinite(v)
            if col == "median_evals_to_target_all":
                v = np.where(never, budget * 1.05, v)
            if (~never).sum() > 1:
                ax.boxplot([v[~never]], positions=[i], widths=0.5, showfliers=False)
            x = i + rng.uniform(-0.15, 0.15, len(v))
            sizes = 14 * sel["n_configs"].to_numpy()
            colour = colours[agent_of[label]]
            ax.scatter(x[~never], v[~never], s=sizes[~never], alpha=0.75, zorder=3, color=colour)
            ax.scatter(x[never], v[never], s=30, marker="x", zorder=3, color=colour)
            for xi, vi, n in zip(x, v, sel["n_configs"]):
                if n > 1:
                    ax.annotate(f"x{n}", (xi, vi), xytext=(4, 2), textcoords="offset points", fontsize=7)
        ax.set_xticks(range(1, len(labels) + 1), labels, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.grid(alpha=0.3, axis="y")
    axes[1].set_ylim(-0.05, 1.05)
    if np.isfinite(budget):
        axes[2].axhline(budget, color="k", ls=":", lw=1)
        axes[2].set_ylim(0, budget * 1.12)
    handles = [
        Line2D([], [], ls="", marker="o", color=colours[a], label=a) for a in sorted(set(points["agent"]))
    ]
    handles += [
        Line2D([], [], ls="", marker="x", color="k", label="target not met by the median seed"),
        Line2D([], [], ls="", marker="o", color="grey", ms=9, label="xN: N configs with identical runs"),
        Line2D([], [], color="k", ls=":", label=f"budget ({budget:g})"),
    ]
    fig.legend(handles=handles, loc="upper center", ncol=min(len(handles), 6), fontsize=8, frameon=False)
    n = points.groupby("label")["n_configs"].agg(["size", "sum"])
    fig.suptitle(
        "Hyperparameter lottery: one point per distinct config ("
        + ", ".join(f"{lab}: {n.loc[lab, 'size']}" for lab in labels)
        + ")",
        fontsize=9,
        y=0.005,
        va="bottom",
    )
    fig.tight_layout(rect=(0, 0.04, 1, 0.9))
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


def pareto_designs(
    rows: pd.DataFrame, mx: str, my: str, meta: DatasetMetadata, feasible_only: bool = True
) -> pd.DataFrame:
    """The distinct designs (by ``param.*``) on the Pareto front of two metrics, sorted by ``mx``.

    Only feasible designs (``feasible`` true: no violated constraint, no failed simulation)
    can be on the front unless ``feasible_only=False``. A design evaluated several times (by
    several runs, or cached) counts once.
    """
    cols = [METRIC_PREFIX + mx, METRIC_PREFIX + my]
    if feasible_only and "feasible" in rows:
        rows = rows[rows["feasible"].astype(bool)]
    rows = rows.dropna(subset=cols).drop_duplicates(subset=param_columns(rows) or cols)
    sign = np.array([1.0 if meta.better(m) == "lower" else -1.0 for m in (mx, my)])
    front = rows.loc[pareto_mask(rows[cols].to_numpy(np.float64) * sign)]
    return front.sort_values(cols[0])


def pareto_panels(data: SweepData, metrics: Sequence[str] | None = None) -> list[tuple[str, list[str]]]:
    """``(env_id, [metric_x, metric_y])`` for each env with two metrics to draw."""
    rows = data.rows[data.rows["error"].isna()] if "error" in data.rows else data.rows
    panels = []
    for e in sorted(set(data.runs["env_id"].astype(str))):
        chosen = _pareto_metrics(rows[rows["env_id"] == e], data, metrics, e)
        if chosen is not None:
            panels.append((e, chosen))
    return panels


def _with_source(data: SweepData, rows: pd.DataFrame) -> pd.DataFrame:
    sources = data.runs.set_index("run_dir")["source"]
    return rows.assign(_source=rows["run_dir"].map(sources))


def pareto_table(data: SweepData, metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """Each agent's Pareto front of feasible designs, per env: the rows of ``pareto.csv``.

    Columns: ``env_id``, ``agent``, ``source``, ``metric_x``, ``metric_y``, the design
    (``param.*``), its ``metric.*``, ``reward``, ``feasible``, ``run_dir`` (the first run
    that evaluated it) and ``runs`` (how many of the agent's runs evaluated it).
    """
    frames = []
    for env_id, (mx, my) in pareto_panels(data, metrics):
        env_rows = _with_source(data, data.rows[data.rows["env_id"] == env_id])
        env_rows = env_rows.dropna(axis=1, how="all")  # other envs' knobs (all NaN here) are not this env's
        for (_, source), grp in sorted(env_rows.groupby(["agent", "_source"]), key=lambda kv: kv[0]):
            front = pareto_designs(grp, mx, my, data.metadata)
            if front.empty:
                continue
            pcols = param_columns(grp)
            runs_per_design = grp.groupby(pcols, dropna=False)["run_dir"].nunique() if pcols else None
            out = front.assign(source=str(source), metric_x=mx, metric_y=my)
            if runs_per_design is not None:
                out["runs"] = [
                    int(runs_per_design.loc[tuple(r)]) for r in front[pcols].itertuples(index=False)
                ]
            keep = ["env_id", "agent", "source", "metric_x", "metric_y", *pcols]
            keep += [c for c in grp.columns if c.startswith(METRIC_PREFIX)]
            keep += ["reward", "feasible", "run_dir", "runs"]
            frames.append(out[[c for c in keep if c in out.columns]])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def infeasible_count(rows: pd.DataFrame) -> int:
    """Distinct designs among ``rows`` that are infeasible (violated constraint or failed simulation)."""
    if "feasible" not in rows:
        return 0
    bad = rows[~rows["feasible"].astype(bool)]
    return int(len(bad.drop_duplicates(subset=param_columns(bad) or None)))


def _axis_label(meta: DatasetMetadata, metric: str) -> str:
    unit = meta.unit(metric)
    return (
        f"{metric}" + (f" [{unit}]" if unit and unit != "1" else "") + f" ({meta.better(metric)} is better)"
    )


def plot_pareto(data: SweepData, path: Path, metrics: Sequence[str] | None = None) -> Path | None:
    """Every evaluated design in two metrics and each agent's Pareto front of feasible designs,
    one panel per env; infeasible designs faded grey and counted.

    ``None`` when no env has two metrics. Directions and units come from the dataset's metadata.
    """
    import matplotlib.pyplot as plt

    panels = pareto_panels(data, metrics)
    if not panels:
        return None
    fronts = pareto_table(data, metrics)
    colours = agent_colours(data.runs["agent"].tolist())
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 5), squeeze=False)
    for ax, (env_id, (mx, my)) in zip(axes[0], panels):
        env_rows = _with_source(data, data.rows[data.rows["env_id"] == env_id])
        cols = [METRIC_PREFIX + mx, METRIC_PREFIX + my]
        ok = env_rows.dropna(subset=cols)
        feasible = ok["feasible"].astype(bool) if "feasible" in ok else pd.Series(True, index=ok.index)
        bad = ok[~feasible].drop_duplicates(subset=param_columns(ok) or cols)
        if len(bad):
            ax.scatter(bad[cols[0]], bad[cols[1]], s=5, alpha=0.15, color="0.5", marker="x", zorder=1)
        for (agent, source), grp in sorted(ok[feasible].groupby(["agent", "_source"]), key=lambda kv: kv[0]):
            grp = grp.drop_duplicates(subset=param_columns(grp) or cols)
            colour = colours[agent]
            ax.scatter(grp[cols[0]], grp[cols[1]], s=6, alpha=0.25, color=colour)
            sel = fronts[
                (fronts["env_id"] == env_id) & (fronts["agent"] == agent) & (fronts["source"] == source)
            ]
            ax.plot(
                sel[cols[0]],
                sel[cols[1]],
                "o" + _line_style(source),
                ms=4,
                color=colour,
                label=f"{_label(agent, source)} ({len(sel)} feasible designs on front, "
                f"{len(sel[cols].drop_duplicates())} points)",
            )
        n_bad = infeasible_count(env_rows)
        values = ok[cols].to_numpy(np.float64)
        if spans_decades(values[:, 0]):
            ax.set_xscale("log")
        if spans_decades(values[:, 1]):
            ax.set_yscale("log")
        ax.set_xlabel(_axis_label(data.metadata, mx))
        ax.set_ylabel(_axis_label(data.metadata, my))
        ax.set_title(
            f"Pareto fronts of feasible designs: {env_id}\n"
            f"{n_bad} infeasible designs (grey x: violated constraint or failed) are on no front",
            fontsize=9,
        )
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
    write_text_atomic(out / "agents.md", markdown_table(agents.drop(columns=["best_config"])))
    files["agents.md"] = out / "agents.md"
    files["best_so_far.png"] = plot_best_so_far(data, out / "best_so_far.png")
    files["lottery.png"] = plot_lottery(data, out / "lottery.png")
    pareto = plot_pareto(data, out / "pareto.png", pareto_metrics)
    if pareto is not None:
        files["pareto.png"] = pareto
        write_text_atomic(out / "pareto.csv", pareto_table(data, pareto_metrics).to_csv(index=False))
        files["pareto.csv"] = out / "pareto.csv"
    files.update(write_hypervolume_report(data.rows, out))  # multi-metric objectives only
    return files


def format_agents(agents: pd.DataFrame) -> str:
    """The agent table as fixed-width text."""
    cols = [
        "env_id",
        "workload",
        "source",
        "budget",
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
    "CONFIG_KEYS",
    "CurveBand",
    "GROUP_KEYS",
    "SweepData",
    "curve_bands",
    "group_label",
    "infeasible_count",
    "lottery_table",
    "pareto_panels",
    "pareto_table",
    "read_run_rows",
    "reward_floor",
    "target_reward",
    "trajectory_hash",
    "varying_keys",
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
