"""The dataset logger: columns, shards, atomic flushes, survival of SIGKILL."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import make_test_env

from archgym.dataset import load_dataset, metric_columns, param_columns
from archgym.logger import DatasetLogger, RunInfo, params_hash

RUN = RunInfo(
    run_id="r1",
    env_id="test/Quadratic-v0",
    workload="w64",
    simulator_version="quadratic-test-1",
    agent="random",
    seed=7,
    agent_params={"batch_size": 4},
)


def _log_n(env, logger, n, seed=0):
    env.add_recorder(logger)
    rng = np.random.default_rng(seed)
    return env.evaluate([env.space.sample(rng) for _ in range(n)])


def test_rows_have_every_column_and_reload(tmp_path):
    env = make_test_env()
    with DatasetLogger(tmp_path, RUN, env.space, env.simulator.metric_names, flush_every=4) as logger:
        evs = _log_n(env, logger, 10)
    shards = sorted(tmp_path.glob("part-*.parquet"))
    assert [s.name for s in shards] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    df = load_dataset(tmp_path)
    assert len(df) == 10
    assert param_columns(df) == ["param.mode", "param.units", "param.buffer", "param.freq"]
    assert metric_columns(df) == ["metric.latency_ms", "metric.power_mw"]
    for col in [
        "run_id",
        "env_id",
        "workload",
        "simulator_version",
        "agent",
        "agent_params",
        "agent_params_hash",
        "seed",
        "step",
        "wall_time_s",
        "cached",
        "reward",
        "feasible",
        "success",
        "error",
        "timestamp",
    ]:
        assert col in df.columns, col
    assert list(df["step"]) == list(range(1, 11))
    assert (df["seed"] == 7).all() and (df["agent_params_hash"] == params_hash({"batch_size": 4})).all()
    for ev, (_, row) in zip(evs, df.iterrows()):
        assert row["param.mode"] == ev.design["mode"] and row["param.units"] == ev.design["units"]
        if ev.metrics:
            assert row["metric.latency_ms"] == pytest.approx(ev.metrics["latency_ms"])
        assert row["reward"] == pytest.approx(ev.reward)
    assert str(df["param.units"].dtype).startswith("int") and str(df["param.freq"].dtype).startswith("float")


def test_failed_designs_logged_with_error_and_nan(tmp_path):
    env = make_test_env()
    with DatasetLogger(tmp_path, RUN, env.space, env.simulator.metric_names) as logger:
        env.add_recorder(logger)
        env.evaluate([{"mode": "a", "units": 13, "buffer": 1, "freq": 1.0}])
    row = load_dataset(tmp_path).iloc[0]
    assert "unsupported" in row["error"] and np.isnan(row["metric.latency_ms"]) and not row["feasible"]


def test_flush_is_atomic_and_appends(tmp_path):
    env = make_test_env()
    logger = DatasetLogger(tmp_path, RUN, env.space, env.simulator.metric_names, flush_every=1000)
    _log_n(env, logger, 5)
    assert not list(tmp_path.glob("*.parquet"))  # nothing flushed yet
    logger.flush()
    (tmp_path / ".part-00001.tmp.parquet").write_bytes(b"half-written garbage")  # an interrupted flush
    assert len(load_dataset(tmp_path)) == 5
    logger.close()
    env.remove_recorder(logger)
    # a second logger on the same directory appends new shards, never overwrites
    with DatasetLogger(tmp_path, RUN, env.space, env.simulator.metric_names) as again:
        _log_n(env, again, 3, seed=1)
    assert len(load_dataset(tmp_path)) == 8


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_dataset(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="no dataset shards"):
        load_dataset(tmp_path)


def test_sigkill_mid_run_keeps_every_flushed_row(tmp_path):
    """A run killed with SIGKILL leaves readable shards holding every flushed row."""
    tests_dir = Path(__file__).parent
    script = textwrap.dedent(f"""
        import sys, time
        import numpy as np
        sys.path.insert(0, {str(tests_dir)!r})
        from conftest import make_test_env
        from archgym.logger import DatasetLogger, RunInfo
        env = make_test_env()
        run = RunInfo("k", "t", "w", "v", "random", 0, {{}})
        logger = DatasetLogger({str(tmp_path)!r}, run, env.space, env.simulator.metric_names, flush_every=10)
        env.add_recorder(logger)
        rng = np.random.default_rng(0)
        i = 0
        while True:
            env.evaluate([env.space.sample(rng)])
            i += 1
            if i == 35:
                print("ready", flush=True)
            time.sleep(0.001 if i < 35 else 0.05)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    df = load_dataset(tmp_path)
    assert len(df) >= 30 and len(df) % 10 == 0  # only whole shards, at most the unflushed 9 rows lost
    assert list(df["step"]) == list(range(1, len(df) + 1))
