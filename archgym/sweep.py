"""Resumable runs: skip a run that already finished, resume one that was cut off (by replay).

A sweep is resumable when every job maps to the same directory each time the sweep is
launched. ``conf/config.yaml`` names sweep jobs by their overrides
(``hydra.sweep.subdir: ${hydra.job.override_dirname}``), so with a fixed sweep directory
(``hydra.sweep.dir=multirun/my-study``, or a preset that sets one) re-running the same
command finds each job's previous output. :func:`run_experiment` then calls
:func:`check_resume` before it builds anything (and :func:`start_run` once the env and agent
are built, so a bad config leaves a previous attempt alone):

* **complete** — ``run.json`` holds the same config fingerprint, ``summary.json`` says
  ``complete: true`` and the dataset has exactly ``summary.evaluations`` rows: the run is
  skipped and its summary returned.
* **incomplete** (killed before the summary, ``complete: false``, a row count that does
  not match): the run is *resumed by replay* when its flushed rows are steps ``1..n`` of one
  run — they stay, the re-run's first ``n`` proposals are checked against them and answered
  from them, and only the rest is simulated (:mod:`archgym.replay`), so the dataset keeps one
  ``run_id``; otherwise (no rows, a missing shard) ``dataset/`` and ``summary.json`` are
  removed and the run starts again from scratch, so no dataset ever mixes two attempts.
* **changed** (the directory holds the dataset of a *different* config): refused with a
  :class:`~archgym.registry.ConfigError`, so no finished dataset is ever deleted by accident;
  ``resume=false`` replaces it explicitly.

Every step runs under the directory's lock (:mod:`archgym.runlock`): a directory another run
is writing is never inspected, reset or resumed.

The fingerprint is the SHA-256 of the run's resolved config without the keys that do not
change results (``progress``, ``resume``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow.parquet as pq

from archgym.atomic import write_text_atomic
from archgym.errors import ConfigError
from archgym.logger import SHARD_GLOB

RUN_FILE = "run.json"
SUMMARY_FILE = "summary.json"
DATASET_DIR = "dataset"
#: config keys that do not change a run's results (left out of the fingerprint); ``suite`` is a
#: suite's task table (a run's share of it is its resolved env and budget); ``evaluator``
#: holds only ``workers`` and ``backend``, and N workers of either backend log the same dataset
#: as one (tests/test_agents_workers.py)
VOLATILE_KEYS = ("progress", "resume", "evaluator", "suite")

Status = Literal["absent", "complete", "incomplete", "changed"]


@dataclass(frozen=True)
class RunState:
    """What :func:`inspect_run` found in a run directory."""

    status: Status
    reason: str
    summary: dict[str, Any] | None = None


def fingerprint(config: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a plain config mapping, ignoring :data:`VOLATILE_KEYS`."""
    kept = {k: v for k, v in config.items() if k not in VOLATILE_KEYS}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()


def dataset_rows(directory: str | os.PathLike) -> int:
    """Rows in the complete shards of a run's dataset directory (0 when it does not exist)."""
    d = Path(directory)
    if not d.is_dir():
        return 0
    return sum(
        pq.ParquetFile(s).metadata.num_rows for s in sorted(d.glob(SHARD_GLOB)) if not s.name.startswith(".")
    )


