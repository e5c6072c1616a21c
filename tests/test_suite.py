"""Benchmark suites: configs, normalised scores, rliable aggregates, resume, SLURM script."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
import scipy.stats
import yaml

from archgym.registry import env_ids
from archgym.runner import run_experiment, with_suite_agent_params
from archgym.scores import normalised_score, run_scores, score_matrix
from archgym.suite import Reference, Suite, Task, available_suites, load_suite, suite_dir, task_config
from archgym.sweep import fingerprint

pytest.importorskip(
    "rliable", reason="rliable not installed (pip install --no-deps rliable==1.2.0, see Makefile)"
)


@pytest.mark.parametrize("name", ["small", "standard", "lottery"])
def test_every_suite_task_composes_to_a_registered_env_with_targets(name):
    suite = load_suite(name)
    assert name in available_suites()
    envs = {t.env["name"] for t in suite.tasks.values()}
    assert {"dram", "accelerator", "nas", "codesign", "soc"} <= {e.split("_")[0] for e in envs}
    for task in suite.tasks.values():
        assert task.env_id in env_ids() and task.budget > 0 and task.targets and task.chosen_by
    first = next(iter(suite.tasks))
    cfg = task_config(name, first)
    assert cfg["env"]["id"] == suite.tasks[first].env_id and cfg["budget"] == suite.tasks[first].budget


@pytest.mark.parametrize("name", ["small", "standard", "lottery"])
def test_every_registered_env_is_a_task_of_every_suite(name):
    """small, standard and lottery cover every env archgym registers, LLM and mapping included."""
    covered = {t.env_id for t in load_suite(name).tasks.values()}
    assert set(env_ids()) <= covered
    raw = yaml.safe_load((suite_dir() / f"{name}.yaml").read_text())
    swept = raw["hydra"]["sweeper"]["params"]["task"].split(",")
    assert set(swept) == set(load_suite(name).tasks)


def _runs(rewards: dict[str, list[float | None]], task: str = "t", objective: str = "h") -> pd.DataFrame:
    rows = []
    for agent, values in rewards.items():
        for seed, r in enumerate(values):
            rows.append(
                {
                    "run_dir": f"{agent}-{task}-{seed}",
                    "env_id": "archgym/X-v0",
                    "workload": "w",
                    "source": "simulator",
                    "objective_hash": objective,
                    "agent": agent,
                    "params": "{}",
                    "seed": seed,
                    "best_reward": r,
                    "success": r is not None and r >= 1.0,
                    "evaluations_to_target": 5.0 if r is not None and r >= 1.0 else np.nan,
                    "wall_time_s": 1.0,
                    "task": task,
                    "suite": "",
                    "budget": 10,
                    "hypervolume": np.nan,
                }
            )
    return pd.DataFrame(rows)


def test_scores_put_random_median_at_zero_and_the_best_run_at_one():
    runs = _runs({"random": [0.2, 0.4, 0.6], "ga": [0.4, 0.7, 1.0], "bad": [None, 0.1, 0.4]})
    scored, refs = run_scores(runs)
    assert refs.loc[0, "random_median"] == pytest.approx(0.4) and refs.loc[0, "best"] == pytest.approx(1.0)
    s = scored.set_index("run_dir")["score"]
    assert s["random-t-1"] == pytest.approx(0.0) and s["ga-t-2"] == pytest.approx(1.0)
    assert s["ga-t-1"] == pytest.approx(0.5)
    # no feasible design: reward 0, below random search's median
    assert s["bad-t-0"] == pytest.approx((0.0 - 0.4) / 0.6)
    assert refs.loc[0, "reference_source"] == "runs"


def test_degenerate_anchors_score_reached_or_not():
    assert list(normalised_score(np.array([1.0, 0.9]), np.array([1.0, 1.0]), np.array([1.0, 1.0]))) == [
        1.0,
        0.0,
    ]


def test_recorded_suite_reference_wins_unless_the_objective_differs():
    runs = _runs({"random": [0.2, 0.4, 0.6], "ga": [0.5, 0.7, 0.9]})
    suite = Suite("s", {"t": Task("t", {"id": "archgym/X-v0"}, 10)}, {"t": Reference(0.5, 1.0, "h")})
    scored, refs = run_scores(runs, suite)
    assert refs.loc[0, "reference_source"] == "suite"
    assert scored.set_index("run_dir").loc["ga-t-2", "score"] == pytest.approx(0.8)
    other = Suite("s", suite.tasks, {"t": Reference(0.5, 1.0, "another-objective")})
    assert run_scores(runs, other)[1].loc[0, "reference_source"] == "runs"


def test_score_matrix_keeps_seeds_present_on_every_task():
    a = _runs({"random": [0.1, 0.2, 0.3], "ga": [0.3, 0.4, 0.5]}, task="a")
    b = _runs({"random": [0.1, 0.2, 0.3], "ga": [0.3, 0.4]}, task="b")
    scored, _ = run_scores(pd.concat([a, b], ignore_index=True))
    matrices, tasks, left_out = score_matrix(scored)
    assert tasks == ["a", "b"] and matrices["ga"].shape == (2, 2) and matrices["random"].shape == (3, 2)
    only_a = _runs({"grid": [0.5, 0.6]}, task="a")
    matrices, _, left_out = score_matrix(run_scores(pd.concat([a, b, only_a], ignore_index=True))[0])
    assert "grid" not in matrices and left_out == {"grid": ["b"]}


def test_rliable_aggregates_on_a_known_sample():
    from archgym.stats import aggregate_scores, improvement_probabilities, performance_profiles

    rng = np.random.default_rng(0)
    low, high = rng.uniform(0, 1, (10, 4)), rng.uniform(2, 3, (10, 4))
    table = aggregate_scores({"low": low, "high": high}, reps=300).set_index("agent")
    assert table.loc["low", "iqm"] == pytest.approx(scipy.stats.trim_mean(low.ravel(), 0.25))
    assert table.loc["low", "mean"] == pytest.approx(low.mean())
    for agent in ("low", "high"):
        row = table.loc[agent]
        assert row.iqm_lo <= row.iqm <= row.iqm_hi and row.mean_lo <= row["mean"] <= row.mean_hi
    assert list(table.index) == ["high", "low"]
    # the same seed gives the same intervals
    again = aggregate_scores({"low": low, "high": high}, reps=300).set_index("agent")
    assert again.loc["low", "iqm_lo"] == table.loc["low", "iqm_lo"]
    imp = improvement_probabilities({"low": low, "high": high}, reps=100).set_index(["x", "y"])
    assert imp.loc[("high", "low"), "p"] == 1.0 and imp.loc[("high", "low"), "lo"] == 1.0
    assert imp.loc[("low", "high"), "p"] == 0.0
    prof = performance_profiles({"low": low}, taus=np.array([-1.0, 0.5, 1.5]), reps=100)
    assert list(prof["fraction"]) == [1.0, pytest.approx(np.mean(low > 0.5)), 0.0]


def test_a_resumed_suite_skips_complete_runs(tmp_path, capsys):
    cfg = task_config("small", "soc", ["agent=random", "seed=0", "budget=6"])
    first = run_experiment(cfg, tmp_path / "run")
    stamp = (tmp_path / "run" / "summary.json").stat().st_mtime_ns
    # the suite's own block (targets of other tasks, recorded references) is not part of a run's
    # fingerprint: recording references after the run must not make it look changed
    cfg["suite"]["reference"] = {"soc": {"random_median": 0.1, "best": 1.0}}
    again = run_experiment(cfg, tmp_path / "run")
    assert "already complete" in capsys.readouterr().err
    assert (tmp_path / "run" / "summary.json").stat().st_mtime_ns == stamp
    assert again.run_id == first.run_id and again.evaluations == 6
    changed = json.loads(json.dumps(cfg))
    changed["env"]["kwargs"]["targets"]["latency_ms"] = 1.0  # another target is another run
    with pytest.raises(Exception, match="different config"):
        run_experiment(changed, tmp_path / "run")


def test_suite_agent_params_set_that_agents_hyperparameters_and_its_fingerprint():
    bo = task_config("small", "accelerator", ["agent=bo", "seed=0"])
    merged = with_suite_agent_params(bo)
    assert merged["agent"]["params"]["num_restarts"] == 2 and merged["agent"]["params"]["mc_samples"] == 32
    assert merged["agent"]["params"]["n_initial"] == bo["agent"]["params"]["n_initial"]  # the rest kept
    assert fingerprint(merged) != fingerprint(bo)  # so changing them re-runs bo's runs
    rnd = task_config("small", "accelerator", ["agent=random", "seed=0"])
    assert with_suite_agent_params(rnd) == rnd


@pytest.mark.slow
def test_slurm_launcher_script_for_a_suite(tmp_path, monkeypatch):
    """The submitit launcher's generated sbatch script for a suite sweep (no SLURM here: we stop at sbatch)."""
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="pip install -e .[slurm]")
    import submitit.slurm.slurm as slurm

    from archgym.cli import run as run_cli

    scripts = []

    class Submitted(Exception):
        pass

    def capture(self, command):
        scripts.append(self._make_submission_file_text(command, "uid"))
        raise Submitted

    monkeypatch.setattr(slurm.SlurmExecutor, "_submit_command", capture)
    bin_dir = tmp_path / "bin"  # submitit looks for srun before it writes anything
    bin_dir.mkdir()
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 1\n")
    (bin_dir / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.chdir(tmp_path)
    args = ["--multirun", "hydra/launcher=slurm", "hydra.launcher.partition=cpu", "+suite=small"]
    args += ["agent=random,ga", "seed=0,1", f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    with pytest.raises((Submitted, SystemExit)):
        run_cli.main(args)
    (script,) = scripts
    assert "#SBATCH --array=0-19%20" in script  # 5 tasks x 2 agents x 2 seeds (at most 64 at a time)
    for line in ("--cpus-per-task=1", "--partition=cpu", "--time=120", "--mem=4GB", "--nodes=1"):
        assert f"#SBATCH {line}" in script
    assert "submitit.core._submit" in script


@pytest.mark.slow
def test_a_suite_on_a_local_ray_instance(tmp_path):
    """Two tasks of suite=small on Ray bound to 127.0.0.1 (skipped unless `pip install -e .[ray]`)."""
    pytest.importorskip(
        "hydra_plugins.hydra_ray_launcher", reason="Ray launcher not installed (pip install -e .[ray])"
    )
    import subprocess
    import sys

    args = [sys.executable, "-m", "archgym.cli", "run", "--multirun", "hydra/launcher=ray_local"]
    args += ["hydra.launcher.ray.init.num_cpus=2", "+suite=small", "task=accelerator,soc", "agent=random"]
    args += ["seed=0", "budget=6", f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_DEDUP_LOGS": "0"}
    proc = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summaries = [json.loads(p.read_text()) for p in (tmp_path / "sweep").glob("*/summary.json")]
    assert sorted(s["env_id"] for s in summaries) == ["archgym/Accelerator-v0", "archgym/SoC-v0"]
    assert all(s["complete"] and s["evaluations"] == 6 for s in summaries)
