"""``archgym run``: one search (or a ``--multirun`` sweep) configured by Hydra.

Every job runs :func:`archgym.runner.run_experiment` in its own directory and holds that
directory's lock for its whole life. A single run aimed at a directory another live run
holds exits with status 2 and one line naming the directory and the holder; in a sweep that
job is skipped with the same line and the others go on (re-run the sweep later: complete
runs are skipped, so only the missing ones run).

Default directories end in a random 8-hex-digit suffix (the ``archgym_uid`` resolver), so
two runs started in the same second never share one. Hydra's ``.hydra/`` files are written
by the job itself once it holds the lock and its config is valid, so a rejected run leaves
no directory behind and a locked one is left untouched.
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from archgym.cli.common import check_group_overrides, config_options, error, plain_warnings
from archgym.errors import ConfigError, RunLockedError

UID_RESOLVER = "archgym_uid"


def register_resolvers() -> None:
    """``${archgym_uid:}``: 8 random hex digits, fixed per config (cached like Hydra's ``${now:}``)."""
    if not OmegaConf.has_resolver(UID_RESOLVER):
        OmegaConf.register_new_resolver(UID_RESOLVER, lambda: uuid.uuid4().hex[:8], use_cache=True)


# At import: a sweep worker (joblib, Ray, SLURM) imports this module to unpickle `task` before
# Hydra resolves the job's directory there, so the resolver must exist by then.
register_resolvers()


def save_hydra_files(cfg: DictConfig, hydra_cfg: Any, out: Path) -> None:
    """Write what Hydra's ``output_subdir`` holds: ``.hydra/{config,hydra,overrides}.yaml``."""
    folder = out / ".hydra"
    folder.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(cfg, folder / "config.yaml")
    OmegaConf.save(OmegaConf.create({"hydra": hydra_cfg}), folder / "hydra.yaml")
    OmegaConf.save(hydra_cfg.overrides.task, folder / "overrides.yaml")


def discard_if_empty(out: Path) -> None:
    """Remove the empty directory Hydra made for a run that was rejected before it started."""
    with contextlib.suppress(OSError):  # missing, or not empty: it holds something else, keep it
        out.rmdir()


def task(cfg: DictConfig) -> float | None:
    """The Hydra task of one job."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from archgym.runner import format_summary, run_experiment

    plain_warnings()
    hydra_cfg = HydraConfig.get()
    out = Path(hydra_cfg.runtime.output_dir)
    try:
        summary = run_experiment(cfg, out, on_start=lambda d: save_hydra_files(cfg, hydra_cfg, d))
    except RunLockedError as exc:
        status = error(exc)
        if hydra_cfg.mode == RunMode.MULTIRUN:
            return None  # the sweep's other jobs go on
        raise SystemExit(status) from None
    except ConfigError as exc:
        discard_if_empty(out)
        raise SystemExit(error(exc)) from None
    print(format_summary(summary))
    return summary.best_reward


def select_custom_configs(args: list[str]) -> list[str]:
    """``env.id=X`` / ``agent.name=X`` / ``agent._target_=X`` without ``env=`` / ``agent=``
    select the ``custom`` config of that group (any registered env or agent, no preset kwargs)."""
    keys = [a.partition("=")[0] for a in args if "=" in a and not a.startswith("-")]
    extra = []
    if "env.id" in keys and "env" not in keys:
        extra.append("env=custom")
    if ("agent.name" in keys or "agent._target_" in keys) and "agent" not in keys:
        extra.append("agent=custom")
        if "agent.name" not in keys:  # label the run by the class path
            extra += [f"agent.name={a.partition('=')[2]}" for a in args if a.startswith("agent._target_=")]
    return extra + args


def _simulator_override(arg: str) -> str:
    """``env.simulator=NAME`` as the ``simulator`` config group when archgym ships a config for
    NAME, else as ``env.simulator.name=NAME`` (any ``archgym.simulators`` entry point)."""
    name = arg.partition("=")[2]
    shipped = config_options("simulator")
    if all(n in shipped for n in name.split(",")):
        return "simulator=" + name
    return "env.simulator.name=" + name


def main(argv: Sequence[str]) -> int:
    """``archgym run [--multirun] [overrides]`` (``--help`` shows every config key)."""
    args = list(argv)
    # env.simulator=proxy is the `simulator` config group (it fills env.simulator); a simulator
    # another package registers without a shipped config is named directly
    args = [_simulator_override(a) if a.startswith("env.simulator=") else a for a in args]
    args = select_custom_configs(args)
    check_group_overrides(args)
    if "hydra/launcher=ray_local" in args:  # a single-machine Ray: every Ray server on 127.0.0.1 only
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import hydra

    register_resolvers()
    job = hydra.main(config_path="pkg://archgym.conf", config_name="config", version_base="1.3")(task)
    sys.argv = ["archgym run", *args]
    job()
    return 0


__all__ = [
    "discard_if_empty",
    "main",
    "register_resolvers",
    "save_hydra_files",
    "select_custom_configs",
    "task",
]
