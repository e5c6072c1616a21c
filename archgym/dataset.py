"""Loading datasets written by :class:`archgym.logger.DatasetLogger`.

:func:`load_dataset` takes any mix of shard files, run directories and sweep directories
and returns one pandas DataFrame of *one run set*: by default it keeps

* only complete runs (a run directory whose ``summary.json`` says ``complete: true`` and
  whose dataset has that many rows; a directory the logger wrote without ``run.json`` or
  ``summary.json`` counts as complete) — ``complete_only=False`` keeps cut-off runs;
* only rows a simulator computed — ``include_proxy=True`` keeps a proxy's predictions;
* no rows of ``archgym validate`` (the ``validation-<simulator>/`` directories beside a run's
  ``dataset/``) — ``include_validation=True`` keeps them;
* one env and one objective: ``env=`` / ``objective=`` choose them, else the env and then the
  objective with the most rows is kept — ``allow_mixed=True`` keeps every one;

and warns (:class:`LeftOutWarning`, one line) naming what it left out. Temporary files of an
interrupted flush (``.part-*.tmp.parquet``) are never read, so a killed run loads with every
flushed row.

Datasets of every schema version load: shards written before schema 2 (string timestamps,
no provenance columns) get ``timestamp`` parsed to UTC and ``source`` derived from
``simulator_version``; the other new columns are null for their rows.
:func:`dataset_metadata` reads what the shards' metadata says (objective, metric units and
directions, schema version).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from archgym.errors import LeftOutWarning
from archgym.logger import (
    META_METRICS,
    META_OBJECTIVE,
    META_SCHEMA_VERSION,
    METRIC_PREFIX,
    PARAM_PREFIX,
    SHARD_GLOB,
    TIMESTAMP_TYPE,
)
from archgym.objective import objective_hash
from archgym.provenance import PROXY_SOURCE_PREFIX, SIMULATOR_SOURCE, is_proxy_source
from archgym.sweep import DATASET_DIR, RUN_FILE, SUMMARY_FILE, dataset_rows


def find_shards(path: str | os.PathLike) -> list[Path]:
    """All complete shards under ``path`` (a shard file, a run or a sweep directory), sorted."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no dataset at {p}: the path does not exist")
    if p.is_file():
        if p.suffix != ".parquet":
            raise ValueError(f"{p} is not a Parquet shard (expected a .parquet file or a directory)")
        return [p]
    return sorted(q for q in p.rglob(SHARD_GLOB) if not q.name.startswith("."))


#: ``archgym validate`` writes its rows to ``<run>/validation-<simulator>/``
VALIDATION_PREFIX = "validation-"


def is_validation_shard(shard: Path) -> bool:
    """True for a shard ``archgym validate`` wrote (in a ``validation-<simulator>/`` directory)."""
    return shard.parent.name.startswith(VALIDATION_PREFIX)


def shard_run_dir(shard: Path) -> Path:
    """The run directory a shard belongs to (the parent of its ``dataset/``, else its directory)."""
    return shard.parent.parent if shard.parent.name == DATASET_DIR else shard.parent


def run_completeness(run_dir: str | os.PathLike, require_summary: bool = True) -> str | None:
    """``None`` when a run directory holds a complete run, else why not.

    With ``require_summary=False`` a directory with neither ``run.json`` nor ``summary.json``
    (shards a :class:`~archgym.logger.DatasetLogger` wrote outside a run) counts as complete.
    """
    d = Path(run_dir)
    summary_file = d / SUMMARY_FILE
    if not require_summary and not summary_file.exists() and not (d / RUN_FILE).exists():
        return None
    try:
        summary = json.loads(summary_file.read_text())
    except (OSError, ValueError):
        return f"no readable {SUMMARY_FILE} (the run was cut off)"
    if not summary.get("complete", False):
        return f"{SUMMARY_FILE} says complete: false"
    rows = dataset_rows(d / DATASET_DIR)
    if rows != summary.get("evaluations"):
        return f"{rows} rows, {SUMMARY_FILE} says {summary.get('evaluations')}"
    return None


def load_dataset(
    *paths: str | os.PathLike,
    complete_only: bool = True,
    include_proxy: bool = False,
    include_validation: bool = False,
    env: str | None = None,
    objective: str | None = None,
    allow_mixed: bool = False,
) -> pd.DataFrame:
    """One run set from every shard under the given paths (rows in file order; see the module doc).

    Raises:
        FileNotFoundError: a path does not exist, or no shard was found under any path.
        ValueError: the filters leave no row (the message names what was left out and the option
            that keeps it).
    """
    if not paths:
        raise ValueError("load_dataset needs at least one path")
    shards = [s for p in paths for s in find_shards(p)]
    if not shards:
        raise FileNotFoundError(f"no dataset shards ({SHARD_GLOB}) under {', '.join(map(str, paths))}")
    notes: list[str] = []
    if not include_validation:
        validation = [s for s in shards if is_validation_shard(s)]
        if validation:
            notes.append(f"{_rows(validation)} rows of archgym validate (include_validation=True keeps them)")
            shards = [s for s in shards if not is_validation_shard(s)]
    if complete_only:
        verdict = {d: run_completeness(d, False) for d in dict.fromkeys(map(shard_run_dir, shards))}
        cut = [str(d) for d, why in verdict.items() if why is not None]
        if cut:
            notes.append(
                f"{len(cut)} incomplete run(s) ({', '.join(cut[:3])}{', ...' if len(cut) > 3 else ''}; "
                "complete_only=False keeps them)"
            )
            shards = [s for s in shards if verdict[shard_run_dir(s)] is None]
    df = (
        pd.concat([read_shard(s) for s in shards], ignore_index=True, sort=False)
        if shards
        else pd.DataFrame()
    )
    df = _select_run_set(df, notes, include_proxy, env, objective, allow_mixed)
    if notes:
        warnings.warn("load_dataset left out " + "; ".join(notes), LeftOutWarning, stacklevel=2)
    if df.empty:
        raise ValueError(f"no rows left under {', '.join(map(str, paths))}: left out " + "; ".join(notes))
    return df


