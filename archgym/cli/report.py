"""``archgym report SWEEP_DIR``: tables and figures of a sweep (see :mod:`archgym.report`)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import pandas as pd

from archgym.report import format_agents, make_report


def main(argv: Sequence[str]) -> int:
    """``archgym report SWEEP_DIR [--out DIR] [--pareto METRIC,METRIC] [--objective HASH] [--html]``."""
    parser = argparse.ArgumentParser(
        prog="archgym report",
        description="Summarise a sweep directory: a table per env and agent (best reward, evaluations to "
        "reach the target, success rate over seeds, wall time), a table per hyperparameter config, and PNG "
        "figures: best reward vs evaluations per agent (median and spread over seeds), the hyperparameter "
        "lottery (outcomes over each agent's grid) and the Pareto front of two metrics per env. Runs that "
        "are incomplete or have another objective than most runs of their env are left out and named on "
        "stderr. Proxy-evaluated runs are kept apart and labelled.",
    )
    parser.add_argument(
        "sweep_dir", help="a sweep directory (e.g. multirun/lottery_dram) or any directory of runs"
    )
    parser.add_argument("-o", "--out", help="output directory (default SWEEP_DIR/report)")
    parser.add_argument(
        "--pareto", help="two comma-separated metrics for pareto.png (default: the objective's first two)"
    )
    parser.add_argument(
        "--objective",
        metavar="HASH",
        help="report the runs of this objective_hash (default: per env, the objective most runs share)",
    )
    parser.add_argument(
        "--html",
        action="store_true",
        help="also write report.html (interactive, self-contained: leaderboard with rliable intervals, "
        "performance profiles, best-so-far bands, lottery, Pareto explorer) and leaderboard.csv/.md "
        '(needs the suite extra: pip install -e ".[suite]")',
    )
    parser.add_argument(
        "--suite", help="score against this suite's recorded references (default: the suite the runs name)"
    )
    args = parser.parse_args(list(argv))
    files = make_report(
        args.sweep_dir,
        args.out,
        args.pareto.split(",") if args.pareto else None,
        progress=True,
        objective=args.objective,
    )
    if args.html:
        from archgym.report_html import write_html_report

        files.update(write_html_report(args.sweep_dir, args.out, suite=args.suite))
        print(files["leaderboard.md"].read_text())
    print(format_agents(pd.read_csv(files["agents.csv"])))
    print()
    for path in files.values():
        print(f"wrote {path}")
    return 0
