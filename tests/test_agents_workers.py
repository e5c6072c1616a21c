"""Parallel evaluation inside a run (evaluator.workers): proposal order, same dataset as one
worker, per-design errors caught in the workers, clear errors for bad values."""

from __future__ import annotations

import pytest
from conftest import make_test_env

from archgym.parallel import chunks
from archgym.registry import ConfigError, make_agent


def test_chunks_are_contiguous_nearly_equal_and_in_order():
    parts = chunks(list(range(10)), 3)
    assert parts == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert chunks([1, 2], 5) == [[1], [2]] and chunks([], 3) == []


def _run(workers: int, agent: str = "ga", budget: int = 40) -> tuple[list[tuple], object]:
    env = make_test_env()  # the quadratic test simulator raises for units == 13
    env.evaluator.set_workers(workers)
    rows = []
    env.add_recorder(
        lambda ev: rows.append(
            (ev.step, tuple(ev.design.values()), ev.metrics, ev.reward, ev.error, ev.cached)
        )
    )
    make_agent(agent, env.space, seed=3, population_size=8).run(env, budget)
    pool = env.evaluator._pool
    started = pool is not None and pool._executor is not None
    env.evaluator.close()
    return rows, started


def test_three_workers_give_the_dataset_of_one():
    serial, _ = _run(1)
    parallel, started = _run(3)
    assert started  # the batches really went through the worker processes
    assert parallel == serial
    assert any(r[4] is not None for r in serial)  # failed designs are caught per design in the workers


def test_bad_worker_counts_are_clear_errors(tmp_path):
    env = make_test_env()
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="evaluator.workers must be an integer >= 1"):
            env.evaluator.set_workers(bad)
    from archgym.runner import run_experiment

    cfg = {
        "env": {"id": "archgym/Accelerator-v0", "kwargs": {"targets": {"latency_ms": 3.0, "area_mm2": 2.0}}},
        "agent": {"name": "random", "params": {}},
        "budget": 4,
        "evaluator": {"workers": 0},
        "progress": False,
    }
    with pytest.raises(ConfigError, match="evaluator.workers"):
        run_experiment(cfg, tmp_path / "run")