def inspect_run(output_dir: str | os.PathLike, config_fingerprint: str) -> RunState:
    """Classify a run directory as absent, complete, incomplete (cut off) or changed (other config)."""
    out = Path(output_dir)
    run_file, summary_file = out / RUN_FILE, out / SUMMARY_FILE
    if not run_file.exists() and not summary_file.exists() and not (out / DATASET_DIR).exists():
        return RunState("absent", "no previous run")
    try:
        recorded = json.loads(run_file.read_text()).get("fingerprint") if run_file.exists() else None
    except (OSError, ValueError):
        recorded = None
    if recorded != config_fingerprint:
        return RunState("changed", f"{run_file} is missing or records a different config")
    if not summary_file.exists():
        return RunState("incomplete", f"{summary_file} is missing (the run was cut off)")
    try:
        summary = json.loads(summary_file.read_text())
    except (OSError, ValueError) as exc:
        return RunState("incomplete", f"{summary_file} is unreadable ({exc})")
    if not summary.get("complete", False):
        return RunState("incomplete", f"{summary_file} says complete: false")
    rows = dataset_rows(out / DATASET_DIR)
    if rows != summary.get("evaluations"):
        return RunState(
            "incomplete", f"{out / DATASET_DIR} has {rows} rows, summary says {summary.get('evaluations')}"
        )
    return RunState("complete", f"complete ({rows} evaluations)", summary)


def reset_run(output_dir: str | os.PathLike) -> None:
    """Remove a previous attempt's dataset, summary and run file."""
    out = Path(output_dir)
    shutil.rmtree(out / DATASET_DIR, ignore_errors=True)
    for name in (SUMMARY_FILE, RUN_FILE):
        (out / name).unlink(missing_ok=True)


def check_resume(
    output_dir: str | os.PathLike, config: Mapping[str, Any], resume: bool = True
) -> dict[str, Any] | None:
    """The previous summary when a complete run of this config can be reused, else ``None``.

    Reads only. Raises :class:`ConfigError` when (with ``resume``) the directory holds the
    dataset of a run of a different config.
    """
    out = Path(output_dir)
    state = inspect_run(out, fingerprint(config))
    if resume and state.status == "complete":
        return state.summary
    if resume and state.status == "changed" and dataset_rows(out / DATASET_DIR) > 0:
        raise ConfigError(
            f"hydra.run.dir / hydra.sweep.dir: {out} already holds the dataset of a run with a different "
            f"config; choose another directory, or set resume=false to replace it"
        )
    return None


def start_run(output_dir: str | os.PathLike, config: Mapping[str, Any], resume: bool = True) -> int:
    """Prepare ``output_dir`` for a run and write ``run.json`` (the config fingerprint).

    With ``resume``, a cut-off run of the same config whose flushed rows are steps ``1..n`` of
    one run keeps its dataset (only its summary goes) and ``n`` is returned: the run replays
    those steps (:mod:`archgym.replay`). Any other previous attempt is removed and 0 returned.
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    fp = fingerprint(config)
    state = inspect_run(out, fp)
    kept, reason = 0, state.reason
    if resume and state.status == "incomplete":
        from archgym.replay import replayable  # reads shards; imported when a run is resumed

        why = replayable(out / DATASET_DIR)
        if why is None:
            kept = dataset_rows(out / DATASET_DIR)
            (out / SUMMARY_FILE).unlink(missing_ok=True)
        else:
            reason += f"; not resumed: {why}"
    if state.status != "absent" and not kept:
        reset_run(out)
    record = {"fingerprint": fp, "previous": state.status, "reason": reason, "resumed_rows": kept}
    write_text_atomic(out / RUN_FILE, json.dumps(record, indent=2))
    return kept


def prepare_run(
    output_dir: str | os.PathLike, config: Mapping[str, Any], resume: bool = True
) -> dict[str, Any] | None:
    """:func:`check_resume`, then :func:`start_run` unless the previous run can be reused.

    With ``resume`` a complete previous run with the same config is reused (its summary is
    returned and nothing is touched). Otherwise any previous attempt is removed and
    ``run.json`` (the config fingerprint) is written, and ``None`` returned: run it.
    The caller must hold the directory's :class:`~archgym.runlock.RunLock`.
    """
    previous = check_resume(output_dir, config, resume)
    if previous is None:
        start_run(output_dir, config, resume=False)  # no replay here: a cut-off attempt is cleared
    return previous


__all__ = [
    "RunState",
    "check_resume",
    "dataset_rows",
    "fingerprint",
    "inspect_run",
    "prepare_run",
    "reset_run",
    "start_run",
]
