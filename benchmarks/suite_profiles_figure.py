"""Draw a suite run's performance profiles (rliable's, with 95 % bands) as one PNG for the README.

Reads the sweep, scores it on the suite's recorded references (:mod:`archgym.scores`) and
plots, per ranked agent, the fraction of its runs (over every task) whose normalised score
exceeds each threshold tau. Also prints the leaderboard (IQM and mean with 95 % intervals, as
``archgym report`` writes it, without the slower pairwise probabilities of improvement) and the
task anchors, as markdown.

    python benchmarks/suite_profiles_figure.py /work/ref/h24/suite_small --suite small \\
        --out docs/figures/suite_small_profiles.png
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import pandas as pd

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from archgym.report import load_sweep, markdown_table
from archgym.scores import run_scores, score_matrix
from archgym.stats import aggregate_scores, performance_profiles


def _ci(v: float, lo: float, hi: float) -> str:
    return f"{v:.3f} [{lo:.3f}, {hi:.3f}]"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sweep_dir")
    ap.add_argument("--suite", default=None, help="suite whose recorded references score the runs")
    ap.add_argument("--out", type=Path, required=True, help="PNG to write")
    args = ap.parse_args(argv)
    scored, refs = run_scores(load_sweep(args.sweep_dir).runs, args.suite)
    matrices, tasks, left_out = score_matrix(scored[scored["score"].notna()])
    table = aggregate_scores(matrices)
    rows = [
        {
            "rank": i + 1,
            "agent": r.agent,
            "IQM [95 % CI]": _ci(r.iqm, r.iqm_lo, r.iqm_hi),
            "mean [95 % CI]": _ci(r.mean, r.mean_lo, r.mean_hi),
            "runs x tasks": f"{r.runs} x {r.tasks}",
        }
        for i, r in enumerate(table.itertuples(index=False))
    ]
    print(markdown_table(pd.DataFrame(rows)))
    print("not ranked (no run on): " + "; ".join(f"{a}: {', '.join(t)}" for a, t in left_out.items()))
    medians = scored.pivot_table(index="agent", columns="task", values="score", aggfunc="median")
    print(markdown_table(medians.reset_index().round(3)))
    print(markdown_table(refs[["task", "budget", "random_median", "best", "reference_source"]]))
    profiles = performance_profiles(matrices)
    fig, ax = plt.subplots(figsize=(8, 5))
    order = list(table["agent"])
    cmap = plt.get_cmap("tab20")
    for i, agent in enumerate(order):
        p = profiles[profiles["agent"] == agent]
        ax.plot(p["tau"], p["fraction"], label=agent, color=cmap(i % 20), lw=1.6)
        ax.fill_between(p["tau"], p["lo"], p["hi"], color=cmap(i % 20), alpha=0.12, lw=0)
    ax.axvline(0.0, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("normalised score tau (0 = random search's median, 1 = best run)")
    ax.set_ylabel("fraction of runs with score > tau")
    ax.set_title(f"{args.suite or Path(args.sweep_dir).name}: performance profiles (95 % bands)")
    ax.legend(ncol=2, fontsize=8, loc="lower left")
    ax.grid(alpha=0.3)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110, bbox_inches="tight")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
