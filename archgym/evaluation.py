"""Evaluation: one design through simulator and objective, with a per-run cache and a recorder hook.

Everything that evaluates a design — an agent's batch, an RL agent's ``env.step`` — goes
through :class:`Evaluator`, so every evaluation is counted, cached and logged the same way.

Duplicates: a design evaluated before in the same run is answered from the cache (no
simulator time, ``cached=True``) but still counts as one evaluation toward the budget, as
ArchGym counts every query of the cost model.

Parallel evaluation: with ``workers > 1`` (``evaluator.workers=N`` in a run's config) the
uncached designs of a batch are evaluated by ``N`` workers — local processes, or Ray actors
with ``evaluator.backend=ray`` (:mod:`archgym.parallel`); results are recorded in proposal
order, so the dataset is the same as with one worker.

Resume: :meth:`Evaluator.replay` hands it the rows a cut-off run logged
(:class:`~archgym.replay.ReplayLog`); the first ``n`` evaluations are then checked against
them and answered from them instead of the simulator (``replayed=True``), see :mod:`archgym.replay`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archgym.design_space import DesignSpace, design_key
from archgym.objective import Objective
from archgym.parallel import BatchPool, check_backend, make_pool
from archgym.simulator import Outcome, PreparedWorkload, Simulator, evaluate_safely

if TYPE_CHECKING:  # archgym.replay reads the logger's columns; the logger imports this module
    from archgym.replay import ReplayLog


@dataclass
class Evaluation:
    """One evaluated design: the row a dataset stores."""

    design: dict[str, Any]
    metrics: dict[str, float] | None
    reward: float
    feasible: bool
    success: bool
    error: str | None = None
    wall_time_s: float = 0.0
    cached: bool = False
    step: int = 0  # 1-based position in the run's sequence of evaluations
    extra: dict[str, Any] = field(default_factory=dict)
    #: answered from the dataset of the run being resumed (already logged; see archgym.replay)
    replayed: bool = False


Recorder = Callable[[Evaluation], None]


class Evaluator:
    """Evaluates designs on one simulator + workload + objective, caching per run."""

    def __init__(
        self,
        space: DesignSpace,
        simulator: Simulator[Any],
        workload: PreparedWorkload[Any],
        objective: Objective,
        workers: int = 1,
        backend: str = "process",
    ) -> None:
        objective.check_metrics(simulator.metrics)
        self.space, self.simulator, self.objective = space, simulator, objective
        self.workload: PreparedWorkload[Any] = simulator.prepared(workload)
        self._cache: dict[tuple, tuple[dict | None, str | None, dict]] = {}
        self._recorders: list[Recorder] = []
        self.count = 0
        self._pool: BatchPool | None = None
        self._replay: ReplayLog | None = None
        self.set_workers(workers, backend)

    def replay(self, log: ReplayLog | None) -> None:
        """Answer evaluations ``count+1 .. len(log)`` from ``log`` (a resumed run's rows), checking designs."""
        self._replay = log

    def set_workers(self, workers: int, backend: str = "process") -> None:
        """Evaluate each batch's uncached designs in ``workers`` workers (1 = in this process).

        ``backend`` is ``"process"`` (local processes) or ``"ray"`` (Ray actors; needs the
        ``[ray]`` extra); a bad value raises :class:`~archgym.registry.ConfigError`.
        """
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"evaluator.workers must be an integer >= 1, got {workers!r}")
        check_backend(backend)
        self.close()
        self.workers, self.backend = workers, backend
        self._pool = make_pool(self.simulator, self.workload.data, workers, backend) if workers > 1 else None

    def close(self) -> None:
        """Stop the workers, if any (they start again on the next batch)."""
        if getattr(self, "_pool", None) is not None:
            self._pool.close()  # type: ignore[union-attr]

    def add_recorder(self, recorder: Recorder) -> None:
        """Call ``recorder(evaluation)`` after every evaluation (e.g. a dataset logger)."""
        self._recorders.append(recorder)

    def with_simulator(self, simulator: Simulator[Any], workload: PreparedWorkload[Any]) -> Evaluator:
        """A fresh evaluator (empty cache, count 0) on another simulator and the workload it
        prepared, keeping the recorders."""
        other = Evaluator(self.space, simulator, workload, self.objective, self.workers, self.backend)
        other._recorders = list(self._recorders)
        return other

    def remove_recorder(self, recorder: Recorder) -> None:
        self._recorders.remove(recorder)

    def __call__(self, designs: Sequence[Mapping[str, Any]]) -> list[Evaluation]:
        """Validate, evaluate (uncached designs as one batch), score, count and record."""
        canon = [self.space.validate(d) for d in designs]
        keys = [design_key(d) for d in canon]
        todo: dict[tuple, dict] = {}
        for k, d in zip(keys, canon):
            if k not in self._cache and k not in todo:
                todo[k] = d
        answered = self._replayed(keys, canon, todo)
        designs_todo = [d for k, d in todo.items() if k not in answered]
        if self._pool is not None:
            fresh = self._pool.evaluate(designs_todo)
        else:
            fresh = evaluate_safely(self.simulator, designs_todo, self.workload.data)
        outcomes = dict(zip([k for k in todo if k not in answered], fresh))
        outcomes.update(answered)
        times = {}
        for k in todo:
            out = outcomes[k]
            self._cache[k] = (out.metrics, out.error, out.extra)
            times[k] = out.wall_time_s
        n_replayed = len(self._replay) if self._replay is not None else 0
        results = []
        seen_now: set[tuple] = set()
        for k, d in zip(keys, canon):
            metrics, error, extra = self._cache[k]
            first = k in times and k not in seen_now
            seen_now.add(k)
            score = self.objective(metrics)
            self.count += 1
            ev = Evaluation(
                design=d,
                metrics=dict(metrics) if metrics is not None else None,
                reward=score.reward,
                feasible=score.feasible and error is None,
                success=score.success and error is None,
                error=error,
                wall_time_s=times[k] if first else 0.0,
                cached=not first,
                step=self.count,
                extra=dict(extra),
                replayed=self.count <= n_replayed,
            )
            for rec in self._recorders:
                rec(ev)
            results.append(ev)
        return results

    def _replayed(
        self, keys: Sequence[tuple], canon: Sequence[dict], todo: Mapping[tuple, dict]
    ) -> dict[tuple, Outcome]:
        """Outcomes of the uncached designs whose first step is in the replay log (designs checked)."""
        log = self._replay
        if log is None or self.count >= len(log):
            return {}
        answered: dict[tuple, Outcome] = {}
        for i, (k, d) in enumerate(zip(keys, canon)):
            step = self.count + i + 1
            if step > len(log):
                break
            row = log.check(step, d)  # raises ReplayMismatchError naming the step
            if k in todo and k not in answered:
                answered[k] = Outcome(row.metrics, row.error, row.wall_time_s, dict(row.extra))
        return answered
