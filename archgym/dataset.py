"""Loading datasets written by :class:`archgym.logger.DatasetLogger`.

:func:`load_dataset` takes any mix of shard files, run directories and sweep directories
and returns one pandas DataFrame. Temporary files of an interrupted flush (``.part-*.tmp.parquet``)
are never read, so a killed run loads with every flushed row.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from archgym.logger import METRIC_PREFIX, PARAM_PREFIX, SHARD_GLOB


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
    frames = [pq.read_table(s).to_pandas() for s in shards]
    return pd.concat(frames, ignore_index=True, sort=False)


def param_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith(PARAM_PREFIX)]


def metric_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith(METRIC_PREFIX)]
