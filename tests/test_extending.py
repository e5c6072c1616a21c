"""docs/extending.md, executed: a third-party package with its own env and agent, registered
only through entry points, runs under ``archgym run`` with archgym's code unmodified.

The page's ``file=...`` blocks are written into a temporary package; it is put on the path
with the ``.dist-info`` (metadata + ``entry_points.txt``) that pip would write for it, so the
fast tests need no build. The slow test installs it for real with ``pip install``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

from archgym.dataset import load_dataset

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "extending.md"
FENCE = re.compile(r"^```(\w+)[ \t]*([^\n]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def doc_blocks() -> list[tuple[str, str, str]]:
    """``(language, attributes, code)`` of every fenced block of the page, in order."""
    return [(m.group(1), m.group(2).strip(), m.group(3)) for m in FENCE.finditer(DOC.read_text())]


def doc_files() -> dict[str, str]:
    return {attrs[5:]: code for _, attrs, code in doc_blocks() if attrs.startswith("file=")}


def doc_commands() -> list[list[str]]:
    cmds = []
    for lang, _, code in doc_blocks():
        if lang == "console":
            cmds += [line[2:].split() for line in code.splitlines() if line.startswith("$ ")]
    return cmds


def archgym_cli() -> list[str]:
    script = Path(sys.executable).with_name("archgym")
    return [str(script)] if script.exists() else [sys.executable, "-m", "archgym.cli"]


def write_package(root: Path) -> Path:
    """The page's files under ``root/src``; returns that folder."""
    src = root / "src"
    for name, code in doc_files().items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code)
    return src


def write_dist_info(src: Path) -> None:
    """What ``pip install`` records for the package: its metadata and entry points."""
    project = tomllib.loads((src / "pyproject.toml").read_text())["project"]
    info = src / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    lines = []
    for group, entries in project["entry-points"].items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {value}" for name, value in entries.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")


def env_with_path(path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(path), os.environ.get("PYTHONPATH")])),
    }


@pytest.fixture(scope="module")
def plugin(tmp_path_factory) -> Path:
    src = write_package(tmp_path_factory.mktemp("mylab"))
    write_dist_info(src)
    return src


def test_the_page_has_the_package_and_the_commands():
    assert {"pyproject.toml", "mylab/__init__.py", "mylab/multicore.py", "mylab/search.py"} <= set(
        doc_files()
    )
    assert [c[:2] for c in doc_commands()] == [["archgym", "run"]]
    assert sum(lang == "python" and attrs == "run" for lang, attrs, _ in doc_blocks()) == 1


def test_doc_command_runs_the_plugin_env_and_agent(plugin, tmp_path):
    (cmd,) = doc_commands()
    out = tmp_path / "run"
    proc = subprocess.run(
        [*archgym_cli(), *cmd[1:], f"hydra.run.dir={out}"],
        cwd=tmp_path,
        env=env_with_path(plugin),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    budget = int(next(a for a in cmd if a.startswith("budget=")).partition("=")[2])
    assert (summary["env_id"], summary["agent"]) == ("mylab/Multicore-v0", "anneal")
    assert summary["evaluations"] == budget and summary["complete"]
    df = load_dataset(out / "dataset")
    assert len(df) == budget
    assert set(df["param.organisation"]) <= {"symmetric", "asymmetric", "dynamic"}
    assert json.loads(df["agent_params"].iloc[0])["t0"] == 0.05  # the agent's hyperparameters are recorded
    # the logged metrics are the model's: recompute a few rows with the plugin's own formula
    sys.path.insert(0, str(plugin))
    try:
        from mylab.multicore import speedup
    finally:
        sys.path.remove(str(plugin))
    for _, row in df.head(5).iterrows():
        expected = speedup(row["param.organisation"], 0.975, 256, int(row["param.core_bces"]))
        assert row["metric.speedup"] == pytest.approx(expected, rel=1e-12)


def test_doc_python_block_runs(plugin, tmp_path):
    (code,) = [code for lang, attrs, code in doc_blocks() if lang == "python" and attrs == "run"]
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env_with_path(plugin),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_without_the_package_the_ids_are_unknown(tmp_path):
    """The control: the same command fails cleanly when the package is not installed."""
    (cmd,) = doc_commands()
    proc = subprocess.run(
        [*archgym_cli(), *cmd[1:], f"hydra.run.dir={tmp_path / 'run'}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert "unknown environment 'mylab/Multicore-v0'" in proc.stderr


@pytest.mark.slow
def test_pip_installed_package_runs_with_target_agent(tmp_path):
    """A real ``pip install`` of the page's package, then the agent by import path (``_target_``)."""
    pytest.importorskip("setuptools")
    src = write_package(tmp_path)
    site = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "--target", str(site), str(src)], check=True, timeout=300)
    shutil.rmtree(src)  # only the installed copy remains
    out = tmp_path / "run"
    proc = subprocess.run(
        [
            *archgym_cli(),
            "run",
            "env.id=mylab/Multicore-v0",
            "agent._target_=mylab.search.SimulatedAnnealing",
            "+agent.params.batch_size=2",
            "budget=30",
            "progress=false",
            f"hydra.run.dir={out}",
        ],
        cwd=tmp_path,
        env=env_with_path(site),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["agent"] == "mylab.search.SimulatedAnnealing" and summary["evaluations"] == 30
    assert summary["agent_params"]["batch_size"] == 2