def _rows(shards: Sequence[Path]) -> int:
    return sum(pq.ParquetFile(s).metadata.num_rows for s in shards)


def _select_run_set(
    df: pd.DataFrame,
    notes: list[str],
    include_proxy: bool,
    env: str | None,
    objective: str | None,
    allow_mixed: bool,
) -> pd.DataFrame:
    """Keep simulator rows and one env and objective, appending what was dropped to ``notes``."""
    if df.empty:
        return df
    if not include_proxy and "source" in df:
        proxy = df["source"].map(is_proxy_source).astype(bool)
        if proxy.any():
            notes.append(f"{int(proxy.sum())} proxy rows (include_proxy=True keeps them)")
            df = df.loc[~proxy]
    for column, wanted, option in (("env_id", env, "env"), ("objective_hash", objective, "objective")):
        if df.empty or column not in df or (allow_mixed and wanted is None):
            continue
        counts = df[column].fillna("").value_counts(sort=True)
        keep = wanted if wanted is not None else str(counts.index[0])
        others = {k: int(v) for k, v in counts.items() if k != keep}
        if others:
            listed = ", ".join(f"{k or '(none)'} ({n} rows)" for k, n in others.items())
            notes.append(
                f"other {option}s {listed}, keeping {keep} ({option}=... chooses, allow_mixed=True keeps all)"
            )
            df = df.loc[df[column].fillna("") == keep]
    return df.reset_index(drop=True)


def shard_schema_version(schema: pa.Schema) -> int:
    """The schema version a shard was written with (1 for shards that do not say)."""
    raw = (schema.metadata or {}).get(META_SCHEMA_VERSION)
    return int(raw) if raw else 1


def read_shard(path: str | os.PathLike) -> pd.DataFrame:
    """One shard as a DataFrame, upgraded to the current schema's column types (see module doc)."""
    table = pq.read_table(path)
    if shard_schema_version(table.schema) < 2:
        table = _upgrade_v1(table)
    return table.to_pandas()


def _upgrade_v1(table: pa.Table) -> pa.Table:
    """Schema 1 -> 2: UTC timestamps instead of ISO strings, ``source`` from the simulator version."""
    if "timestamp" in table.column_names and pa.types.is_string(table.schema.field("timestamp").type):
        parsed = pd.to_datetime(table.column("timestamp").to_pandas(), utc=True, format="ISO8601")
        i = table.column_names.index("timestamp")
        table = table.set_column(i, pa.field("timestamp", TIMESTAMP_TYPE), pa.array(parsed, TIMESTAMP_TYPE))
    if "source" not in table.column_names and "simulator_version" in table.column_names:
        # schema 1 proxies wrote simulator_version "proxy-<kind>[...]" (kind known, file hash not)
        source = [
            PROXY_SOURCE_PREFIX + v[len("proxy-") :].split("[", 1)[0] + ":unknown"
            if isinstance(v, str) and v.startswith("proxy-")
            else SIMULATOR_SOURCE
            for v in table.column("simulator_version").to_pylist()
        ]
        table = table.append_column(pa.field("source", pa.string()), pa.array(source, pa.string()))
    return table


@dataclass(frozen=True)
class DatasetMetadata:
    """What the shards' key-value metadata says (see :mod:`archgym.logger`)."""

    schema_versions: tuple[int, ...]
    #: objective hash -> objective block
    objectives: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: metric -> {"unit": .., "better": "lower"|"higher"}
    metrics: dict[str, dict[str, str]] = field(default_factory=dict)

    def better(self, metric: str, default: str = "lower") -> str:
        return str(self.metrics.get(metric, {}).get("better", default))

    def unit(self, metric: str) -> str:
        return str(self.metrics.get(metric, {}).get("unit", ""))


def dataset_metadata(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> DatasetMetadata:
    """Objectives, metric units/directions and schema versions recorded in the shards under ``paths``.

    Only the Parquet footers are read. Shards of schema 1 contribute nothing but their version.
    """
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    versions: set[int] = set()
    objectives: dict[str, dict[str, Any]] = {}
    metrics: dict[str, dict[str, str]] = {}
    for shard in (s for p in items for s in find_shards(p)):
        schema = pq.read_schema(shard)
        meta = schema.metadata or {}
        versions.add(shard_schema_version(schema))
        if meta.get(META_OBJECTIVE):
            block = json.loads(meta[META_OBJECTIVE])
            if block:
                objectives.setdefault(objective_hash(block), block)
        if meta.get(META_METRICS):
            for name, info in json.loads(meta[META_METRICS]).items():
                metrics.setdefault(name, info)
    return DatasetMetadata(tuple(sorted(versions)), objectives, metrics)


def param_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith(PARAM_PREFIX)]


def metric_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith(METRIC_PREFIX)]
