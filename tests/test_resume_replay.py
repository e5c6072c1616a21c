"""Resume by replay: a cut-off run re-run with the same config and seed answers its first
proposals from the rows on disk and simulates only the rest, into one dataset and one run id.

Every agent family (sampler, evolution, BO, Optuna, RL) is checked two ways: in-process, by
cutting a finished run back to what a kill leaves (its first shards, no summary), and by a real
SIGKILL of a run in a child process at a random point. The fast suite runs the cut for random
search, GA and TPE and the SIGKILL for random search; BO and PPO, and the SIGKILL of the other
families, are marked slow. The resumed dataset must equal an uninterrupted run's row for row.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import QuadraticSimulator, make_test_env

from archgym.dataset import load_dataset
from archgym.replay import ReplayMismatchError
from archgym.runner import run_experiment

TESTS = Path(__file__).parent
#: one agent per family, with small settings (the test env has 3 x 16 x 8 x 4 designs)
FAMILIES = {
    "random": {"batch_size": 4},
    "ga": {"population_size": 8},
    "bo": {
        "n_initial": 6,
        "q": 3,
        "num_restarts": 2,
        "raw_samples": 32,
        "mc_samples": 16,
        "fit_maxiter": 10,
        "num_threads": 1,
    },
    "tpe": {"n_startup_trials": 5, "batch_size": 2},
    "ppo": {"n_steps": 8, "batch_size": 8, "n_epochs": 1, "net_arch": [8]},
}
COMPARED = ["run_id", "step", "cached", "reward", "feasible", "success", "error"]


def _config(agent: str, budget: int, flush_every: int = 4) -> dict:
    return {
        "env": {"id": "test/Quadratic-v0"},
        "agent": {"name": agent, "params": FAMILIES[agent]},
        "seed": 3,
        "budget": budget,
        "progress": False,
        "logger": {"flush_every": flush_every},
    }


def _rows(out: Path) -> pd.DataFrame:
    df = load_dataset(out, complete_only=False).sort_values("step").reset_index(drop=True)
    return df.drop(columns=["timestamp", "wall_time_s", "run_id"])


def _cut(out: Path, keep_shards: int) -> int:
    """What SIGKILL leaves: the first shards, no summary. Returns the rows kept."""
    (out / "summary.json").unlink()
    shards = sorted((out / "dataset").glob("part-*.parquet"))
    for s in shards[keep_shards:]:
        s.unlink()
    return len(load_dataset(out, complete_only=False))


@pytest.mark.parametrize(
    "agent", [pytest.param(a, marks=pytest.mark.slow) if a in ("bo", "ppo") else a for a in FAMILIES]
)  # BO's GP fits and PPO's torch updates take 10-25 s on 2 shared cores: in the slow suite
def test_cut_off_run_resumes_by_replay(agent, tmp_path):
    budget = 12 if agent == "bo" else 24  # BO refits its GP at every step, replayed or not
    whole = run_experiment(_config(agent, budget), tmp_path / "whole", env=make_test_env())
    cut = tmp_path / "cut"
    first = run_experiment(_config(agent, budget), cut, env=make_test_env())
    kept = _cut(cut, keep_shards=random.Random(agent).randint(1, budget // 4 - 1))

    calls = []
    env = make_test_env()
    simulate = env.unwrapped.simulator.evaluate_many
    env.unwrapped.simulator.evaluate_many = lambda ds, w: calls.append(len(ds)) or simulate(ds, w)
    resumed = run_experiment(_config(agent, budget), cut, env=env)

    assert resumed.complete and resumed.resumed_evaluations == kept and resumed.run_id == first.run_id
    df = load_dataset(cut)
    assert df["run_id"].nunique() == 1 and len(df) == whole.evaluations
    pd.testing.assert_frame_equal(_rows(cut), _rows(tmp_path / "whole"))  # the same designs and metrics
    assert sum(calls) <= whole.evaluations - kept  # only the rest was simulated (duplicates are cached)
    assert resumed.best_reward == whole.best_reward and resumed.best_design == whole.best_design
    assert json.loads((cut / "run.json").read_text())["resumed_rows"] == kept


def test_a_different_proposal_is_refused_with_its_step(tmp_path):
    out = tmp_path / "run"
    run_experiment(_config("random", 16), out, env=make_test_env())
    kept = _cut(out, keep_shards=2)
    df = load_dataset(out, complete_only=False)
    shard = sorted((out / "dataset").glob("part-*.parquet"))[1]
    part = pd.read_parquet(shard)
    part.loc[1, "param.units"] = 1 + part.loc[1, "param.units"] % 16  # what the re-run will not propose
    part.to_parquet(shard)
    with pytest.raises(
        ReplayMismatchError,
        match=r"records units=\d+ at step 6 but the re-run proposed units=\d+.*resume=false",
    ):
        run_experiment(_config("random", 16), out, env=make_test_env())
    assert len(load_dataset(out, complete_only=False)) == kept == len(df)  # nothing appended


CHILD = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {tests!r})
    from conftest import QuadraticSimulator, make_test_env
    from archgym.runner import run_experiment

    class Slow(QuadraticSimulator):
        def evaluate(self, design, workload):
            time.sleep(0.004)
            return super().evaluate(design, workload)

    env = make_test_env()
    env.unwrapped.simulator.__class__ = Slow
    run_experiment({config!r}, {out!r}, env=env)
    """
)


def _kill_and_resume(agent: str, tmp_path: Path) -> dict[str, float]:
    budget, flush = 96, 4
    cfg = _config(agent, budget, flush)
    out = tmp_path / "killed"
    script = CHILD.format(tests=str(TESTS), config=cfg, out=str(out))
    t0 = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
    at = random.Random(agent).randint(2, budget // flush - 4)  # kill once this many shards are on disk
    while len(list((out / "dataset").glob("part-*.parquet"))) < at:
        assert child.poll() is None, child.stderr.read().decode()[-2000:] if child.stderr else ""
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    killed_s = time.perf_counter() - t0
    assert not (out / "summary.json").exists()
    kept = len(load_dataset(out, complete_only=False))
    t1 = time.perf_counter()
    resumed = run_experiment(cfg, out, env=_slow_env())
    resume_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    whole = run_experiment(cfg, tmp_path / "whole", env=_slow_env())
    whole_s = time.perf_counter() - t2
    assert resumed.complete and resumed.resumed_evaluations == kept >= at * flush
    assert resumed.best_reward == whole.best_reward and resumed.evaluations == whole.evaluations
    assert load_dataset(out)["run_id"].nunique() == 1
    pd.testing.assert_frame_equal(_rows(out), _rows(tmp_path / "whole"))
    return {"killed_after_s": killed_s, "replayed": kept, "resume_s": resume_s, "uninterrupted_s": whole_s}


class _Slow(QuadraticSimulator):
    """The quadratic model at 4 ms a design, like the child's (so a kill lands mid-run)."""

    def evaluate(self, design, workload):
        time.sleep(0.004)
        return super().evaluate(design, workload)


def _slow_env():
    env = make_test_env()
    env.unwrapped.simulator.__class__ = _Slow
    return env


def test_sigkill_then_resume_random(tmp_path):
    timings = _kill_and_resume("random", tmp_path)
    print(f"random: {timings}")


@pytest.mark.slow
@pytest.mark.parametrize("agent", [a for a in FAMILIES if a != "random"])
def test_sigkill_then_resume_every_family(agent, tmp_path):
    timings = _kill_and_resume(agent, tmp_path)
    print(f"{agent}: {timings}")
