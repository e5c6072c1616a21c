"""Merge many runs' Parquet shards into one dataset, dedupe designs, export CSV/Parquet.

:func:`merge_datasets` reads every shard under the given paths (shard files, run
directories, sweep directories), adds provenance columns and, with ``dedupe=True``, keeps one
row per identical *(env_id, workload, simulator_version, design)*: simulators are
deterministic, so the duplicates carry no new information. The first occurrence (in path
and shard order) is kept and :data:`OCCURRENCES` counts how many rows it stands for.

Merged schema = the logger's schema (see :mod:`archgym.logger`) plus:

=====================  ========  ===================================================
``source_run_dir``     string    the run directory the row came from
``source_shard``       string    the shard file name within ``<run>/dataset/``
``n_occurrences``      int64     rows with this (env, workload, simulator, design) in
                                 the inputs (1 for every row when not deduped)
=====================  ========  ===================================================

Runs of different environments can be merged: ``param.*`` / ``metric.*`` columns that a
run lacks are null for its rows.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from archgym.atomic import atomic_path
from archgym.dataset import find_shards, param_columns
from archgym.logger import SHARD_GLOB

SOURCE_RUN_DIR = "source_run_dir"
SOURCE_SHARD = "source_shard"
OCCURRENCES = "n_occurrences"
PROVENANCE_COLUMNS = (SOURCE_RUN_DIR, SOURCE_SHARD, OCCURRENCES)
#: columns every logger shard holds, in order (param.* and metric.* sit between cached and reward)
CORE_COLUMNS = (
    "run_id",
    "env_id",
    "workload",
    "simulator_version",
    "agent",
    "agent_params",
    "agent_params_hash",
    "seed",
    "step",
    "wall_time_s",
    "cached",
)
TAIL_COLUMNS = ("reward", "feasible", "success", "error", "timestamp")
#: what identifies a unique evaluation besides the param.* columns
DEDUPE_KEYS = ("env_id", "workload", "simulator_version")
EXPORT_FORMATS = (".parquet", ".csv")


def _read_shard(shard: Path) -> pd.DataFrame:
    df = pq.read_table(shard).to_pandas()
    run_dir = shard.parent.parent if shard.parent.name == "dataset" else shard.parent
    df[SOURCE_RUN_DIR] = str(run_dir)
    df[SOURCE_SHARD] = shard.name
    return df


def merge_datasets(
    paths: Sequence[str | os.PathLike], dedupe: bool = True, progress: bool = False
) -> pd.DataFrame:
    """One DataFrame from every shard under ``paths``, with provenance columns (see module doc).

    Raises:
        FileNotFoundError: a path does not exist, or there are no shards under any of them.
    """
    if not paths:
        raise ValueError("merge_datasets needs at least one path")
    shards = [s for p in paths for s in find_shards(p)]
    if not shards:
        raise FileNotFoundError(f"no dataset shards ({SHARD_GLOB}) under {', '.join(map(str, paths))}")
    from tqdm.auto import tqdm

    frames = [_read_shard(s) for s in tqdm(shards, desc="reading shards", unit="shard", disable=not progress)]
    df = pd.concat(frames, ignore_index=True, sort=False)
    return dedupe_designs(df) if dedupe else df.assign(**{OCCURRENCES: 1})


def dedupe_designs(df: pd.DataFrame) -> pd.DataFrame:
    """Keep the first row per (env_id, workload, simulator_version, param.*); count occurrences."""
    keys = [*DEDUPE_KEYS, *param_columns(df)]
    missing = [k for k in DEDUPE_KEYS if k not in df.columns]
    if missing:
        raise ValueError(f"cannot dedupe: the dataset lacks column(s) {', '.join(missing)}")
    counts = df.groupby(keys, dropna=False, sort=False)[keys[0]].transform("size")
    df = df.assign(**{OCCURRENCES: counts.astype("int64")})
    return df.loc[~df.duplicated(subset=keys, keep="first")].reset_index(drop=True)


def ordered_columns(df: pd.DataFrame) -> list[str]:
    """Columns in schema order: core, param.*, metric.*, tail, provenance, then anything else."""
    params = [c for c in df.columns if c.startswith("param.")]  # design-space order (first run's first)
    metrics = [c for c in df.columns if c.startswith("metric.")]
    known = [*CORE_COLUMNS, *params, *metrics, *TAIL_COLUMNS, *PROVENANCE_COLUMNS]
    return [c for c in known if c in df.columns] + [c for c in df.columns if c not in known]


def export_dataset(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``df`` as Parquet or CSV (chosen by the suffix) via a temporary file + rename."""
    out = Path(path)
    if out.suffix not in EXPORT_FORMATS:
        raise ValueError(f"{out}: unknown export format {out.suffix!r}; allowed: {', '.join(EXPORT_FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    df = df[ordered_columns(df)]
    with atomic_path(out) as tmp:
        if out.suffix == ".parquet":
            table = pa.Table.from_pandas(df, preserve_index=False)
            # the logger's string columns are Arrow `string`; pandas may hand back `large_string`
            schema = pa.schema(
                [f.with_type(pa.string()) if f.type == pa.large_string() else f for f in table.schema]
            )
            pq.write_table(table.cast(schema).replace_schema_metadata(None), tmp)
        else:
            df.to_csv(tmp, index=False)
    return out


def load_export(path: str | os.PathLike) -> pd.DataFrame:
    """Read a file written by :func:`export_dataset`."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no exported dataset at {p}")
    return pq.read_table(p).to_pandas() if p.suffix == ".parquet" else pd.read_csv(p)


def main(argv: Sequence[str]) -> int:
    """``archgym dataset merge|export ...``."""
    parser = argparse.ArgumentParser(
        prog="archgym dataset",
        description="Combine the Parquet shards of many runs (run or sweep directories, or shard files) into one "
        "file. `merge` keeps one row per identical (env, workload, simulator version, design) and counts "
        "duplicates in n_occurrences; `export` keeps every row. Both add the provenance columns "
        "source_run_dir and source_shard. The output format follows the suffix: .parquet or .csv.",
    )
    sub = parser.add_subparsers(dest="action", required=True, metavar="{merge,export}")
    for name, helptext in (
        ("merge", "merge and dedupe identical designs"),
        ("export", "concatenate every row (no dedupe)"),
    ):
        p = sub.add_parser(name, help=helptext, description=helptext)
        p.add_argument("paths", nargs="+", help="run directories, sweep directories or part-*.parquet files")
        p.add_argument("-o", "--out", required=True, help="output file, .parquet or .csv")
    args = parser.parse_args(list(argv))
    df = merge_datasets(args.paths, dedupe=args.action == "merge", progress=True)
    out = export_dataset(df, args.out)
    runs = df["run_id"].nunique() if "run_id" in df else 0
    print(
        f"wrote {len(df)} rows from {runs} runs to {out}"
        + (
            f" ({int(df[OCCURRENCES].sum()) - len(df)} duplicate rows dropped)"
            if args.action == "merge"
            else ""
        )
    )
    return 0


__all__ = [
    "CORE_COLUMNS",
    "OCCURRENCES",
    "PROVENANCE_COLUMNS",
    "SOURCE_RUN_DIR",
    "SOURCE_SHARD",
    "TAIL_COLUMNS",
    "dedupe_designs",
    "export_dataset",
    "load_export",
    "merge_datasets",
    "ordered_columns",
    "main",
]
