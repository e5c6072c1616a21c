"""Parallel evaluation inside one run: an agent's batch split across workers.

For slow simulators (the DRAM controller, NAS training) the designs of one batch — BO's
``q``, a GA generation, a random-search batch — are independent, so ``N`` workers evaluate
them ``N`` at a time. Each worker receives the simulator and workload once, when it starts;
a batch is cut into ``N`` contiguous chunks, one per worker, and the results are put back
**in proposal order**, so a run with ``N`` workers logs exactly the dataset of a run with
one (simulators are deterministic). Per-design errors are caught in the worker
(:func:`archgym.simulator.evaluate_safely`) as in a serial run.

Two backends share that chunking and ordering (:class:`BatchPool`):

- ``process`` (:class:`WorkerPool`): local worker processes, started by ``fork`` where the
  platform has it: a forked worker inherits the simulator as built (compiled numba kernels,
  loaded traces) at no cost; elsewhere by ``spawn``, which pickles the simulator and workload.
- ``ray`` (:class:`RayPool`, ``pip install -e ".[ray]"``): ``N`` Ray actors, each built
  from one copy of the simulator and workload in Ray's object store. Inside a running Ray
  job (a Ray sweep, ``ray.init`` done by the caller) the actors join that cluster; otherwise
  the pool starts a private Ray instance with ``N`` CPUs whose servers bind only to
  127.0.0.1, and shuts it down again on :meth:`~BatchPool.close`.

Workers start on the first batch with more than one uncached design and are stopped by
:meth:`~BatchPool.close` (the run's end) or when the pool is garbage-collected.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import weakref
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from archgym.errors import ConfigError
from archgym.simulator import Outcome, Simulator, evaluate_safely

BACKENDS = ("process", "ray")
"""Values of ``evaluator.backend``."""

_WORKER_STATE: dict[str, Any] = {}  # per worker process: its simulator and workload


def _init_worker(simulator: Simulator[Any], workload: Any) -> None:
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


def ray_installed() -> bool:
    """Whether Ray can be imported (without importing it: that takes a second)."""
    return importlib.util.find_spec("ray") is not None


def check_backend(backend: str) -> None:
    """Raise :class:`~archgym.registry.ConfigError` for an unknown backend or a missing Ray."""
    if backend not in BACKENDS:
        raise ConfigError(
            f"evaluator.backend: unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}"
        )
    if backend == "ray" and not ray_installed():
        raise ConfigError('evaluator.backend=ray needs Ray, which is not installed: pip install -e ".[ray]"')


def make_pool(simulator: Simulator[Any], workload: Any, workers: int, backend: str = "process") -> BatchPool:
    """The pool of ``workers`` workers of ``backend`` (see :data:`BACKENDS`)."""
    check_backend(backend)
    pool_class = RayPool if backend == "ray" else WorkerPool
    return pool_class(simulator, workload, workers)


class BatchPool(ABC):
    """``workers`` workers evaluating designs on one simulator and workload, results in order.

    Subclasses start their workers and run one chunk per worker (:meth:`_map`); the
    chunking, the serial shortcut and the proposal order live here, once.
    """

    def __init__(self, simulator: Simulator[Any], workload: Any, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"evaluator.workers must be >= 1, got {workers}")
        self.simulator, self.workload, self.workers = simulator, workload, int(workers)

    def evaluate(self, designs: Sequence[Mapping[str, Any]]) -> list[Outcome]:
        """Outcomes of ``designs``, in their order; serial when there is at most one."""
        if len(designs) <= 1 or self.workers == 1:
            return evaluate_safely(self.simulator, designs, self.workload)
        parts = self._map(chunks([dict(d) for d in designs], self.workers))
        return [outcome for part in parts for outcome in part]

    @property
    @abstractmethod
    def started(self) -> bool:
        """Whether the workers are running."""

    @abstractmethod
    def _map(self, parts: list[list[dict[str, Any]]]) -> Iterable[list[Outcome]]:
        """The outcomes of each part (at most ``workers`` parts), part by part in order."""

    @abstractmethod
    def close(self) -> None:
        """Stop the workers (a later batch starts them again)."""


class WorkerPool(BatchPool):
    """The ``process`` backend: local worker processes."""

    def __init__(self, simulator: Simulator[Any], workload: Any, workers: int) -> None:
        super().__init__(simulator, workload, workers)
        self._executor: ProcessPoolExecutor | None = None
        self._finalizer: Any = None

    @property
    def started(self) -> bool:
        return self._executor is not None

    def _map(self, parts: list[list[dict[str, Any]]]) -> Iterable[list[Outcome]]:
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
        return self._executor.map(_evaluate_chunk, parts)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            if self._finalizer is not None:
                self._finalizer.detach()
            self._executor = None


class _ChunkEvaluator:
    """A Ray actor's body: one simulator and workload, evaluating chunks of designs."""

    def __init__(self, simulator: Simulator[Any], workload: Any) -> None:
        self.simulator, self.workload = simulator, workload

    def evaluate(self, designs: list[dict[str, Any]]) -> list[Outcome]:
        return evaluate_safely(self.simulator, designs, self.workload)


def _stop_ray(actors: list[Any], owns_ray: bool) -> None:
    import ray

    for actor in actors:
        ray.kill(actor)
    actors.clear()
    if owns_ray and ray.is_initialized():
        ray.shutdown()


class RayPool(BatchPool):
    """The ``ray`` backend: ``workers`` Ray actors (one CPU each) holding the simulator once."""

    def __init__(self, simulator: Simulator[Any], workload: Any, workers: int) -> None:
        check_backend("ray")
        super().__init__(simulator, workload, workers)
        self._actors: list[Any] = []
        self._finalizer: Any = None

    @property
    def started(self) -> bool:
        return bool(self._actors)

    def _start(self) -> list[Any]:
        import ray

        owns_ray = not ray.is_initialized()
        if owns_ray:  # a private instance on this machine, every Ray server on 127.0.0.1 only
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
            ray.init(address="local", include_dashboard=False, num_cpus=self.workers)
        actor_class = ray.remote(num_cpus=1)(_ChunkEvaluator)
        simulator, workload = ray.put(self.simulator), ray.put(self.workload)
        self._actors = [actor_class.remote(simulator, workload) for _ in range(self.workers)]
        self._finalizer = weakref.finalize(self, _stop_ray, self._actors, owns_ray)
        return self._actors

    def _map(self, parts: list[list[dict[str, Any]]]) -> Iterable[list[Outcome]]:
        import ray

        actors = self._actors or self._start()
        return ray.get([actor.evaluate.remote(part) for actor, part in zip(actors, parts)])

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()  # kills the actors, and the Ray instance this pool started
            self._finalizer = None
        self._actors = []
