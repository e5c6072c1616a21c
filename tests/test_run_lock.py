"""One writer per run directory: the lock, its holder line, stale-lock takeover, unique default dirs."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import make_test_env

from archgym.dataset import load_dataset
from archgym.runlock import LOCK_FILE, RunLock, RunLockedError, StaleLockWarning, read_holder
from archgym.runner import run_experiment

ARCHGYM = [sys.executable, "-m", "archgym.cli"]
# a short DRAM run: 300-request trace, a few dozen evaluations
DRAM = ["env=dram", "env.kwargs.workload=random", "+env.kwargs.n_requests=300", "progress=false"]
QUAD = {"env": {"id": "test/Quadratic-v0"}, "agent": {"name": "random", "params": {}}, "progress": False}


def _quad(out, budget=8, **kw):
    return run_experiment({**QUAD, "budget": budget, **kw}, out, env=make_test_env())


def test_second_holder_is_refused_with_dir_and_holder(tmp_path):
    with RunLock(tmp_path / "run") as lock:
        assert lock.held and read_holder(tmp_path / "run")["pid"] == os.getpid()
        with pytest.raises(RunLockedError) as err:
            RunLock(tmp_path / "run").acquire()
        msg = str(err.value)
        assert str(tmp_path / "run") in msg and f"pid {os.getpid()}" in msg and "\n" not in msg
        # resume never touches a locked directory: the run is refused before looking inside
        with pytest.raises(RunLockedError):
            _quad(tmp_path / "run")
        assert not (tmp_path / "run" / "dataset").exists()
    assert read_holder(tmp_path / "run") is None  # a clean release empties the lock file
    assert _quad(tmp_path / "run").complete


def test_cli_run_on_a_locked_dir_exits_2_with_one_line(tmp_path):
    out = tmp_path / "run"
    with RunLock(out):
        proc = subprocess.run(
            [*ARCHGYM, "run", *DRAM, "budget=4", f"hydra.run.dir={out}"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 2, proc.stderr
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("archgym: error: "), proc.stderr
        assert str(out) in lines[0] and f"pid {os.getpid()}" in lines[0]
        assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE]  # nothing written into it


def test_stale_lock_of_a_killed_run_is_taken_over(tmp_path):
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from archgym.runlock import RunLock; lock = RunLock({str(out)!r}).acquire(); "
            "import time; time.sleep(120)",
        ]
    )
    try:
        deadline = time.time() + 60
        while read_holder(out) is None and time.time() < deadline:
            time.sleep(0.1)
        assert read_holder(out)["pid"] == holder.pid
        with pytest.raises(RunLockedError):  # alive: refused
            _quad(out)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with pytest.warns(StaleLockWarning, match=f"pid {holder.pid}"):
        summary = _quad(out)
    assert summary.complete and len(load_dataset(out)) == 8
    assert read_holder(out) is None


def test_two_concurrent_runs_on_one_dir_give_one_run(tmp_path):
    out = tmp_path / "shared"
    procs = [
        subprocess.Popen(
            [*ARCHGYM, "run", *DRAM, "budget=48", f"env.kwargs.workload={w}", f"hydra.run.dir={out}"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in ("random", "stream")
    ]
    results = [(p.wait(timeout=600), *p.communicate()) for p in procs]
    ran = [r for r in results if r[0] == 0 and "evaluations: 48/48" in r[1]]
    assert len(ran) == 1, results
    other = next(r for r in results if r is not ran[0])
    # the other one either found the directory locked (exit 2) or, having started after the
    # first finished, refused a directory holding another config's dataset (exit 2)
    assert other[0] == 2 and other[2].startswith("archgym: error: "), other
    df = load_dataset(out)
    summary = json.loads((out / "summary.json").read_text())
    assert df["run_id"].nunique() == 1 and df["run_id"].iloc[0] == summary["run_id"]
    assert len(df) == summary["evaluations"] == 48 and summary["complete"]
    assert df["workload"].nunique() == 1


def test_uid_resolver_differs_per_config_and_is_stable_within_one():
    from omegaconf import OmegaConf

    from archgym.cli.run import register_resolvers

    register_resolvers()
    a = OmegaConf.create({"dir": "runs/x-${archgym_uid:}", "again": "${dir}"})
    b = OmegaConf.create({"dir": "runs/x-${archgym_uid:}"})
    assert a.dir == a.dir == a.again and a.dir != b.dir and len(a.dir.rsplit("-", 1)[1]) == 8


@pytest.mark.slow
def test_default_run_dirs_differ_for_runs_started_in_the_same_second(tmp_path):
    procs = [
        subprocess.Popen(
            [*ARCHGYM, "run", *DRAM, "budget=2", "seed=0"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for p in procs:
        assert p.wait(timeout=600) == 0, p.communicate()
    dirs = sorted((tmp_path / "runs" / "dram" / "random").iterdir())
    assert len(dirs) == 2 and all(len(load_dataset(d)) == 2 for d in dirs)
    assert all(d.name.startswith("seed0-") and len(d.name.rsplit("-", 1)[1]) == 8 for d in dirs)


def _sweep(tmp_path, *extra):
    return subprocess.run(
        [*ARCHGYM, "run", "--multirun", *DRAM, "budget=3", "agent=random,rw", *extra],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _job(agent):  # a sweep job's directory is named by its overrides
    return f"+env.kwargs.n_requests=300,agent={agent},budget=3,env.kwargs.workload=random,env=dram"


@pytest.mark.slow
def test_sweep_skips_a_locked_job_and_runs_the_others(tmp_path):
    sweep = tmp_path / "sweep"
    with RunLock(sweep / _job("rw")):
        proc = _sweep(tmp_path, f"hydra.sweep.dir={sweep}")
    assert proc.returncode == 0, proc.stderr
    refused = [line for line in proc.stderr.splitlines() if line.startswith("archgym: error: ")]
    assert len(refused) == 1 and str(sweep / _job("rw")) in refused[0] and f"pid {os.getpid()}" in refused[0]
    assert len(load_dataset(sweep / _job("random"))) == 3
    assert not (sweep / _job("rw") / "dataset").exists()
    assert (sweep / _job("random") / ".hydra" / "config.yaml").exists()  # written by the job itself
    again = _sweep(tmp_path, f"hydra.sweep.dir={sweep}")  # re-run: the missing job runs, the other is skipped
    assert again.returncode == 0 and "skipping" in again.stderr
    assert len(load_dataset(sweep / _job("rw"))) == 3


@pytest.mark.slow
def test_parallel_sweep_with_default_dir_gets_a_unique_suffix(tmp_path):
    proc = _sweep(tmp_path, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    assert proc.returncode == 0, proc.stderr
    (sweep,) = (tmp_path / "multirun").iterdir()
    assert len(sweep.name.rsplit("-", 1)[1]) == 8  # <time>-<uid>, resolved once for every worker
    jobs = {p.name for p in sweep.iterdir() if p.is_dir()}
    assert len(load_dataset(sweep)) == 6 and jobs == {_job("random"), _job("rw")}
