"""Benchmark suites: named sets of tasks every agent is compared on (``conf/suite/<name>.yaml``).

A suite is a Hydra config (``+suite=small``) that lists its tasks under ``suite.tasks``; each
task is an env config (id, kwargs with the target, optionally ``simulator``) and a budget. The
sweep runs every task (``task=...``, swept by the suite), every agent and every seed given on
the command line, each run in ``<sweep dir>/agent=..,seed=..,task=..`` (resumable like any
sweep). ``suite.reference`` records, per task, the two numbers that normalise scores across
tasks (:mod:`archgym.scores`): random search's median best reward at the budget and the best
reward any run of any agent reached, measured on the suite's own full run (see
``benchmarks/suite_reference.py``).

``suite.agent_params.<agent name>`` sets an agent's hyperparameters for the suite's budgets (the
runner merges them into ``agent.params``: :func:`archgym.runner.with_suite_agent_params`).

The ``suite`` block itself does not enter a run's fingerprint (:data:`archgym.sweep.VOLATILE_KEYS`):
what a run uses of it is its resolved ``env`` and ``budget``, so recording references does
not make complete runs look changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from archgym.errors import ConfigError

#: the package folder holding the suites (``archgym.conf`` is ``conf/`` installed)
SUITE_PACKAGE = "archgym.conf"
SUITE_GROUP = "suite"


@dataclass(frozen=True)
class Task:
    """One task of a suite: an env (id, kwargs, simulator) and a budget."""

    name: str
    env: dict[str, Any]
    budget: int
    chosen_by: str = ""

    @property
    def env_id(self) -> str:
        return str(self.env["id"])

    @property
    def targets(self) -> dict[str, float]:
        return dict((self.env.get("kwargs") or {}).get("targets") or {})


@dataclass(frozen=True)
class Reference:
    """What normalises a task's scores: random search's median best reward and the best reward seen."""

    random_median: float
    best: float
    objective_hash: str = ""
    runs: int = 0


@dataclass(frozen=True)
class Suite:
    """A suite's tasks and the recorded references of its scores."""

    name: str
    tasks: dict[str, Task]
    reference: dict[str, Reference] = field(default_factory=dict)

    def task_of(self, env_id: str, budget: int | None = None) -> Task | None:
        """The task of runs on ``env_id`` (and ``budget`` when several tasks share the env)."""
        matches = [t for t in self.tasks.values() if t.env_id == env_id]
        if budget is not None and len(matches) > 1:
            matches = [t for t in matches if t.budget == budget] or matches
        return matches[0] if matches else None


def suite_dir() -> Path:
    """The folder of the installed suite configs."""
    return Path(str(resources.files(SUITE_PACKAGE))) / SUITE_GROUP


def available_suites() -> list[str]:
    return sorted(p.stem for p in suite_dir().glob("*.yaml"))


def load_suite(name_or_path: str | Path) -> Suite:
    """Read a suite by name (``small``) or from a YAML file; raises :class:`ConfigError` if unknown."""
    path = Path(name_or_path)
    if not path.suffix:
        path = suite_dir() / f"{name_or_path}.yaml"
    if not path.is_file():
        raise ConfigError(
            f"suite: no suite {str(name_or_path)!r}; available: {', '.join(available_suites())}"
        )
    return suite_from_mapping(_suite_block(path), default_name=path.stem)


def _suite_block(path: Path) -> dict[str, Any]:
    """A suite file's ``suite`` block, over the blocks of the suites its defaults list names."""
    from omegaconf import OmegaConf

    raw = yaml.safe_load(path.read_text()) or {}
    bases = [d for d in raw.get("defaults") or [] if isinstance(d, str) and d != "_self_"]
    merged = OmegaConf.merge(
        *(OmegaConf.create(_suite_block(path.parent / f"{b}.yaml")) for b in bases),
        OmegaConf.create(raw.get("suite") or {}),
    )
    block = OmegaConf.to_container(merged)
    assert isinstance(block, dict)
    return {str(k): v for k, v in block.items()}


def suite_from_mapping(block: Mapping[str, Any], default_name: str = "") -> Suite:
    """A :class:`Suite` from a config's ``suite`` block."""
    tasks = {}
    for name, spec in (block.get("tasks") or {}).items():
        if "env" not in spec or "budget" not in spec:
            raise ConfigError(f"suite.tasks.{name}: needs env and budget")
        tasks[str(name)] = Task(
            str(name), dict(spec["env"]), int(spec["budget"]), str(spec.get("chosen_by", ""))
        )
    reference = {
        str(name): Reference(
            float(r["random_median"]),
            float(r["best"]),
            str(r.get("objective_hash", "")),
            int(r.get("runs", 0)),
        )
        for name, r in (block.get("reference") or {}).items()
    }
    return Suite(str(block.get("name") or default_name), tasks, reference)


def task_config(suite: str, task: str, overrides: list[str] | None = None) -> dict[str, Any]:
    """The resolved run config of one task (what ``archgym run +suite=SUITE task=TASK`` runs)."""
    from hydra import compose, initialize_config_module
    from omegaconf import OmegaConf

    from archgym.cli.run import register_resolvers

    register_resolvers()
    with initialize_config_module(config_module=SUITE_PACKAGE, version_base="1.3"):
        cfg = compose("config", overrides=[f"+suite={suite}", f"task={task}", *(overrides or [])])
    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    return {str(k): v for k, v in plain.items()}


__all__ = [
    "Reference",
    "Suite",
    "Task",
    "available_suites",
    "load_suite",
    "suite_dir",
    "suite_from_mapping",
    "task_config",
]
