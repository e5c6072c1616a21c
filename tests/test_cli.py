"""The ``archgym`` command end to end: single runs, multirun sweeps, one-line config errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from archgym.dataset import load_dataset

ARCHGYM = [sys.executable, "-m", "archgym.cli"]
FAST = ["env.kwargs.workload=random", "progress=false"]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*ARCHGYM, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def single_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("single")
    proc = run_cli(
        "run", "env=dram", "agent=random", "budget=24", "seed=3", *FAST, f"hydra.run.dir={out}/run", cwd=out
    )
    return proc, out / "run"


def test_single_run_writes_dataset_and_summary(single_run):
    proc, run_dir = single_run
    assert proc.returncode == 0, proc.stderr
    assert "best design:" in proc.stdout and "dataset:" in proc.stdout
    df = load_dataset(run_dir)
    assert len(df) == 24 and set(df["seed"]) == {3} and set(df["agent"]) == {"random"}
    assert df["env_id"].iloc[0] == "archgym/DRAMController-v0"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["evaluations"] == 24 and summary["complete"]
    assert summary["best_reward"] == pytest.approx(df.loc[df["feasible"], "reward"].max())


def test_multirun_over_two_values_gives_two_runs(tmp_path):
    proc = run_cli(
        "run",
        "--multirun",
        "env=dram",
        "agent=random,rw",
        "budget=8",
        *FAST,
        f"hydra.sweep.dir={tmp_path}/sweep",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    runs = sorted(p for p in (tmp_path / "sweep").iterdir() if p.is_dir() and (p / "summary.json").exists())
    assert len(runs) == 2
    df = load_dataset(tmp_path / "sweep")
    assert sorted(df["agent"].unique()) == ["random", "rw"] and len(df) == 16


@pytest.mark.parametrize(
    "override, expected",
    [
        ("env=nosuch", "env: unknown env 'nosuch'; allowed: "),
        ("agent=nosuch", "agent: unknown agent 'nosuch'; allowed: "),
        ("budget=0", "budget: must be a positive number of evaluations"),
        ("+env.kwargs.targets.bogus_metric=3", "unknown metric 'bogus_metric' in objective; allowed: "),
        ("+agent.params.nosuch=1", "agent 'random': unknown hyperparameter(s) nosuch; allowed: batch_size"),
    ],
)
def test_bad_config_gives_one_line_error(tmp_path, override, expected):
    proc = run_cli(
        "run",
        override,
        "budget=5" if not override.startswith("budget") else "seed=0",
        *FAST,
        f"hydra.run.dir={tmp_path}/r",
        cwd=tmp_path,
    )
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [l for l in proc.stderr.strip().splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("archgym: error: "), proc.stderr
    assert expected in lines[0]


def test_help_explains(tmp_path):
    top = run_cli("--help", cwd=tmp_path)
    assert top.returncode == 0 and "archgym run" in top.stdout
    run_help = run_cli("run", "--help", cwd=tmp_path)
    assert run_help.returncode == 0
    assert "budget" in run_help.stdout and "env: " in run_help.stdout and "Examples" in run_help.stdout


@pytest.mark.parametrize("command", ["envs", "agents", "report", "dataset", "proxy", "generate"])
def test_every_subcommand_module_has_a_main_with_help(command, capsys):
    from archgym.cli import COMMANDS, main

    assert command in COMMANDS
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith(f"usage: archgym {command}")


def test_library_modules_hold_no_argparse():
    import archgym.generate
    import archgym.merge
    import archgym.report

    for module in (archgym.report, archgym.merge, archgym.generate):
        assert not hasattr(module, "main") and "argparse" not in Path(module.__file__).read_text()
