"""Merge many runs' Parquet shards into one dataset, dedupe designs, export CSV/Parquet.

:func:`merge_runs` reads every shard under the given paths (shard files, run directories,
sweep directories), adds provenance columns and, with ``dedupe=True``, keeps one row per
identical *(env_id, workload, simulator_version, design)*: simulators are deterministic, so
the duplicates carry no new information. The first occurrence (in path and shard order) is
kept and :data:`OCCURRENCES` counts how many rows it stands for.

It refuses to mix silently. By default it keeps

* only rows a simulator computed (``source == "simulator"``; ``include_proxy=True`` keeps
  rows predicted by a trained proxy too);
* only complete runs (``complete_only=True``: ``summary.json`` says ``complete: true`` and
  the dataset has its number of rows; a cut-off run is left out and counted);
* only the envs named in ``env`` (all when ``None``);
* no rows of ``archgym validate`` (``<run>/validation-<simulator>/``;
  ``include_validation=True`` keeps them);

and raises :class:`MixedDatasetError` when what is left holds several env ids or several
objectives (``objective_hash``), unless ``allow_mixed=True``: rewards and successes of
different objectives cannot be compared.

Merged schema = the logger's schema (see :mod:`archgym.logger`) plus:

=====================  ========  ===================================================
``source_run_dir``     string    the run directory the row came from
``source_shard``       string    the shard file name within ``<run>/dataset/``
``n_occurrences``      int64     rows with this (env, workload, simulator, design) in
                                 the inputs (1 for every row when not deduped)
=====================  ========  ===================================================

With ``allow_mixed``, runs of different environments can be merged: ``param.*`` /
``metric.*`` columns that a run lacks are null for its rows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from archgym.atomic import atomic_path
from archgym.dataset import (
    DatasetMetadata,
    dataset_metadata,
    find_shards,
    is_validation_shard,
    param_columns,
    read_shard,
    run_completeness,
    shard_run_dir,
)
from archgym.errors import MixedDatasetError as MixedDatasetError
from archgym.logger import (
    HEAD_FIELDS,
    META_METRICS,
    META_OBJECTIVE,
    META_SCHEMA_VERSION,
    SCHEMA_VERSION,
    SHARD_GLOB,
)
from archgym.objective import canonical_json
from archgym.provenance import is_proxy_source

SOURCE_RUN_DIR = "source_run_dir"
SOURCE_SHARD = "source_shard"
OCCURRENCES = "n_occurrences"
PROVENANCE_COLUMNS = (SOURCE_RUN_DIR, SOURCE_SHARD, OCCURRENCES)
#: columns every logger shard holds, in order (param.* and metric.* sit between cached and reward)
CORE_COLUMNS = tuple(name for name, _ in HEAD_FIELDS)
TAIL_COLUMNS = ("reward", "feasible", "success", "error", "timestamp")
#: what identifies a unique evaluation besides the param.* columns
DEDUPE_KEYS = ("env_id", "workload", "simulator_version")
EXPORT_FORMATS = (".parquet", ".csv")
#: key-value metadata of an export: every objective block in it, by hash
META_OBJECTIVES = b"archgym.objectives"


@dataclass
class MergeStats:
    """What :func:`merge_runs` kept and left out, for the one-line report."""

    runs: int = 0  # runs whose rows are in the result (counted before dedupe)
    rows_read: int = 0
    proxy_rows_dropped: int = 0
    other_env_rows_dropped: int = 0
    incomplete_runs: list[str] = field(default_factory=list)
    duplicates_dropped: int = 0
    validation_rows_dropped: int = 0

    def describe(self) -> str:
        notes = []
        if self.duplicates_dropped:
            notes.append(f"{self.duplicates_dropped} duplicate rows dropped")
        if self.validation_rows_dropped:
            notes.append(
                f"{self.validation_rows_dropped} rows of archgym validate left out (--include-validation keeps them)"
            )
        if self.proxy_rows_dropped:
            notes.append(f"{self.proxy_rows_dropped} proxy rows left out (--include-proxy keeps them)")
        if self.other_env_rows_dropped:
            notes.append(f"{self.other_env_rows_dropped} rows of other envs left out (--env)")
        if self.incomplete_runs:
            notes.append(
                f"{len(self.incomplete_runs)} incomplete runs left out (--no-complete-only keeps them)"
            )
        return "; ".join(notes)


def _read_shard(shard: Path) -> pd.DataFrame:
    df = read_shard(shard)
    df[SOURCE_RUN_DIR] = str(shard_run_dir(shard))
    df[SOURCE_SHARD] = shard.name
    return df


def _mixture(df: pd.DataFrame, column: str) -> dict[str, int]:
    if column not in df:
        return {}
    return {str(k): int(v) for k, v in df[column].fillna("(none)").value_counts(sort=False).items()}


def check_not_mixed(df: pd.DataFrame) -> None:
    """Raise :class:`MixedDatasetError` when ``df`` holds several env ids or objective hashes."""
    for column, what, hint in (
        ("env_id", "envs", "choose one with --env"),
        ("objective_hash", "objectives (targets/tolerance/weights/constraints differ)", ""),
    ):
        counts = _mixture(df, column)
        if len(counts) > 1:
            listed = ", ".join(f"{k} ({n} rows)" for k, n in counts.items())
            raise MixedDatasetError(
                f"the inputs mix {len(counts)} {what}: {listed}; "
                + (f"{hint}, or " if hint else "")
                + "pass --allow-mixed (allow_mixed=True) to merge them anyway"
            )


def merge_runs(
    paths: Sequence[str | os.PathLike],
    dedupe: bool = True,
    progress: bool = False,
    *,
    include_proxy: bool = False,
    allow_mixed: bool = False,
    env: Sequence[str] | None = None,
    complete_only: bool = True,
    include_validation: bool = False,
) -> tuple[pd.DataFrame, MergeStats]:
    """One DataFrame from every shard under ``paths`` (see module doc), and what was left out.

    Raises:
        FileNotFoundError: a path does not exist, or there are no shards under any of them.
        MixedDatasetError: several env ids or objectives without ``allow_mixed``.
        ValueError: the filters leave no row.
    """
    if not paths:
        raise ValueError("merge_datasets needs at least one path")
    shards = [s for p in paths for s in find_shards(p)]
    if not shards:
        raise FileNotFoundError(f"no dataset shards ({SHARD_GLOB}) under {', '.join(map(str, paths))}")
    stats = MergeStats()
    if not include_validation:
        validation = [s for s in shards if is_validation_shard(s)]
        stats.validation_rows_dropped = sum(pq.ParquetFile(s).metadata.num_rows for s in validation)
        shards = [s for s in shards if not is_validation_shard(s)]
    if complete_only:
        verdict = {d: run_completeness(d) for d in dict.fromkeys(shard_run_dir(s) for s in shards)}
        stats.incomplete_runs = [str(d) for d, why in verdict.items() if why is not None]
        shards = [s for s in shards if verdict[shard_run_dir(s)] is None]
        if not shards:
            raise ValueError(
                f"no complete run under {', '.join(map(str, paths))} ({len(verdict)} incomplete: "
                f"{next(iter(verdict.values()))}); pass --no-complete-only to merge them anyway"
            )
    from tqdm.auto import tqdm

    frames = [_read_shard(s) for s in tqdm(shards, desc="reading shards", unit="shard", disable=not progress)]
    df = pd.concat(frames, ignore_index=True, sort=False)
    stats.rows_read = len(df)
    if not include_proxy and "source" in df:
        proxy = df["source"].map(is_proxy_source).astype(bool)
        stats.proxy_rows_dropped = int(proxy.sum())
        df = df.loc[~proxy]
    if env:
        keep = df["env_id"].isin(list(env))
        stats.other_env_rows_dropped = int((~keep).sum())
        df = df.loc[keep]
    if df.empty:
        raise ValueError(f"no rows left after the filters ({stats.describe()})")
    df = df.reset_index(drop=True)
    if not allow_mixed:
        check_not_mixed(df)
    stats.runs = int(df[SOURCE_RUN_DIR].nunique()) if "run_id" not in df else int(df["run_id"].nunique())
    if not dedupe:
        return df.assign(**{OCCURRENCES: 1}), stats
    out = dedupe_designs(df)
    stats.duplicates_dropped = int(out[OCCURRENCES].sum()) - len(out)
    return out, stats


def merge_datasets(
    paths: Sequence[str | os.PathLike],
    dedupe: bool = True,
    progress: bool = False,
    *,
    include_proxy: bool = False,
    allow_mixed: bool = False,
    env: Sequence[str] | None = None,
    complete_only: bool = True,
    include_validation: bool = False,
) -> pd.DataFrame:
    """The DataFrame of :func:`merge_runs` (same arguments and errors)."""
    return merge_runs(
        paths,
        dedupe,
        progress,
        include_proxy=include_proxy,
        allow_mixed=allow_mixed,
        env=env,
        complete_only=complete_only,
        include_validation=include_validation,
    )[0]


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


def export_metadata(meta: DatasetMetadata) -> dict[bytes, bytes]:
    """Parquet key-value metadata of an export: schema version, objective(s), metric units/directions."""
    single = next(iter(meta.objectives.values())) if len(meta.objectives) == 1 else {}
    return {
        META_SCHEMA_VERSION: str(SCHEMA_VERSION).encode(),
        META_OBJECTIVE: canonical_json(single).encode(),
        META_OBJECTIVES: canonical_json(meta.objectives).encode(),
        META_METRICS: canonical_json(meta.metrics).encode(),
    }


def export_dataset(
    df: pd.DataFrame, path: str | os.PathLike, metadata: DatasetMetadata | None = None
) -> Path:
    """Write ``df`` as Parquet or CSV (chosen by the suffix) via a temporary file + rename.

    A Parquet export carries ``metadata`` (objectives, metric units and directions; see
    :func:`archgym.dataset.dataset_metadata`) as key-value metadata, restricted to the
    objectives of its rows.
    """
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
            kv = None
            if metadata is not None:
                kept = set(df["objective_hash"].dropna()) if "objective_hash" in df else set()
                objectives = {h: b for h, b in metadata.objectives.items() if h in kept}
                kv = export_metadata(DatasetMetadata(metadata.schema_versions, objectives, metadata.metrics))
            pq.write_table(table.cast(schema).replace_schema_metadata(kv), tmp)
        else:
            df.to_csv(tmp, index=False)
    return out


def load_export(path: str | os.PathLike) -> pd.DataFrame:
    """Read a file written by :func:`export_dataset`."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no exported dataset at {p}")
    return pq.read_table(p).to_pandas() if p.suffix == ".parquet" else pd.read_csv(p)


__all__ = [
    "CORE_COLUMNS",
    "MergeStats",
    "MixedDatasetError",
    "check_not_mixed",
    "dataset_metadata",
    "export_metadata",
    "merge_runs",
    "run_completeness",
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
]
