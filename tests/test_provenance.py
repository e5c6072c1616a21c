"""The objective and provenance travel with the data: summary block, per-row hash and columns,
shard metadata, schema versions, and proxy runs labelled end to end."""

import hashlib
import json
import math

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import make_test_env

import archgym
from archgym.dataset import dataset_metadata, load_dataset
from archgym.logger import META_METRICS, META_OBJECTIVE, META_SCHEMA_VERSION, SCHEMA_VERSION
from archgym.merge import merge_runs
from archgym.objective import TargetSpec, WeightedSum, canonical_json, objective_hash, objective_spec
from archgym.proxy import train_proxy, training_table
from archgym.report import load_sweep, make_report
from archgym.runner import format_summary, run_experiment

QUAD = {"env": {"id": "test/Quadratic-v0"}, "agent": {"name": "random", "params": {}}, "progress": False}


def _quad(out, budget=16, env=None, **cfg):
    return run_experiment({**QUAD, "budget": budget, **cfg}, out, env=env or make_test_env())


def test_objective_block_and_hash_round_trip():
    obj = TargetSpec(
        {"latency_ms": 5.0, "power_mw": 10.0},
        tolerance=0.1,
        modes={"latency_ms": "at_most"},
        weights={"power_mw": 2.0},
        constraints=["power_mw<=30"],
    )
    block = objective_spec(obj)
    assert block == {
        "kind": "target_spec",
        "targets": [
            {"metric": "latency_ms", "value": 5.0, "mode": "at_most", "weight": 1.0},
            {"metric": "power_mw", "value": 10.0, "mode": "equal", "weight": 2.0},
        ],
        "tolerance": 0.1,
        "constraints": [{"metric": "power_mw", "op": "<=", "bound": 30.0}],
        "infeasible_reward": 0.0,
    }
    h = objective_hash(block)
    assert h == hashlib.sha256(canonical_json(block).encode()).hexdigest()[:12] and len(h) == 12
    assert objective_hash(json.loads(json.dumps(block))) == h == objective_hash(obj)  # JSON round trip
    assert objective_hash(TargetSpec({"latency_ms": 5.0, "power_mw": 10.0}, tolerance=0.1)) != h
    ws = objective_spec(WeightedSum({"latency_ms": 1.0}))
    assert ws["kind"] == "weighted_sum" and ws["infeasible_reward"] == "-inf"
    json.loads(canonical_json(ws))  # valid JSON (no bare -Infinity)


def test_summary_rows_and_shards_carry_objective_and_provenance(tmp_path):
    summary = _quad(tmp_path / "run")
    block = objective_spec(make_test_env().objective)
    on_disk = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert on_disk["objective"] == block and on_disk["objective_hash"] == objective_hash(block)
    assert on_disk["source"] == "simulator" and on_disk["schema_version"] == SCHEMA_VERSION
    assert summary.objective_hash == on_disk["objective_hash"]

    df = load_dataset(tmp_path / "run")
    assert (df["objective_hash"] == objective_hash(block)).all()
    assert (df["archgym_version"] == archgym.__version__).all()
    assert (df["source"] == "simulator").all()
    assert df["workload_hash"].iloc[0] == hashlib.sha256(b"w64").hexdigest()
    assert json.loads(df["env_kwargs"].iloc[0]) == {}
    assert str(df["timestamp"].dtype) == "datetime64[ms, UTC]"

    shard = next((tmp_path / "run" / "dataset").glob("part-*.parquet"))
    schema = pq.read_schema(shard)
    assert schema.field("timestamp").type == pa.timestamp("ms", tz="UTC")
    assert schema.metadata[META_SCHEMA_VERSION] == str(SCHEMA_VERSION).encode()
    assert json.loads(schema.metadata[META_OBJECTIVE]) == block
    assert json.loads(schema.metadata[META_METRICS]) == {
        "latency_ms": {"unit": "ms", "better": "lower"},
        "power_mw": {"unit": "mW", "better": "lower"},
    }
    meta = dataset_metadata(tmp_path / "run")
    assert meta.objectives == {objective_hash(block): block} and meta.better("power_mw") == "lower"


