"""``archgym report DIR --html``: one self-contained, interactive HTML page of a sweep (plotly).

The page (``report.html``) holds plotly.js inline, so it opens offline and needs no server:

* **Leaderboard**: agents ranked by the IQM of normalised scores with stratified-bootstrap
  95 % intervals, and the mean (:mod:`archgym.leaderboard`), as a table and an interval plot;
* **Performance profiles**: fraction of runs scoring above each threshold, with bands;
* **Probability of improvement**: P(row agent beats column agent), a heat map;
* **Best so far**: per task, each agent's best reward after each evaluation, median and
  25-75 % band over its runs (a run with no feasible design yet counts as reward 0);
* **Hyperparameter lottery**: per agent, one point per configuration (median normalised score
  over its seeds), with the share of configurations that meet the target;
* **Pareto explorer**: per env, every feasible design in the objective's first two metrics;
  hovering a point shows its knobs, metrics, agent and run. At most :data:`MAX_POINTS` designs
  per env are drawn (every Pareto-front design always, the rest sampled evenly).
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from archgym.atomic import write_text_atomic
from archgym.dataset import param_columns
from archgym.leaderboard import Leaderboard, leaderboard
from archgym.logger import METRIC_PREFIX
from archgym.report import SweepData, _pareto_metrics, load_sweep, pareto_mask

#: designs drawn per env in the Pareto explorer (the page stays a few MB)
MAX_POINTS = 3000
PALETTE = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#ad494a", "#637939", "#7b4173",
]  # fmt: skip


def _plotly() -> Any:
    try:
        import plotly.graph_objects as go
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('archgym report --html needs plotly: pip install -e ".[suite]"') from exc
    return go


def colours(agents: Sequence[str]) -> dict[str, str]:
    """One colour per agent (sorted by name), the same in every figure."""
    return {a: PALETTE[i % len(PALETTE)] for i, a in enumerate(sorted(set(agents)))}


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _add_band(fig: Any, x: Any, lo: Any, hi: Any, colour: str, group: str) -> None:
    """A shaded interval ``lo..hi`` over ``x`` in a faint ``colour``, grouped with its line."""
    go = _plotly()
    x = np.asarray(x)
    fig.add_trace(
        go.Scatter(
            x=np.r_[x, x[::-1]],
            y=np.r_[np.asarray(hi), np.asarray(lo)[::-1]],
            fill="toself",
            fillcolor=_rgba(colour, 0.15),
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            legendgroup=group,
        )
    )


def fig_leaderboard(board: Leaderboard) -> Any:
    """IQM and mean with 95 % intervals, one row per agent."""
    go = _plotly()
    t = board.table.iloc[::-1]
    fig = go.Figure()
    for col, symbol in (("iqm", "diamond"), ("mean", "circle")):
        fig.add_trace(
            go.Scatter(
                x=t[col],
                y=t["agent"],
                mode="markers",
                marker={"symbol": symbol, "size": 10},
                name=col.upper() if col == "iqm" else "mean",
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": t[f"{col}_hi"] - t[col],
                    "arrayminus": t[col] - t[f"{col}_lo"],
                },
                hovertemplate="%{y}: %{x:.3f}<extra>" + col + "</extra>",
            )
        )
    fig.update_layout(
        title="Normalised score (0 = random search's median, 1 = best any run reached): 95 % CIs",
        xaxis_title="normalised score",
        height=120 + 28 * len(t),
    )
    return fig


def fig_profiles(board: Leaderboard, cmap: dict[str, str]) -> Any:
    """Performance profiles with their bootstrap bands."""
    go = _plotly()
    fig = go.Figure()
    for agent, p in board.profiles.groupby("agent", sort=True):
        c = cmap[str(agent)]
        _add_band(fig, p["tau"], p["lo"], p["hi"], c, str(agent))
        fig.add_trace(
            go.Scatter(
                x=p["tau"], y=p["fraction"], name=str(agent), line={"color": c}, legendgroup=str(agent)
            )
        )
    fig.update_layout(
        title="Performance profiles: fraction of runs (all tasks) with score > tau",
        xaxis_title="normalised score tau",
        yaxis_title="fraction of runs",
    )
    return fig


def fig_improvement(board: Leaderboard) -> Any:
    """P(row agent beats column agent) as a heat map, the interval in the hover text."""
    go = _plotly()
    imp = board.improvement
    agents = list(board.table["agent"])
    p = imp.pivot(index="x", columns="y", values="p").reindex(index=agents, columns=agents)
    lo = imp.pivot(index="x", columns="y", values="lo").reindex(index=agents, columns=agents)
    hi = imp.pivot(index="x", columns="y", values="hi").reindex(index=agents, columns=agents)
    text = [
        [
            f"P({x} > {y}) = {p.loc[x, y]:.2f} [{lo.loc[x, y]:.2f}, {hi.loc[x, y]:.2f}]" if x != y else ""
            for y in agents
        ]
        for x in agents
    ]
    fig = go.Figure(
        go.Heatmap(
            z=p.to_numpy(),
            x=agents,
            y=agents,
            zmin=0,
            zmax=1,
            colorscale="RdBu",
            text=text,
            hovertemplate="%{text}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Probability of improvement: row agent over column agent", height=200 + 30 * len(agents)
    )
    fig.update_yaxes(autorange="reversed")
    return fig


def fig_best_so_far(data: SweepData, board: Leaderboard, task: str, cmap: dict[str, str]) -> Any:
    """Median and 25-75 % band of best reward so far over one task's runs, per agent."""
    go = _plotly()
    runs = board.scored[board.scored["task"] == task]
    fig = go.Figure()
    for agent, grp in runs.groupby("agent", sort=True):
        curves = [np.nan_to_num(data.curves[d], nan=0.0) for d in grp["run_dir"] if len(data.curves[d])]
        if not curves:
            continue
        n = max(len(c) for c in curves)
        m = np.vstack([np.concatenate([c, np.full(n - len(c), c[-1])]) for c in curves])
        lo, med, hi = np.percentile(m, [25, 50, 75], axis=0)
        x = np.arange(1, n + 1)
        c = cmap[str(agent)]
        _add_band(fig, x, lo, hi, c, str(agent))
        fig.add_trace(
            go.Scatter(
                x=x, y=med, name=f"{agent} ({len(curves)} runs)", line={"color": c}, legendgroup=str(agent)
            )
        )
    fig.update_layout(
        title=f"{task}: best reward so far (median, 25-75 % over runs; no feasible design yet = 0)",
        xaxis_title="evaluations",
        yaxis_title="best reward so far",
    )
    return fig


