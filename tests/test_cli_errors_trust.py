"""Errors that used to escape: each is one line on stderr, exit status 2, and no directory left."""

from __future__ import annotations

import json

import pytest

from archgym.cli import main
from archgym.runner import RunSummary, format_summary, infeasible_reason

DRAM = ["env=dram", "+env.kwargs.n_requests=200", "budget=2", "progress=false"]


def _run(argv, capsys):
    try:
        status = main(["run", *argv])
    except SystemExit as exc:  # a rejected single run exits from inside Hydra's task
        status = int(exc.code or 0)
    return status, capsys.readouterr().err


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "targets.foo_ns=3",
            "Could not override 'targets.foo_ns'. To append to your config use +targets.foo_ns=3",
        ),
        ("seed=-1", "seed: must be an integer in [0, 2**32), got -1"),
        (
            "agent=nsga2 agent.params.metrics=[foo]",
            "agent.params.metrics: unknown metric(s) ['foo']; allowed:",
        ),
    ],
)
def test_bad_run_is_one_line_exit_2_and_leaves_nothing(override, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    status, err = _run([*DRAM, *override.split()], capsys)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert status == 2 and len(lines) == 1 and lines[0].startswith(f"archgym: error: {message}"), err
    assert list(tmp_path.iterdir()) == []  # not even an empty runs/<env>/<agent>/


def test_sweep_exit_status_lists_failed_jobs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    status, err = _run(["--multirun", *DRAM, "seed=-1,-2", f"hydra.sweep.dir={tmp_path / 'sw'}"], capsys)
    assert status == 2
    assert (
        "archgym: sweep: 2 jobs: 0 ran, 0 already complete, 0 skipped (directory locked by another run), 2 failed"
        in err
    )
    assert "seed=-1: seed: must be an integer" in err and "seed=-2: seed: must be an integer" in err
    assert [p.name for p in (tmp_path / "sw").iterdir()] == ["multirun.yaml"]  # no job directory left


def test_an_infeasible_best_names_the_violated_constraint():
    objective = {"constraints": [{"metric": "bandwidth_gbps", "op": ">=", "bound": 12.0}]}
    base = dict(run_id="r", env_id="e", workload="w", agent="random", agent_params={}, seed=0, budget=3)
    summary = RunSummary(
        **base,
        evaluations=3,
        success=False,
        evaluations_to_target=None,
        best_reward=0.0,
        best_design={"x": 1},
        best_metrics={"bandwidth_gbps": 5.382, "power_mw": 1803.0},
        wall_time_s=0.1,
        dataset="d",
        objective=objective,
    )
    assert infeasible_reason(summary) == "the best design violates bandwidth_gbps >= 12 (got 5.382)"
    assert "no feasible design found: the best design violates bandwidth_gbps >= 12" in format_summary(
        summary
    )
    feasible = RunSummary(**{**summary.__dict__, "best_metrics": {"bandwidth_gbps": 13.0}})
    assert infeasible_reason(feasible) is None and "no feasible" not in format_summary(feasible)


CRASHY = '''
from archgym.agents.random_search import RandomSearch


class Crashy(RandomSearch):
    """Random search that crashes on seed 1 (a bug in a user's agent, not a config error)."""

    def ask(self):
        if self.seed == 1:
            raise RuntimeError("boom in ask")
        return super().ask()
'''


def test_a_crashing_job_is_reported_and_the_sweep_goes_on(tmp_path, monkeypatch, capsys):
    (tmp_path / "crashy_agent.py").write_text(CRASHY)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    argv = ["--multirun", *DRAM, "agent._target_=crashy_agent.Crashy", "agent.name=crashy", "seed=0,1"]
    status, err = _run([*argv, f"hydra.sweep.dir={tmp_path / 'sw'}"], capsys)
    assert status == 2, err
    assert (
        "sweep: 2 jobs: 1 ran, 0 already complete, 0 skipped (directory locked by another run), 1 failed"
        in err
    )
    assert "seed=1: RuntimeError: boom in ask" in err
    done = {
        p.parent.name.rpartition("seed=")[2]: json.loads(p.read_text())["complete"]
        for p in (tmp_path / "sw").glob("*/summary.json")
    }
    assert done == {"0": True, "1": False}  # the crashed run keeps its summary, to be resumed
