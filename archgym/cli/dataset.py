"""``archgym dataset merge|export``: combine many runs into one Parquet or CSV file."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from archgym.dataset import dataset_metadata
from archgym.merge import export_dataset, merge_runs


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="archgym dataset",
        description="Combine the Parquet shards of many runs (run or sweep directories, or shard files) into "
        "one file. `merge` keeps one row per identical (env, workload, simulator version, design) and counts "
        "duplicates in n_occurrences; `export` keeps every row. Both add the provenance columns "
        "source_run_dir and source_shard. By default only simulator rows of complete runs are kept, and "
        "inputs that mix env ids or objectives are refused. The output format follows the suffix: "
        ".parquet (with the objective and metric units in its metadata) or .csv.",
    )
    sub = parser.add_subparsers(dest="action", required=True, metavar="{merge,export}")
    for name, helptext in (
        ("merge", "merge and dedupe identical designs"),
        ("export", "concatenate every row (no dedupe)"),
    ):
        p = sub.add_parser(name, help=helptext, description=helptext)
        p.add_argument("paths", nargs="+", help="run directories, sweep directories or part-*.parquet files")
        p.add_argument("-o", "--out", required=True, help="output file, .parquet or .csv")
        p.add_argument(
            "--include-proxy",
            action="store_true",
            help="keep rows whose metrics a trained proxy predicted (default: simulator rows only)",
        )
        p.add_argument(
            "--allow-mixed",
            action="store_true",
            help="merge several env ids or objectives into one file (default: refuse)",
        )
        p.add_argument(
            "--include-validation",
            action="store_true",
            help="keep the rows `archgym validate` wrote beside a run (default: left out)",
        )
        p.add_argument("--env", action="append", metavar="ENV_ID", help="keep only this env id (repeatable)")
        p.add_argument(
            "--complete-only",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="keep only runs whose summary says complete and whose row count matches (default: on)",
        )
    args = parser.parse_args(list(argv))
    df, stats = merge_runs(
        args.paths,
        dedupe=args.action == "merge",
        progress=True,
        include_proxy=args.include_proxy,
        allow_mixed=args.allow_mixed,
        env=args.env,
        complete_only=args.complete_only,
        include_validation=args.include_validation,
    )
    out = export_dataset(df, args.out, dataset_metadata(args.paths))
    notes = stats.describe()
    print(f"wrote {len(df)} rows from {stats.runs} runs to {out}" + (f" ({notes})" if notes else ""))
    return 0