def fig_lottery(board: Leaderboard, cmap: dict[str, str]) -> Any:
    """One point per hyperparameter configuration: its median normalised score over runs."""
    go = _plotly()
    fig = go.Figure()
    for agent, grp in board.lottery.groupby("agent", sort=True):
        share = grp["meets_target"].mean()
        fig.add_trace(
            go.Box(
                y=grp["median_score"],
                name=f"{agent} ({grp['meets_target'].sum()}/{len(grp)} meet target: {share:.0%})",
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                marker={"color": cmap[str(agent)]},
                text=grp["params"],
                hovertemplate="%{text}<br>median score %{y:.3f}<extra></extra>",
            )
        )
    fig.update_layout(
        title="Hyperparameter lottery: each configuration's median normalised score over its runs",
        yaxis_title="median normalised score",
        showlegend=False,
    )
    return fig


def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        return str(int(v)) if float(v).is_integer() else f"{v:.4g}"
    return html.escape(str(v))


def _hover_text(df: pd.DataFrame, params: list[str], metrics: list[str], per_line: int = 4) -> list[str]:
    """One hover label per design: agent and run, then its knobs and metrics, a few per line."""
    out = []
    for rec in df.to_dict("records"):
        knobs = [f"{p.removeprefix('param.')}={_fmt(rec[p])}" for p in params]
        values = [f"{m.removeprefix(METRIC_PREFIX)}={_fmt(rec[m])}" for m in metrics if pd.notna(rec[m])]
        run = Path(str(rec["run_dir"])).name
        lines = [
            f"<b>{html.escape(str(rec['agent']))}</b> seed {rec.get('seed', '')}: run {html.escape(run)}"
        ]
        for items in (knobs, values):
            lines += [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
        out.append("<br>".join(lines))
    return out


def fig_pareto(data: SweepData, env_id: str, cmap: dict[str, str]) -> Any | None:
    """Feasible designs of one env in two metrics, front marked; hover shows knobs, metrics and run."""
    go = _plotly()
    rows = data.rows[(data.rows["env_id"] == env_id) & data.rows["feasible"].astype(bool)]
    rows = rows.dropna(axis=1, how="all")  # another env's knobs and metrics
    chosen = _pareto_metrics(rows, data, None, env_id) if len(rows) else None
    if chosen is None:
        return None
    mx, my = chosen
    cols = [METRIC_PREFIX + mx, METRIC_PREFIX + my]
    params = param_columns(rows)
    rows = rows.dropna(subset=cols).drop_duplicates(subset=params or cols)
    sign = np.array([1.0 if data.metadata.better(m) == "lower" else -1.0 for m in (mx, my)])
    front = pareto_mask(rows[cols].to_numpy(np.float64) * sign)
    keep = front | _even_sample(len(rows), MAX_POINTS)
    rows, front = rows[keep], front[keep]
    metrics = [c for c in rows.columns if c.startswith(METRIC_PREFIX)]
    fig = go.Figure()
    for agent, grp in rows.assign(_front=front).groupby("agent", sort=True):
        fig.add_trace(
            go.Scatter(
                x=grp[cols[0]],
                y=grp[cols[1]],
                mode="markers",
                name=str(agent),
                marker={
                    "color": cmap[str(agent)],
                    "size": np.where(grp["_front"], 11, 6),
                    "line": {"width": np.where(grp["_front"], 1.5, 0), "color": "black"},
                    "opacity": 0.8,
                },
                text=_hover_text(grp, params, metrics),
                hovertemplate="%{text}<extra></extra>",
            )
        )
    fig.update_layout(
        title=f"{env_id}: feasible designs (outlined: Pareto front of all runs)",
        xaxis_title=f"{mx} ({data.metadata.better(mx)} is better)",
        yaxis_title=f"{my} ({data.metadata.better(my)} is better)",
        height=560,
    )
    return fig


def _even_sample(n: int, k: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[np.unique(np.linspace(0, n - 1, min(n, k)).astype(int))] = True
    return mask


def _table(df: pd.DataFrame, table_id: str) -> str:
    return df.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0, table_id=table_id, na_rep="-")


def _board_table(board: Leaderboard) -> pd.DataFrame:
    t = board.table
    fmt = lambda v, lo, hi: f"{v:.3f} [{lo:.3f}, {hi:.3f}]"  # noqa: E731
    return pd.DataFrame(
        {
            "rank": range(1, len(t) + 1),
            "agent": t["agent"],
            "IQM [95 % CI]": [fmt(*v) for v in zip(t["iqm"], t["iqm_lo"], t["iqm_hi"])],
            "mean [95 % CI]": [fmt(*v) for v in zip(t["mean"], t["mean_lo"], t["mean_hi"])],
            "runs x tasks": [f"{r} x {k}" for r, k in zip(t["runs"], t["tasks"])],
            "success rate": t["success_rate"],
            "median evals to target": t["median_evals_to_target"],
        }
    )


STYLE = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
table{border-collapse:collapse;font-size:14px;margin:1em 0}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}
th{background:#f4f4f4}h2{margin-top:2em;border-bottom:2px solid #444}.note{color:#555;font-size:14px}"""


def html_page(data: SweepData, board: Leaderboard, title: str) -> str:
    """The whole page: sections of the module doc, plotly.js inlined once."""
    cmap = colours(list(board.scored["agent"].astype(str)))
    sections: list[tuple[str, str, list[Any]]] = [
        (
            "Leaderboard",
            _table(_board_table(board), "leaderboard")
            + "".join(
                f"<p class='note'>{html.escape(a)} is not ranked: no run on {html.escape(', '.join(t))}.</p>"
                for a, t in board.left_out.items()
            )
            + _table(board.references, "references"),
            [fig_leaderboard(board)],
        ),
        ("Performance profiles", "", [fig_profiles(board, cmap)] if len(board.profiles) else []),
        ("Probability of improvement", "", [fig_improvement(board)] if len(board.improvement) else []),
        (
            "Best reward so far",
            "",
            [fig_best_so_far(data, board, t, cmap) for t in sorted(board.scored["task"].unique())],
        ),
        ("Hyperparameter lottery", "", [fig_lottery(board, cmap)]),
    ]
    pareto = [fig_pareto(data, e, cmap) for e in sorted(data.runs["env_id"].astype(str).unique())]
    sections.append(
        ("Pareto explorer (hover a point for its design)", "", [f for f in pareto if f is not None])
    )
    body, first = [], True
    for name, pre, figs in sections:
        body.append(f"<h2>{html.escape(name)}</h2>{pre}")
        for fig in figs:
            fig.update_layout(template="plotly_white")
            body.append(fig.to_html(full_html=False, include_plotlyjs=first, config={"displaylogo": False}))
            first = False
    dropped = f"<p class='note'>{len(data.dropped)} runs left out (incomplete or another objective).</p>"
    head = f"<meta charset='utf-8'><title>{html.escape(title)}</title><style>{STYLE}</style>"
    intro = (
        f"<h1>{html.escape(title)}</h1><p class='note'>{len(data.runs)} runs, "
        f"{board.scored['task'].nunique()} tasks, {board.scored['agent'].nunique()} agents. Scores: "
        "(best reward - random search's median) / (best any run reached - random search's median), "
        "per task; intervals: rliable's stratified bootstrap, 95 %.</p>" + (dropped if data.dropped else "")
    )
    return f"<!DOCTYPE html><html><head>{head}</head><body>{intro}{''.join(body)}</body></html>\n"


def write_html_report(
    sweep_dir: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    suite: str | None = None,
    data: SweepData | None = None,
) -> dict[str, Path]:
    """Write ``report.html`` and the leaderboard files (:func:`archgym.leaderboard.write_leaderboard`)."""
    from archgym.leaderboard import write_leaderboard

    data = data if data is not None else load_sweep(sweep_dir)
    out = Path(out_dir) if out_dir is not None else Path(sweep_dir) / "report"
    board = leaderboard(data, suite)
    files = write_leaderboard(board, out)
    page = html_page(data, board, f"archgym report: {Path(sweep_dir).resolve().name}")
    write_text_atomic(out / "report.html", page)
    files["report.html"] = out / "report.html"
    return files


def figure_count(page: str) -> int:
    """How many plotly figures a page holds (what the browser test expects to see rendered)."""
    return page.count('class="plotly-graph-div"')


__all__ = ["MAX_POINTS", "figure_count", "html_page", "write_html_report"]