def test_workload_hash_of_a_trace_file_is_the_hash_of_its_bytes(tmp_path):
    from archgym.provenance import workload_hash

    trace = tmp_path / "t.stl"
    trace.write_bytes(b"0: read 0x0\n")
    assert workload_hash(str(trace)) == hashlib.sha256(b"0: read 0x0\n").hexdigest()
    assert workload_hash("random:interval_ns=5") == hashlib.sha256(b"random:interval_ns=5").hexdigest()


def _write_v1_shard(path, env):
    """A shard as archgym wrote them before schema 2: ISO-string timestamps, no provenance."""
    rows = [
        {
            "run_id": "old",
            "env_id": env.env_id,
            "workload": "w64",
            "simulator_version": "proxy-rf[quadratic-test-1]",
            "agent": "random",
            "agent_params": "{}",
            "agent_params_hash": "x",
            "seed": 0,
            "step": 1,
            "wall_time_s": 0.1,
            "cached": False,
            "param.mode": "a",
            "param.units": 4,
            "param.buffer": 8,
            "param.freq": 1.0,
            "metric.latency_ms": 5.0,
            "metric.power_mw": 4.5,
            "reward": 0.5,
            "feasible": True,
            "success": False,
            "error": None,
            "timestamp": "2026-11-01T10:00:00.123+00:00",
        }
    ]
    path.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


def test_load_dataset_reads_schema_1_next_to_schema_2(tmp_path):
    _write_v1_shard(tmp_path / "old" / "dataset" / "part-00000.parquet", make_test_env())
    _quad(tmp_path / "new", budget=4)
    df = load_dataset(tmp_path / "old", tmp_path / "new", include_proxy=True, allow_mixed=True)
    assert (
        len(df) == 5 and str(df["timestamp"].dtype).startswith("datetime64") and df["timestamp"].notna().all()
    )
    old = df[df["run_id"] == "old"].iloc[0]
    assert old["timestamp"] == pd.Timestamp("2026-11-01T10:00:00.123Z")
    assert old["source"] == "proxy:rf:unknown" and pd.isna(old["objective_hash"])
    assert dataset_metadata([tmp_path / "old", tmp_path / "new"]).schema_versions == (1, 2)


@pytest.fixture(scope="module")
def quad_proxy(tmp_path_factory):
    root = tmp_path_factory.mktemp("qp")
    _quad(root / "data", budget=200, agent={"name": "random", "params": {"batch_size": 32}})
    model = train_proxy(training_table(load_dataset(root / "data")), "rf", n_estimators=20)
    return root, model.save(root / "quad-rf.joblib")


def test_proxy_run_is_labelled_end_to_end(quad_proxy, tmp_path, capsys):
    root, path = quad_proxy
    cfg = {"env": {"id": "test/Quadratic-v0", "simulator": {"name": "proxy", "path": str(path)}}}
    summary = run_experiment(
        {**QUAD, **cfg, "budget": 24, "seed": 1}, tmp_path / "sweep" / "proxy", env=make_test_env()
    )
    _quad(tmp_path / "sweep" / "sim", budget=24, seed=1)
    file_hash = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    assert summary.source == f"proxy:rf:{file_hash}" and summary.proxy_path == str(path)
    on_disk = json.loads((tmp_path / "sweep" / "proxy" / "summary.json").read_text())
    assert on_disk["source"] == summary.source
    text = format_summary(summary)
    assert f"evaluated by the proxy {path}" in text and "nothing was simulated" in text
    assert "(by the proxy's predictions)" in text
    df = load_dataset(tmp_path / "sweep" / "proxy", include_proxy=True)
    assert (df["source"] == summary.source).all()

    # merge keeps simulator rows only, unless asked
    merged, stats = merge_runs([tmp_path / "sweep"])
    assert set(merged["source"]) == {"simulator"} and stats.proxy_rows_dropped == 24
    both, _ = merge_runs([tmp_path / "sweep"], include_proxy=True)
    assert set(both["source"]) == {"simulator", summary.source}

    # reports keep proxy runs apart and label them
    runs = load_sweep(tmp_path / "sweep").runs
    assert sorted(runs["source"]) == ["proxy", "simulator"]
    make_report(tmp_path / "sweep", tmp_path / "report")
    agents = pd.read_csv(tmp_path / "report" / "agents.csv")
    assert sorted(agents["source"]) == ["proxy", "simulator"] and (agents["runs"] == 1).all()
    assert math.isfinite(agents["best_reward"].max())
