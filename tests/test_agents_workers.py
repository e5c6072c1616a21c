"""Parallel evaluation inside a run (evaluator.workers, evaluator.backend): proposal order, same
dataset as one worker, per-design errors caught in the workers, clear errors for bad values."""

from __future__ import annotations

import pytest
from conftest import make_test_env

import archgym.parallel
from archgym.parallel import chunks
from archgym.registry import ConfigError, make_agent


def test_chunks_are_contiguous_nearly_equal_and_in_order():
    parts = chunks(list(range(10)), 3)
    assert parts == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert chunks([1, 2], 5) == [[1], [2]] and chunks([], 3) == []


def _run(
    workers: int, agent: str = "ga", budget: int = 40, backend: str = "process"
) -> tuple[list[tuple], bool]:
    env = make_test_env()  # the quadratic test simulator raises for units == 13
    env.evaluator.set_workers(workers, backend)
    rows = []
    env.add_recorder(
        lambda ev: rows.append(
            (ev.step, tuple(ev.design.values()), ev.metrics, ev.reward, ev.error, ev.cached)
        )
    )
    make_agent(agent, env.space, seed=3, population_size=8).run(env, budget)
    pool = env.evaluator._pool
    started = pool is not None and pool.started
    env.evaluator.close()
    assert pool is None or not pool.started
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


def _ray_config(tmp_path, **evaluator):
    return {
        "env": {"id": "archgym/Accelerator-v0", "kwargs": {"targets": {"latency_ms": 3.0, "area_mm2": 2.0}}},
        "agent": {"name": "random", "params": {}},
        "budget": 4,
        "evaluator": evaluator,
        "progress": False,
    }


def test_unknown_backend_and_missing_ray_are_one_line_config_errors(tmp_path, monkeypatch):
    from archgym.runner import run_experiment

    env = make_test_env()
    with pytest.raises(
        ConfigError, match="evaluator.backend: unknown backend 'dask'; choose one of process, ray"
    ):
        env.evaluator.set_workers(2, "dask")
    with pytest.raises(ConfigError, match="unknown backend 'dask'"):
        run_experiment(_ray_config(tmp_path, workers=2, backend="dask"), tmp_path / "run")
    assert not (tmp_path / "run").exists()  # a config error leaves no files behind

    monkeypatch.setattr(archgym.parallel, "ray_installed", lambda: False)
    with pytest.raises(ConfigError) as err:
        run_experiment(_ray_config(tmp_path, workers=2, backend="ray"), tmp_path / "run")
    message = str(err.value)
    assert "\n" not in message and "evaluator.backend=ray" in message and '".[ray]"' in message


@pytest.mark.slow  # starting and stopping a local Ray instance takes several seconds
def test_two_ray_actors_give_the_dataset_of_one_worker():
    ray = pytest.importorskip("ray", reason="Ray not installed (pip install -e .[ray])")
    import conftest

    # the test simulator lives in tests/conftest.py, which the actors cannot import: send it by value
    ray.cloudpickle.register_pickle_by_value(conftest)
    try:
        serial, _ = _run(1)
        on_ray, started = _run(2, backend="ray")
    finally:
        ray.cloudpickle.unregister_pickle_by_value(conftest)
    assert started  # the batches really went through the Ray actors
    assert not ray.is_initialized()  # the private Ray instance is shut down with the pool
    assert on_ray == serial
    assert any(r[4] is not None for r in serial)  # failed designs are caught per design in the actors
