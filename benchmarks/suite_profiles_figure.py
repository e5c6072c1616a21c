"""Draw a suite run's performance profiles (rliable's, with 95 % bands) as one PNG for the README.

Reads the sweep, scores it on the suite's recorded references (:mod:`archgym.leaderboard`) and
plots, per ranked agent, the fraction of its runs (over every task) whose normalised score
exceeds each threshold tau. Also prints the leaderboard as markdown.

    python benchmarks/suite_profiles_figure.py /work/ref/h24/suite_small --suite small \\
        --out docs/figures/suite_small_profiles.png
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from archgym.leaderboard import leaderboard, leaderboard_markdown  # noqa: E402
from archgym.report import load_sweep  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sweep_dir")
    ap.add_argument("--suite", default=None, help="suite whose recorded references score the runs")
    ap.add_argument("--out", type=Path, required=True, help="PNG to write")
    args = ap.parse_args(argv)
    board = leaderboard(load_sweep(args.sweep_dir), args.suite)
    print(leaderboard_markdown(board))
    fig, ax = plt.subplots(figsize=(8, 5))
    order = list(board.table["agent"])
    cmap = plt.get_cmap("tab20")
    for i, agent in enumerate(order):
        p = board.profiles[board.profiles["agent"] == agent]
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
