"""The dataset logger: every evaluation becomes one row of a columnar (Parquet) dataset.

Rows are buffered and written as numbered shards ``part-00000.parquet``,
``part-00001.parquet`` ... every ``flush_every`` rows and on close. Each shard is written to a
temporary file in the same directory and then atomically renamed, so a run killed at any
moment (even by SIGKILL) leaves only complete shards: it loses at most the rows not yet
flushed. Shards are never rewritten, so the dataset is append-safe.

Columns (see the README's "Dataset schema"; schema version :data:`SCHEMA_VERSION`):

========================  =====================================================
``run_id``                unique id of the run (string)
``env_id``                gymnasium id, e.g. ``archgym/DRAMController-v0``
``workload``              workload name or trace path
``workload_hash``         SHA-256 of the trace file's bytes, or of the workload spec text
``env_kwargs``            the env's keyword arguments as canonical JSON
``simulator_version``     the simulator's provenance string
``source``                ``simulator``, or ``proxy:<kind>:<hash>`` for a trained proxy
``archgym_version``       the archgym version that wrote the row
``objective_hash``        12 hex digits of the SHA-256 of the objective block's canonical JSON
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
``timestamp``             when the row was logged: Arrow ``timestamp[ms, tz=UTC]``
========================  =====================================================

Each shard's key-value metadata holds :data:`META_SCHEMA_VERSION`, :data:`META_OBJECTIVE` (the
objective block as JSON) and :data:`META_METRICS` (``{metric: {"unit": .., "better": ..}}``),
so readers learn units, directions and the objective from the data itself.
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
from archgym.objective import canonical_json, objective_hash
from archgym.provenance import SIMULATOR_SOURCE, archgym_version
from archgym.simulator import Metric

PARAM_PREFIX = "param."
METRIC_PREFIX = "metric."
EXTRA_PREFIX = "extra."
SHARD_GLOB = "part-*.parquet"
#: version of the row schema; 1 = before provenance columns (string timestamps), 2 = this one
SCHEMA_VERSION = 2
META_SCHEMA_VERSION = b"archgym.schema_version"
META_OBJECTIVE = b"archgym.objective"
META_METRICS = b"archgym.metrics"


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


TIMESTAMP_TYPE = pa.timestamp("ms", tz="UTC")
#: the columns before ``param.*``, in order, with their Arrow types
HEAD_FIELDS: tuple[tuple[str, pa.DataType], ...] = (
    ("run_id", pa.string()),
    ("env_id", pa.string()),
    ("workload", pa.string()),
    ("workload_hash", pa.string()),
    ("env_kwargs", pa.string()),
    ("simulator_version", pa.string()),
    ("source", pa.string()),
    ("archgym_version", pa.string()),
    ("objective_hash", pa.string()),
    ("agent", pa.string()),
    ("agent_params", pa.string()),
    ("agent_params_hash", pa.string()),
    ("seed", pa.int64()),
    ("step", pa.int64()),
    ("wall_time_s", pa.float64()),
    ("cached", pa.bool_()),
)


def shard_metadata(run: RunInfo, metric_names: Sequence[str]) -> dict[bytes, bytes]:
    """Key-value metadata of every shard: schema version, objective block, metric units/directions."""
    by_name = {m.name: m for m in run.metrics}
    metrics = {
        n: {"unit": by_name[n].unit, "better": by_name[n].better} for n in metric_names if n in by_name
    }
    return {
        META_SCHEMA_VERSION: str(SCHEMA_VERSION).encode(),
        META_OBJECTIVE: canonical_json(dict(run.objective)).encode(),
        META_METRICS: canonical_json(metrics).encode(),
    }


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
    objective: Mapping[str, Any] = field(default_factory=dict)  # the block of objective_spec()
    metrics: Sequence[Metric] = ()  # units and directions, for the shards' metadata
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)
    workload_hash: str = ""
    source: str = SIMULATOR_SOURCE
    archgym_version: str = field(default_factory=archgym_version)

    @property
    def objective_hash(self) -> str:
        return objective_hash(self.objective) if self.objective else ""


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
        existing_rows: rows already in ``directory`` (a resumed run's); evaluations marked
            ``replayed`` are those rows and are not written again.
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        run: RunInfo,
        space: DesignSpace,
        metric_names: Sequence[str],
        flush_every: int = 100,
        extra_columns: Sequence[str] = (),
        existing_rows: int = 0,
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
        self.rows_written = int(existing_rows)
        self._closed = False
        self._params_json = params_json(run.agent_params)
        self._params_hash = params_hash(run.agent_params)
        self._constant = {
            "run_id": run.run_id,
            "env_id": run.env_id,
            "workload": run.workload,
            "workload_hash": run.workload_hash,
            "env_kwargs": canonical_json(dict(run.env_kwargs)),
            "simulator_version": run.simulator_version,
            "source": run.source,
            "archgym_version": run.archgym_version,
            "objective_hash": run.objective_hash,
            "agent": run.agent,
            "agent_params": self._params_json,
            "agent_params_hash": self._params_hash,
            "seed": int(run.seed),
        }
        self._metadata = shard_metadata(run, self.metric_names)

    def _first_free_shard(self) -> int:
        existing = sorted(self.directory.glob(SHARD_GLOB))
        return (int(existing[-1].stem.split("-")[1]) + 1) if existing else 0

    def __call__(self, ev: Evaluation) -> None:
        self.log(ev)

    def log(self, ev: Evaluation) -> None:
        """Buffer one evaluation; flushes a shard every ``flush_every`` rows (replayed ones are on disk)."""
        if self._closed:
            raise RuntimeError("DatasetLogger is closed")
        if ev.replayed:
            return
        row: dict[str, Any] = {
            **self._constant,
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
            timestamp=_dt.datetime.now(_dt.timezone.utc),
        )
        self._rows.append(row)
        if len(self._rows) >= self.flush_every:
            self.flush()

    def flush(self) -> Path | None:
        """Write buffered rows as the next shard (temp file + atomic rename)."""
        if not self._rows:
            return None
        table = pa.Table.from_pylist(self._rows, schema=self._schema().with_metadata(self._metadata))
        final = self.directory / f"part-{self._next_shard:05d}.parquet"
        with atomic_path(final) as tmp:
            pq.write_table(table, tmp)
        self._next_shard += 1
        self.rows_written += len(self._rows)
        self._rows.clear()
        return final

    def _schema(self) -> pa.Schema:
        fields = [pa.field(name, type_) for name, type_ in HEAD_FIELDS]
        for name in self.param_names:
            fields.append(pa.field(PARAM_PREFIX + name, self._param_types[name]))
        fields += [pa.field(METRIC_PREFIX + n, pa.float64()) for n in self.metric_names]
        fields += [pa.field(EXTRA_PREFIX + n, pa.float64()) for n in self.extra_columns]
        fields += [
            pa.field("reward", pa.float64()),
            pa.field("feasible", pa.bool_()),
            pa.field("success", pa.bool_()),
            pa.field("error", pa.string()),
            pa.field("timestamp", TIMESTAMP_TYPE),
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
