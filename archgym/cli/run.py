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

import json
import os
import sys
import tempfile
import traceback
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from archgym.atomic import write_text_atomic
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
    """Remove the empty directory Hydra made for a run that was rejected before it started, and
    its parents while they are empty (``runs/<env>/<agent>/``), up to the working directory."""
    path, stop = out.absolute(), Path.cwd()
    while path != stop and path.parent != path:
        if stop not in path.parents and path != out.absolute():
            return  # outside the working directory: only the run's own directory goes
        try:
            path.rmdir()
        except OSError:  # missing, or not empty: it holds something else, keep it
            return
        path = path.parent


#: a sweep's jobs record their outcome in this folder (set by :func:`main`, read after the sweep)
STATUS_ENV = "ARCHGYM_SWEEP_STATUS_DIR"


def record_job(out: Path, status: str, detail: str = "") -> None:
    """Note a sweep job's outcome (``ran``, ``complete``, ``locked``, ``failed``) for the sweep's summary."""
    folder = os.environ.get(STATUS_ENV)
    if folder and Path(folder).is_dir():
        line = json.dumps({"dir": str(out), "status": status, "detail": detail})
        write_text_atomic(Path(folder) / f"{uuid.uuid4().hex}.json", line)


def sweep_summary(folder: Path) -> tuple[str, int]:
    """The one-paragraph summary of a sweep's jobs and its exit status (0, 1 skipped, 2 failed)."""
    jobs = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    counts = {k: sum(j["status"] == k for j in jobs) for k in ("ran", "complete", "locked", "failed")}
    lines = [
        f"archgym: sweep: {len(jobs)} jobs: {counts['ran']} ran, {counts['complete']} already complete, "
        f"{counts['locked']} skipped (directory locked by another run), {counts['failed']} failed"
    ]
    lines += [
        f"  {j['status']}: {j['dir']}: {j['detail']}" for j in jobs if j["status"] in ("locked", "failed")
    ]
    status = 2 if counts["failed"] else 1 if counts["locked"] else 0
    return "\n".join(lines), status


def task(cfg: DictConfig) -> float | None:
    """The Hydra task of one job."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from archgym.runner import format_summary, run_experiment

    plain_warnings()
    hydra_cfg = HydraConfig.get()
    out = Path(hydra_cfg.runtime.output_dir)
    sweep = hydra_cfg.mode == RunMode.MULTIRUN
    before = _previous_run_id(out)
    try:
        summary = run_experiment(cfg, out, on_start=lambda d: save_hydra_files(cfg, hydra_cfg, d))
    except (RunLockedError, ConfigError) as exc:
        status = error(exc)
        if not isinstance(exc, RunLockedError):
            discard_if_empty(out)
        if sweep:  # the sweep's other jobs go on; its exit status says this one did not run
            record_job(out, "locked" if isinstance(exc, RunLockedError) else "failed", str(exc))
            return None
        raise SystemExit(status) from None
    except Exception as exc:  # a simulator or agent crash: in a sweep, one failed job of many
        if not sweep:
            raise
        traceback.print_exc()
        record_job(out, "failed", f"{type(exc).__name__}: {exc}")
        return None
    if sweep:
        record_job(out, "complete" if summary.run_id == before else "ran")
    print(format_summary(summary))
    return summary.best_reward


def _previous_run_id(out: Path) -> str | None:
    """The run id of a complete run already in ``out`` (a resumed sweep skips it), else ``None``."""
    try:
        previous = json.loads((out / "summary.json").read_text())
    except (OSError, ValueError):
        return None
    return str(previous.get("run_id")) if previous.get("complete") else None


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
    return args + extra  # after any --multirun: Hydra reads its overrides as one run of words


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
    if not any(
        a in ("-h", "--help", "--hydra-help", "-c", "--cfg", "--info") or a.startswith("--cfg") for a in args
    ):
        check_overrides(args)
    import hydra

    register_resolvers()
    job = hydra.main(config_path="pkg://archgym.conf", config_name="config", version_base="1.3")(task)
    sys.argv = ["archgym run", *args]
    if "--multirun" not in args and "-m" not in args:
        job()
        return 0
    with tempfile.TemporaryDirectory(prefix="archgym-sweep-") as folder:
        os.environ[STATUS_ENV] = folder
        try:
            job()
        finally:
            os.environ.pop(STATUS_ENV, None)
        text, status = sweep_summary(Path(folder))
    print(text, file=sys.stderr)
    return status


def check_overrides(args: Sequence[str]) -> None:
    """Compose the config once with the first value of every sweep, so that a key the config
    lacks or a malformed override is one :class:`ConfigError` line instead of Hydra's report."""
    from hydra import compose, initialize_config_module
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    try:
        parsed = OverridesParser.create().parse_overrides([a for a in args if not a.startswith("-")])
    except HydraException as exc:
        raise ConfigError(_one_line(exc)) from None
    single = []
    for o in parsed:
        if o.key_or_group.startswith("hydra"):
            continue  # the launcher, sweeper and directories: Hydra checks them itself
        if o.is_sweep_override():
            try:
                first = next(iter(o.sweep_string_iterator()))
            except (HydraException, StopIteration, TypeError, ValueError):
                continue  # glob(...) over a group: its options are Hydra's to expand
            single.append(f"{o.get_key_element()}={first}")
        else:
            single.append(str(o.input_line))
    try:
        with initialize_config_module("archgym.conf", version_base="1.3"):
            compose("config", overrides=single)
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(_one_line(exc)) from None


def _one_line(exc: BaseException) -> str:
    lines = [
        ln.strip()
        for ln in str(exc).splitlines()
        if ln.strip() and not ln.strip().startswith(("full_key", "object_type"))
    ]
    return " ".join(lines[:3]).replace("..", ".")


__all__ = [
    "check_overrides",
    "discard_if_empty",
    "record_job",
    "sweep_summary",
    "main",
    "register_resolvers",
    "save_hydra_files",
    "select_custom_configs",
    "task",
]
