"""Loading datasets written by :class:`archgym.logger.DatasetLogger`.

:func:`load_dataset` takes any mix of shard files, run directories and sweep directories
and returns one pandas DataFrame. Temporary files of an interrupted flush (``.part-*.tmp.parquet``)
are never read, so a killed run loads with every flushed row.

Datasets of every schema version load: shards written before schema 2 (string timestamps,
no provenance columns) get ``timestamp`` parsed to UTC and ``source`` derived from
``simulator_version``; the other new columns are null for their rows.
:func:`dataset_metadata` reads what the shards' metadata says (objective, metric units and
directions, schema version).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

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
from archgym.provenance import PROXY_SOURCE_PREFIX, SIMULATOR_SOURCE


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


def load_dataset(*paths: str | os.PathLike) -> pd.DataFrame:
    """Concatenate every shard under the given paths into one DataFrame (rows in file order).

    Raises:
        FileNotFoundError: a path does not exist, or no shard was found under any path.
    """
    if not paths:
        raise ValueError("load_dataset needs at least one path")
    shards = [s for p in paths for s in find_shards(p)]
    if not shards:
        raise FileNotFoundError(f"no dataset shards ({SHARD_GLOB}) under {', '.join(map(str, paths))}")
    frames = [read_shard(s) for s in shards]
    return pd.concat(frames, ignore_index=True, sort=False)


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
