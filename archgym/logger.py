"""The dataset logger: every evaluation becomes one row of a columnar (Parquet) dataset.

Rows are buffered and written as numbered shards ``part-00000.parquet``,
``part-00001.parquet`` ... every ``flush_every`` rows and on close. Each shard is written to a
temporary file in the same directory and then atomically renamed, so a run killed at any
moment (even by SIGKILL) leaves only complete shards: it loses at most the rows not yet
flushed. Shards are never rewritten, so the dataset is append-safe.

Columns (see the README's "Dataset schema"):

========================  =====================================================
``run_id``                unique id of the run (string)
``env_id``                gymnasium id, e.g. ``archgym/DRAMController-v0``
``workload``              workload name or trace path
``simulator_version``     the simulator's provenance string
``agent``                 agent config name
``agent_params``          the agent's hyperparameters as sorted JSON
``agent_params_hash``     first 12 hex digits of the SHA-256 of ``agent_params``
``seed``                  the run's seed
``step``                  1-based evaluation index within the run
``wall_time_s``           simulator wall-clock time of this evaluation (0 if cached)
``cached``                true if answered from the run's cache (duplicate design)
``param.<name>``          one column per design parameter
``metric.<name>``         one column per metric (NaN when the simulation failed)
``reward``                the objective's reward
``feasible``              false for failed simulations and violated constraints
``success``               the objective's target was met
``error``                 the simulator's error message, or null
``extra.<name>``          numbers a simulator reports beside its metrics (a proxy's
                          ``<metric>_std`` and ``out_of_range``); only when it has any
``timestamp``             UTC time the row was logged (ISO 8601)
========================  =====================================================
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from archgym.atomic import atomic_path
from archgym.design_space import Categorical, DesignSpace, Real
from archgym.evaluation import Evaluation

PARAM_PREFIX = "param."
METRIC_PREFIX = "metric."
EXTRA_PREFIX = "extra."
SHARD_GLOB = "part-*.parquet"


def _arrow_type(param: Any) -> pa.DataType:
    """Column type of a parameter: strings for categorical, int64 or float64 for numbers."""
    if isinstance(param, Categorical):
        return pa.string()
    if isinstance(param, Real) or any(isinstance(v, float) for v in getattr(param, "values", ())):
        return pa.float64()
    return pa.int64()


def params_json(params: Mapping[str, Any]) -> str:
    """Canonical JSON of hyperparameters (sorted keys, non-JSON values as strings)."""
    return json.dumps(dict(params), sort_keys=True, default=str)


def params_hash(params: Mapping[str, Any]) -> str:
    return hashlib.sha256(params_json(params).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class RunInfo:
    """Metadata shared by every row of one run."""

    run_id: str
    env_id: str
    workload: str
    simulator_version: str
    agent: str
    seed: int
    agent_params: Mapping[str, Any] = field(default_factory=dict)


class DatasetLogger:
    """Buffers evaluations and writes them as atomic Parquet shards.

    Use as an env recorder (``env.add_recorder(logger)``) and close it (or use it as a
    context manager) so the last rows are flushed.

    Args:
        directory: where shards go (created if missing).
        run: the run's metadata.
        space: the design space (its parameters, in order, give the ``param.*`` columns and types).
        metric_names: metrics, in column order.
        flush_every: rows per shard (the most a killed run can lose).
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        run: RunInfo,
        space: DesignSpace,
        metric_names: Sequence[str],
        flush_every: int = 100,
        extra_columns: Sequence[str] = (),
    ) -> None:
        if flush_every < 1:
            raise ValueError(f"logger.flush_every must be >= 1, got {flush_every}")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.run = run
        self.param_names = list(space.names)
        self._param_types = {p.name: _arrow_type(p) for p in space.params}
        self.metric_names = list(metric_names)
        self.extra_columns = list(extra_columns)
        self.flush_every = int(flush_every)
        self._rows: list[dict[str, Any]] = []
        self._next_shard = self._first_free_shard()
        self.rows_written = 0
        self._closed = False
        self._params_json = params_json(run.agent_params)
        self._params_hash = params_hash(run.agent_params)

    def _first_free_shard(self) -> int:
        existing = sorted(self.directory.glob(SHARD_GLOB))
        return (int(existing[-1].stem.split("-")[1]) + 1) if existing else 0

    def __call__(self, ev: Evaluation) -> None:
        self.log(ev)

    def log(self, ev: Evaluation) -> None:
        """Buffer one evaluation; flushes a shard every ``flush_every`` rows."""
        if self._closed:
            raise RuntimeError("DatasetLogger is closed")
        row: dict[str, Any] = {
            "run_id": self.run.run_id,
            "env_id": self.run.env_id,
            "workload": self.run.workload,
            "simulator_version": self.run.simulator_version,
            "agent": self.run.agent,
            "agent_params": self._params_json,
            "agent_params_hash": self._params_hash,
            "seed": int(self.run.seed),
            "step": int(ev.step),
            "wall_time_s": float(ev.wall_time_s),
            "cached": bool(ev.cached),
        }
        for name in self.param_names:
            v = ev.design[name]
            row[PARAM_PREFIX + name] = str(v) if self._param_types[name] == pa.string() else v
        for name in self.metric_names:
            row[METRIC_PREFIX + name] = float(ev.metrics[name]) if ev.metrics is not None else float("nan")
        for name in self.extra_columns:
            row[EXTRA_PREFIX + name] = float(ev.extra.get(name, float("nan")))
        row.update(
            reward=float(ev.reward),
            feasible=bool(ev.feasible),
            success=bool(ev.success),
            error=ev.error,
            timestamp=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds"),
        )
        self._rows.append(row)
        if len(self._rows) >= self.flush_every:
            self.flush()

    def flush(self) -> Path | None:
        """Write buffered rows as the next shard (temp file + atomic rename)."""
        if not self._rows:
            return None
        table = pa.Table.from_pylist(self._rows, schema=self._schema())
        final = self.directory / f"part-{self._next_shard:05d}.parquet"
        with atomic_path(final) as tmp:
            pq.write_table(table, tmp)
        self._next_shard += 1
        self.rows_written += len(self._rows)
        self._rows.clear()
        return final

    def _schema(self) -> pa.Schema:
        fields = [
            pa.field("run_id", pa.string()),
            pa.field("env_id", pa.string()),
            pa.field("workload", pa.string()),
            pa.field("simulator_version", pa.string()),
            pa.field("agent", pa.string()),
            pa.field("agent_params", pa.string()),
            pa.field("agent_params_hash", pa.string()),
            pa.field("seed", pa.int64()),
            pa.field("step", pa.int64()),
            pa.field("wall_time_s", pa.float64()),
            pa.field("cached", pa.bool_()),
        ]
        for name in self.param_names:
            fields.append(pa.field(PARAM_PREFIX + name, self._param_types[name]))
        fields += [pa.field(METRIC_PREFIX + n, pa.float64()) for n in self.metric_names]
        fields += [pa.field(EXTRA_PREFIX + n, pa.float64()) for n in self.extra_columns]
        fields += [
            pa.field("reward", pa.float64()),
            pa.field("feasible", pa.bool_()),
            pa.field("success", pa.bool_()),
            pa.field("error", pa.string()),
            pa.field("timestamp", pa.string()),
        ]
        return pa.schema(fields)

    def close(self) -> None:
        """Flush the remaining rows; further logging raises."""
        if not self._closed:
            self.flush()
            self._closed = True

    def __enter__(self) -> DatasetLogger:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
