"""Merge and report refuse to mix silently: envs, objectives, proxies, incomplete runs."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import make_test_env

from archgym.merge import MixedDatasetError, merge_runs
from archgym.report import agent_colours, load_sweep, make_report, spans_decades
from archgym.runner import run_experiment

QUAD = {"agent": {"name": "random", "params": {}}, "progress": False, "budget": 12}


def _run(out, env_id="test/Quadratic-v0", seed=0, agent="random", **env_kw):
    env = make_test_env(**env_kw)
    env.env_id = env_id
    cfg = {**QUAD, "env": {"id": env_id}, "seed": seed, "agent": {"name": agent, "params": {}}}
    return run_experiment(cfg, out, env=env)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    root = tmp_path_factory.mktemp("mixed")
    _run(root / "a-s0", seed=0)
    _run(root / "a-s1", seed=1, agent="rw")
    _run(root / "other-env", env_id="test/Other-v0", seed=2)
    _run(root / "other-target", seed=3, targets={"latency_ms": 9.0, "power_mw": 3.0})
    cut = root / "cut"
    _run(cut, seed=4)
    summary = json.loads((cut / "summary.json").read_text())
    (cut / "summary.json").write_text(json.dumps({**summary, "complete": False}))
    return root


def test_merge_refuses_mixed_envs_and_objectives(mixed):
    with pytest.raises(MixedDatasetError, match="mix 2 envs.*test/Other-v0.*--env.*--allow-mixed"):
        merge_runs([mixed])
    with pytest.raises(MixedDatasetError, match="mix 2 objectives"):
        merge_runs([mixed], env=["test/Quadratic-v0"])
    df, stats = merge_runs(
        [mixed / "a-s0", mixed / "a-s1", mixed / "other-env", mixed / "cut"], env=["test/Quadratic-v0"]
    )
    assert set(df["env_id"]) == {"test/Quadratic-v0"} and stats.other_env_rows_dropped == 12
    assert stats.incomplete_runs == [str(mixed / "cut")]
    # runs counted before dedupe: run-level duplicates do not make a run vanish from the count
    assert stats.runs == 2 and df["objective_hash"].nunique() == 1
    everything, stats = merge_runs([mixed], allow_mixed=True, complete_only=False, dedupe=False)
    assert len(everything) == 5 * 12 and stats.runs == 5


def test_cli_merge_flags(mixed, tmp_path):
    py = [sys.executable, "-m", "archgym.cli", "dataset", "merge"]
    refused = subprocess.run(
        [*py, str(mixed), "-o", str(tmp_path / "m.parquet")], capture_output=True, text=True
    )
    assert refused.returncode == 2 and refused.stderr.strip().splitlines()[-1].startswith(
        "archgym: error: the inputs mix 2 envs"
    )
    assert not (tmp_path / "m.parquet").exists()
    ok = subprocess.run(
        [
            *py,
            str(mixed / "a-s0"),
            str(mixed / "a-s1"),
            str(mixed / "cut"),
            "-o",
            str(tmp_path / "m.parquet"),
        ],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert "from 2 runs" in ok.stdout and "1 incomplete runs left out" in ok.stdout
    import pyarrow.parquet as pq

    meta = pq.read_schema(tmp_path / "m.parquet").metadata
    assert json.loads(meta[b"archgym.objective"])["kind"] == "target_spec"
    assert json.loads(meta[b"archgym.metrics"])["power_mw"] == {"unit": "mW", "better": "lower"}


def test_report_drops_runs_and_says_why(mixed, tmp_path, capsys):
    files = make_report(mixed, tmp_path / "report")
    err = capsys.readouterr().err
    assert f"left out {mixed / 'cut'}: incomplete" in err
    assert f"left out {mixed / 'other-target'}: different objective" in err
    agents = pd.read_csv(files["agents.csv"])
    assert set(agents["env_id"]) == {"test/Quadratic-v0", "test/Other-v0"}  # the env in every row
    assert {"env_id", "workload", "source"} <= set(pd.read_csv(files["configs.csv"]).columns)
    assert agents["runs"].sum() == 3 and "pareto.png" in files
    data = load_sweep(mixed)
    assert data.metadata.better("latency_ms") == "lower" and data.metadata.unit("power_mw") == "mW"


def test_report_helpers():
    a = agent_colours(["rw", "random", "rw", "ga"])
    b = agent_colours(["ga", "random", "rw"])
    assert a == b and len(set(map(tuple, a.values()))) == 3  # one colour per agent, the same in every figure
    assert spans_decades(np.array([1.0, 50.0, 101.0])) and not spans_decades(np.array([1.0, 99.0]))
    assert not spans_decades(np.array([-1.0, 1e6]))


def test_pareto_counts_distinct_designs(tmp_path):
    from archgym.report import pareto_designs

    _run(tmp_path / "sweep" / "r", seed=0)
    data = load_sweep(tmp_path / "sweep")
    once = pareto_designs(data.rows, "latency_ms", "power_mw", data.metadata)
    twice = pareto_designs(pd.concat([data.rows, data.rows]), "latency_ms", "power_mw", data.metadata)
    assert len(once) >= 1 and len(twice) == len(once)  # a design evaluated twice is one design on the front
    assert list(twice["metric.latency_ms"]) == sorted(twice["metric.latency_ms"])
