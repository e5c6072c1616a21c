"""The README's commands and snippets, extracted from README.md and run.

* every ``archgym run`` line composes with the shipped configs (the keys and groups it names
  exist), and every option another subcommand line uses appears in that subcommand's ``--help``;
* the Python snippets run as written (the first two in order, in a directory holding a run);
* (slow) the proxy and validate workflows run end to end as the README writes them, at small
  sizes (``-n``, ``budget`` and training epochs scaled down; nothing else changed).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from archgym.cli import COMMANDS
from archgym.cli.common import check_group_overrides
from archgym.cli.run import check_overrides, select_custom_configs

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def blocks(lang: str) -> list[str]:
    """The fenced code blocks of one language, in order."""
    return [body for kind, body in FENCE.findall(README.read_text()) if kind == lang]


def commands() -> list[str]:
    """Every ``archgym ...`` command line of the bash blocks (continuations joined, comments cut)."""
    out = []
    for body in blocks("bash"):
        for line in body.replace("\\\n", " ").splitlines():
            line = line.split("  #")[0].split(" # ")[0].strip()
            if line.startswith("archgym"):
                out.append(" ".join(line.split()))
    return out


def test_the_readme_has_the_workflows():
    cmds = commands()
    assert len(cmds) >= 25 and len(blocks("python")) >= 2
    for sub in ("run", "report", "dataset", "generate", "proxy", "envs", "agents"):
        assert any(c.split()[1:2] == [sub] for c in cmds), sub


@pytest.mark.parametrize("line", [c for c in commands() if c.startswith("archgym run ")])
def test_every_run_command_composes(line):
    args = [a for a in shlex.split(line)[2:] if a not in ("--multirun", "-m")]
    if "--help" in args:
        return
    args = ["simulator=" + a.partition("=")[2] if a.startswith("env.simulator=") else a for a in args]
    args = select_custom_configs(args)
    check_group_overrides(args)
    check_overrides(args)  # raises ConfigError naming a key or group the config lacks


def _help(argv: list[str], capsys) -> str:
    from archgym.cli import main

    with pytest.raises(SystemExit) as exc:
        main([*argv, "--help"])
    assert exc.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    "line", [c for c in commands() if not c.startswith(("archgym run", "archgym --help"))]
)
def test_every_other_command_uses_options_its_help_lists(line, capsys):
    words = shlex.split(line)
    assert words[1] in COMMANDS, line
    sub = words[1:3] if words[1] in ("proxy", "dataset") else words[1:2]
    options = [w.split("=")[0] for w in words if w.startswith("--") and w != "--help"]
    options = [o for o in options if o not in ("--out", "--pareto", "--objective")] + [
        o for o in re.findall(r"\[(--[\w-]+)", line)
    ]
    if not options and words[-1:] == [sub[-1]]:
        return  # `archgym envs`: nothing to check but that it exists
    text = _help(sub, capsys)
    for option in options:
        assert option in text, f"{line}: {option} is not in `archgym {' '.join(sub)} --help`"


def test_the_python_snippets_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from archgym.runner import run_experiment

    run_experiment(
        {
            "env": {"id": "archgym/DRAMController-v0", "kwargs": {}},
            "agent": {"name": "random"},
            "budget": 4,
            "progress": False,
        },
        tmp_path / "runs" / "dram" / "random" / "seed0",
    )
    namespace: dict = {}
    for code in blocks("python")[:2]:
        code = code.replace("budget=200", "budget=20")  # the snippet's search, shorter
        exec(compile(code, str(README), "exec"), namespace)
    assert len(namespace["df"]) == 4 and namespace["result"].evaluations == 20
    assert set(namespace["info"]) >= {"design", "metrics"}


SMALL = {"-n 5000": "-n 240", "-n 500": "-n 60", "budget=100": "budget=8"}


def _small(line: str) -> list[str]:
    for big, small in SMALL.items():
        line = line.replace(big, small)
    words = shlex.split(line)
    if words[1:3] == ["proxy", "train"]:
        words += ["--param", "epochs=20", "--param", "ensemble=1"]
    if words[1] == "run":
        words += ["budget=8", "progress=false", "+env.kwargs.n_requests=300"]
    return [sys.executable, "-m", "archgym.cli", *words[1:]]


@pytest.mark.slow
def test_the_proxy_and_validate_workflows_run_as_written(tmp_path):
    start = commands().index(next(c for c in commands() if c.startswith("archgym generate")))
    workflow = [c for c in commands()[start:] if c.split()[1] in ("generate", "proxy")]
    workflow += [
        c for c in commands() if c.startswith("archgym run env=dram_random agent=ga env.simulator=proxy ")
    ]
    for line in workflow:
        proc = subprocess.run(_small(line), cwd=tmp_path, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"{line}\n{proc.stderr[-2000:]}"
    proxy_run = next(p.parent for p in (tmp_path / "runs").rglob("summary.json"))
    validate = [
        sys.executable,
        "-m",
        "archgym.cli",
        "validate",
        str(proxy_run),
        "--simulator",
        "native",
        "--top",
        "3",
    ]
    proc = subprocess.run(validate, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0 and "spearman" in proc.stdout, proc.stderr[-2000:]  # env kwargs from the run
    mismatch = [
        sys.executable,
        "-m",
        "archgym.cli",
        "proxy",
        "eval",
        "proxies/dram-mlp.agproxy",
        str(proxy_run),
    ]
    stream = subprocess.run(
        [
            sys.executable,
            "-m",
            "archgym.cli",
            "run",
            "env=dram",
            "budget=6",
            "progress=false",
            "+env.kwargs.n_requests=300",
            "hydra.run.dir=stream-run",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert stream.returncode == 0, stream.stderr[-2000:]
    mismatch[-1] = "stream-run"
    refused = subprocess.run(mismatch, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert refused.returncode == 2 and "--allow-workload-mismatch" in refused.stderr
    allowed = subprocess.run(
        [*mismatch, "--allow-workload-mismatch"], cwd=tmp_path, capture_output=True, text=True
    )
    assert allowed.returncode == 0 and "workload mismatch" in allowed.stderr
