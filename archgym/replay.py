"""Resume by replay: a cut-off run answers its first proposals from the rows already on disk.

A run is seeded, so re-running a cut-off run with the same config and seed proposes the
same designs in the same order. :func:`load_replay` reads the run's flushed rows (steps
``1..n`` of one ``run_id``); the :class:`~archgym.evaluation.Evaluator` then answers steps
``1..n`` from them instead of the simulator (:meth:`ReplayLog.answer`), after checking that
each proposed design is the one logged at that step — a different design means the agent,
the env or the code changed, and the run stops with :class:`ReplayMismatchError` naming the
first differing step and parameter. From step ``n + 1`` on the simulator runs as usual and
the logger appends new shards, so the run keeps one dataset and one ``run_id``.

:func:`replayable` says whether a dataset directory can be replayed at all (its rows are
steps ``1..n`` of one run); :mod:`archgym.sweep` clears a directory that cannot.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from archgym.design_space import Categorical, DesignSpace
from archgym.errors import ConfigError, ReplayMismatchError
from archgym.logger import EXTRA_PREFIX, METRIC_PREFIX, PARAM_PREFIX, SHARD_GLOB


@dataclass(frozen=True)
class ReplayRow:
    """What the dataset recorded for one step: the design and the simulator's answer."""

    design: dict[str, Any]
    metrics: dict[str, float] | None
    error: str | None
    extra: dict[str, float]
    wall_time_s: float


@dataclass(frozen=True)
class ReplayLog:
    """The flushed rows of a cut-off run, in step order."""

    directory: Path
    run_id: str
    rows: tuple[ReplayRow, ...]

    def __len__(self) -> int:
        return len(self.rows)

    def check(self, step: int, design: Mapping[str, Any]) -> ReplayRow:
        """The row of ``step`` (1-based); raises :class:`ReplayMismatchError` if ``design`` is not its design."""
        row = self.rows[step - 1]
        for name, logged in row.design.items():
            if not _same(design.get(name), logged):
                raise ReplayMismatchError(
                    f"resume: {self.directory} records {name}={logged!r} at step {step} but the re-run "
                    f"proposed {name}={design.get(name)!r} (the agent, env or archgym version changed); "
                    "set resume=false to run it again from scratch"
                )
        return row


def _same(proposed: Any, logged: Any) -> bool:
    if isinstance(logged, str) or isinstance(proposed, str):
        return str(proposed) == str(logged)
    try:
        return bool(float(proposed) == float(logged))
    except (TypeError, ValueError):
        return False


def _shards(directory: Path) -> list[Path]:
    return sorted(s for s in directory.glob(SHARD_GLOB) if not s.name.startswith("."))


def replayable(directory: str | os.PathLike) -> str | None:
    """``None`` when the dataset directory holds steps ``1..n`` (n >= 1) of one run, else why not."""
    shards = _shards(Path(directory))
    if not shards:
        return "no flushed rows"
    table = pq.ParquetDataset(shards).read(columns=["run_id", "step"])
    ids = set(table.column("run_id").to_pylist())
    steps = np.sort(np.asarray(table.column("step").to_pylist(), dtype=np.int64))
    if len(ids) != 1:
        return f"rows of {len(ids)} runs"
    if not np.array_equal(steps, np.arange(1, len(steps) + 1)):
        return "its steps are not 1..n (a shard is missing)"
    return None


def load_replay(
    directory: str | os.PathLike,
    space: DesignSpace,
    metric_names: Sequence[str],
    extra_columns: Sequence[str] = (),
) -> ReplayLog:
    """The rows of a cut-off run's dataset directory as a :class:`ReplayLog` (see the module doc).

    Raises:
        ConfigError: the directory cannot be replayed (see :func:`replayable`), or it lacks a
            column of this env (another design space or metric set).
    """
    d = Path(directory)
    why = replayable(d)
    if why is not None:
        raise ConfigError(f"resume: {d} cannot be replayed: {why}")
    df = pq.ParquetDataset(_shards(d)).read().to_pandas().sort_values("step")
    wanted = [PARAM_PREFIX + n for n in space.names] + [METRIC_PREFIX + m for m in metric_names]
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise ConfigError(
            f"resume: {d} lacks column(s) {', '.join(missing)}; set resume=false to start again"
        )
    categorical = {p.name for p in space.params if isinstance(p, Categorical)}
    rows = []
    for rec in df.to_dict("records"):
        error = rec.get("error")
        error = None if error is None or (isinstance(error, float) and math.isnan(error)) else str(error)
        design = {
            n: (str(rec[PARAM_PREFIX + n]) if n in categorical else rec[PARAM_PREFIX + n])
            for n in space.names
        }
        metrics = None if error is not None else {m: float(rec[METRIC_PREFIX + m]) for m in metric_names}
        extra = {e: float(rec[EXTRA_PREFIX + e]) for e in extra_columns if EXTRA_PREFIX + e in rec}
        rows.append(ReplayRow(design, metrics, error, extra, float(rec["wall_time_s"])))
    return ReplayLog(d, str(df["run_id"].iloc[0]), tuple(rows))


__all__ = ["ReplayLog", "ReplayMismatchError", "ReplayRow", "load_replay", "replayable"]
