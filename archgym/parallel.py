"""Parallel evaluation inside one run: an agent's batch split across worker processes.

For slow simulators (the DRAM controller, NAS training) the designs of one batch — BO's
``q``, a GA generation, a random-search batch — are independent, so ``N`` worker
processes evaluate them ``N`` at a time. Each worker receives the simulator and workload
once, when it starts; a batch is cut into ``N`` contiguous chunks, one per worker, and the
results are put back **in proposal order**, so a run with ``N`` workers logs exactly the
dataset of a run with one (simulators are deterministic). Per-design errors are caught in
the worker (:func:`archgym.simulator.evaluate_safely`) as in a serial run.

Workers start on the first batch with more than one uncached design, by ``fork`` where the
platform has it: a forked worker inherits the simulator as built (compiled numba kernels,
loaded traces, objects that cannot be pickled such as the DRAM timing tables) at no cost;
elsewhere by ``spawn``, which pickles the simulator and workload. They are shut down by
:meth:`WorkerPool.close` or when the pool is garbage-collected.
"""

from __future__ import annotations

import multiprocessing
import weakref
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from archgym.simulator import Outcome, Simulator, evaluate_safely

_WORKER_STATE: dict[str, Any] = {}  # per worker process: its simulator and workload


def _init_worker(simulator: Simulator, workload: Any) -> None:
    _WORKER_STATE["simulator"], _WORKER_STATE["workload"] = simulator, workload


def _evaluate_chunk(designs: list[dict[str, Any]]) -> list[Outcome]:
    return evaluate_safely(_WORKER_STATE["simulator"], designs, _WORKER_STATE["workload"])


def chunks(items: Sequence[Any], n: int) -> list[list[Any]]:
    """``items`` cut into at most ``n`` contiguous, nearly equal, non-empty pieces (in order)."""
    n = max(1, min(n, len(items)))
    size, extra = divmod(len(items), n)
    out, start = [], 0
    for i in range(n):
        stop = start + size + (1 if i < extra else 0)
        out.append(list(items[start:stop]))
        start = stop
    return [c for c in out if c]


class WorkerPool:
    """``workers`` processes evaluating designs on one simulator and workload."""

    def __init__(self, simulator: Simulator, workload: Any, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"evaluator.workers must be >= 1, got {workers}")
        self.simulator, self.workload, self.workers = simulator, workload, int(workers)
        self._executor: ProcessPoolExecutor | None = None
        self._finalizer: Any = None

    def _start(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context(
                    "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
                ),
                initializer=_init_worker,
                initargs=(self.simulator, self.workload),
            )
            self._finalizer = weakref.finalize(self, self._executor.shutdown, wait=False, cancel_futures=True)
        return self._executor

    def evaluate(self, designs: Sequence[Mapping[str, Any]]) -> list[Outcome]:
        """Outcomes of ``designs``, in their order; serial when there is at most one."""
        if len(designs) <= 1 or self.workers == 1:
            return evaluate_safely(self.simulator, designs, self.workload)
        executor = self._start()
        parts = executor.map(_evaluate_chunk, chunks([dict(d) for d in designs], self.workers))
        return [outcome for part in parts for outcome in part]

    def close(self) -> None:
        """Stop the worker processes (a later batch starts them again)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            if self._finalizer is not None:
                self._finalizer.detach()
            self._executor = None
