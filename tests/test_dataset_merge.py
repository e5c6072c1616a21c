"""Merging many runs' shards: provenance columns, dedupe of identical designs, CSV/Parquet export schema."""

import json

import pyarrow.parquet as pq
import pytest
from conftest import make_test_env

from archgym.logger import DatasetLogger, RunInfo
from archgym.merge import (
    CORE_COLUMNS,
    OCCURRENCES,
    PROVENANCE_COLUMNS,
    SOURCE_RUN_DIR,
    SOURCE_SHARD,
    TAIL_COLUMNS,
    export_dataset,
    load_export,
    merge_datasets,
)


def _run(tmp_path, name, designs, agent="random", complete=True):
    env = make_test_env()
    info = RunInfo(name, env.env_id, env.workload_name, env.simulator.version, agent, 0, {"k": 1})
    with DatasetLogger(
        tmp_path / name / "dataset", info, env.space, env.simulator.metric_names, flush_every=2
    ) as log:
        env.add_recorder(log)
        env.evaluate(designs)
    summary = {"complete": complete, "evaluations": len(designs)}
    (tmp_path / name / "summary.json").write_text(json.dumps(summary))
    return tmp_path / name


D1 = {"mode": "a", "units": 4, "buffer": 8, "freq": 1.0}
D2 = {"mode": "b", "units": 2, "buffer": 16, "freq": 2.0}
D3 = {"mode": "c", "units": 13, "buffer": 1, "freq": 0.5}  # a failing design (error row)


def test_merge_dedupes_identical_designs_across_runs(tmp_path):
    _run(tmp_path, "run-a", [D1, D2, D1])  # D1 twice in one run (second is cached)
    _run(tmp_path, "run-b", [D2, D3], agent="rw")  # D2 again in another run
    merged = merge_datasets([tmp_path])
    assert len(merged) == 3
    occ = {(r["param.mode"], r["param.units"]): r[OCCURRENCES] for _, r in merged.iterrows()}
    assert occ == {("a", 4): 2, ("b", 2): 2, ("c", 13): 1}
    first_d2 = merged[merged["param.mode"] == "b"].iloc[0]
    assert first_d2["run_id"] == "run-a" and first_d2[SOURCE_RUN_DIR].endswith("run-a")
    assert merged[merged["param.units"] == 13]["error"].notna().all()
    everything = merge_datasets([tmp_path / "run-a", tmp_path / "run-b"], dedupe=False)
    assert len(everything) == 5 and (everything[OCCURRENCES] == 1).all()
    assert set(everything[SOURCE_SHARD]) == {"part-00000.parquet", "part-00001.parquet"}


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_export_schema(tmp_path, suffix):
    _run(tmp_path, "run-a", [D1, D2])
    out = export_dataset(merge_datasets([tmp_path]), tmp_path / f"out/merged{suffix}")
    assert out.exists() and not list(out.parent.glob(".*.tmp*"))
    df = load_export(out)
    cols = list(df.columns)
    params = ["param.mode", "param.units", "param.buffer", "param.freq"]
    metrics = ["metric.latency_ms", "metric.power_mw"]
    assert cols == [*CORE_COLUMNS, *params, *metrics, *TAIL_COLUMNS, *PROVENANCE_COLUMNS]
    if suffix == ".parquet":
        schema = pq.read_schema(out)
        assert (
            str(schema.field("param.mode").type) == "string"
            and str(schema.field("param.units").type) == "int64"
        )
        assert (
            str(schema.field("metric.power_mw").type) == "double"
            and str(schema.field(OCCURRENCES).type) == "int64"
        )
        assert str(schema.field("seed").type) == "int64" and str(schema.field("feasible").type) == "bool"


def test_merge_errors_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere"):
        merge_datasets([tmp_path / "nothere"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no dataset shards"):
        merge_datasets([tmp_path / "empty"])
    with pytest.raises(ValueError, match="unknown export format"):
        export_dataset(merge_datasets([_run(tmp_path, "r", [D1])]), tmp_path / "x.json")
