"""Sweeps: the lottery preset end to end on the DRAM env, resumability, and the report made from it."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from archgym.dataset import load_dataset
from archgym.registry import ConfigError
from archgym.runner import run_experiment
from archgym.sweep import RUN_FILE, fingerprint, inspect_run, prepare_run

ARCHGYM = [sys.executable, "-m", "archgym.cli"]
# 5 grid points (random: 1, rw: 2, ga: 2) x 2 seeds, short DRAM traces
LOTTERY = [
    "run",
    "--multirun",
    "+experiment=lottery_dram",
    "+lottery=glob([random-b4,rw-s1-*,ga-p8-*])",
    "seed=0,1",
    "budget=12",
    "stop_on_success=false",
    "+env.kwargs.n_requests=300",
    "logger.flush_every=4",  # three shards per run, so a cut-off run can lose its later ones
]


def cli(*args, cwd):
    return subprocess.run([*ARCHGYM, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def _runs(sweep):
    return {p.parent.name: json.loads(p.read_text()) for p in sweep.glob("*/summary.json")}


@pytest.fixture(scope="module")
def lottery_sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("lottery")
    proc = cli(*LOTTERY, f"hydra.sweep.dir={root / 'sweep'}", cwd=root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root


def test_lottery_preset_runs_every_grid_point_and_seed(lottery_sweep):
    runs = _runs(lottery_sweep / "sweep")
    assert len(runs) == 10
    assert all(
        s["complete"] and s["evaluations"] == 12 and s["env_id"] == "archgym/DRAMController-v0"
        for s in runs.values()
    )
    assert sorted({s["agent"] for s in runs.values()}) == ["ga", "random", "rw"]
    grid = {(s["agent"], json.dumps(s["agent_params"], sort_keys=True)) for s in runs.values()}
    assert len(grid) == 5  # every grid point is a distinct hyperparameter config
    assert (
        "+env.kwargs.n_requests=300,+experiment=lottery_dram,+lottery=ga-p8-m0.05,budget=12,"
        "logger.flush_every=4,seed=1,stop_on_success=False" in runs
    )  # run directories are named by their overrides, so a re-run finds them


def test_report_makes_tables_and_figures(lottery_sweep, tmp_path):
    proc = cli("report", str(lottery_sweep / "sweep"), "--out", str(tmp_path / "rep"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for png in ("best_so_far.png", "lottery.png", "pareto.png"):
        f = tmp_path / "rep" / png
        assert f.exists() and f.stat().st_size > 10_000, png
        assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    agents = pd.read_csv(tmp_path / "rep" / "agents.csv")
    assert sorted(agents["agent"]) == ["ga", "random", "rw"]
    assert dict(zip(agents["agent"], agents["configs"])) == {"ga": 2, "random": 1, "rw": 2}
    assert set(agents["seeds"]) == {2} and agents["success_rate"].between(0, 1).all()
    for col in ("best_reward", "median_evals_to_target", "median_wall_time_s", "best_config_success_rate"):
        assert col in agents.columns
    assert len(pd.read_csv(tmp_path / "rep" / "configs.csv")) == 5
    assert "ga" in proc.stdout and "success_rate" in proc.stdout


@pytest.mark.slow
def test_rerun_skips_complete_runs_and_resumes_cut_off_ones(lottery_sweep):
    sweep = lottery_sweep / "sweep"
    before = _runs(sweep)
    names = sorted(before)
    killed, failed, untouched = names[0], names[1], names[2:]
    (sweep / killed / "summary.json").unlink()  # killed before the summary was written
    shards = sorted((sweep / killed / "dataset").glob("part-*.parquet"))
    assert len(shards) == 3
    for shard in shards[1:]:
        shard.unlink()  # ... and before its last shards
    assert len(load_dataset(sweep / killed, complete_only=False)) == 4
    s = json.loads((sweep / failed / "summary.json").read_text())
    (sweep / failed / "summary.json").write_text(json.dumps({**s, "complete": False}))  # the agent raised
    proc = cli(*LOTTERY, f"hydra.sweep.dir={sweep}", cwd=lottery_sweep)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.count("already complete") == len(untouched)
    after = _runs(sweep)
    assert set(after) == set(before)
    for name in untouched:
        assert after[name]["run_id"] == before[name]["run_id"]  # skipped, not re-run
    assert proc.stderr.count("replaying") == 2
    for name, replayed in ((killed, 4), (failed, 12)):  # resumed by replay: one run id, one dataset
        assert after[name]["run_id"] == before[name]["run_id"] and after[name]["complete"]
        assert after[name]["resumed_evaluations"] == replayed
        assert after[name]["best_reward"] == before[name]["best_reward"]
        df = load_dataset(sweep / name)
        assert len(df) == 12 and df["run_id"].nunique() == 1 and list(df["step"]) == list(range(1, 13))


DRAM = {
    "env": {"id": "archgym/DRAMController-v0", "kwargs": {"workload": "random", "n_requests": 200}},
    "agent": {"name": "random", "params": {}},
    "budget": 6,
    "seed": 0,
    "progress": False,
}


def test_run_states(tmp_path):
    out = tmp_path / "run"
    fp = fingerprint(DRAM)
    assert inspect_run(out, fp).status == "absent"
    first = run_experiment(DRAM, out)
    assert inspect_run(out, fp).status == "complete"
    assert run_experiment(DRAM, out).run_id == first.run_id  # skipped
    assert fingerprint({**DRAM, "progress": True}) == fp  # volatile keys do not count
    assert fingerprint({**DRAM, "evaluator": {"workers": 4}}) == fp  # same dataset with N workers
    assert inspect_run(out, fingerprint({**DRAM, "seed": 1})).status == "changed"
    third = run_experiment({**DRAM, "resume": False}, out)  # resume=false always runs
    assert third.run_id != first.run_id and len(load_dataset(out)) == 6
    with pytest.raises(ConfigError, match="different config"):  # never deletes a finished dataset
        run_experiment({**DRAM, "budget": 4}, out)
    assert len(load_dataset(out)) == 6
    changed = run_experiment({**DRAM, "budget": 4, "resume": False}, out)  # replaced only on request
    assert changed.evaluations == 4 and len(load_dataset(out)) == 4
    (out / "dataset" / "part-00000.parquet").unlink()
    assert inspect_run(out, fingerprint({**DRAM, "budget": 4})).status == "incomplete"
    assert prepare_run(out, {**DRAM, "budget": 4}) is None and not (out / "dataset").exists()
    assert json.loads((out / RUN_FILE).read_text())["previous"] == "incomplete"
