"""The ``archgym`` command.

Subcommands::

    archgym run [--multirun] [hydra overrides...]   search a design space, log a dataset
    archgym envs                                    list environments and their knobs
    archgym agents                                  list agents and their hyperparameters

``archgym run --help`` shows the run's config groups and keys. The configs ship inside the
package (``archgym.conf``), so ``archgym run`` works from any directory.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib import resources

from archgym.registry import AGENT_ENTRY_POINTS, ENV_ENTRY_POINTS, ConfigError

USAGE = """usage: archgym <command> [args]

commands:
  run [--multirun] [overrides]   run a search agent on an environment and log every design
                                 e.g. archgym run env=dram agent=random budget=50 seed=0
                                      archgym run --multirun agent=random,rw seed=0,1
                                 `archgym run --help` lists every config key
  envs                           list environments (config name, gymnasium id, knobs)
  agents                         list agents and their hyperparameters
  report SWEEP_DIR [--out DIR]   tables per agent/config + figures (best-so-far, lottery, Pareto)
  dataset merge|export PATHS -o FILE
                                 merge runs into one .parquet/.csv (merge dedupes designs)
  proxy train|eval|info ...      train a proxy cost model on a dataset, score it, inspect it
  generate --env ID -n N -o DIR  simulate N designs (random, sobol or replayed) into a dataset
  validate PATHS --simulator S   re-evaluate the best/Pareto designs with a second simulator
  (each of these takes --help)

Datasets go to runs/... (or multirun/... for sweeps): one Parquet row per evaluated design,
plus summary.json with the best design. Load them with archgym.dataset.load_dataset(path).
"""


def config_options(group: str) -> list[str]:
    """Names of the configs shipped in a config group (``env``, ``agent``, ``logger``)."""
    folder = resources.files("archgym.conf").joinpath(group)
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def check_group_overrides(args: Sequence[str]) -> None:
    """Reject ``env=X`` / ``agent=X`` naming a config that does not exist, in one line."""
    for arg in args:
        if arg.startswith("-") or "=" not in arg:
            continue
        key, _, value = arg.partition("=")
        key = key.lstrip("+~")
        if key not in ("env", "agent", "logger", "simulator"):
            continue
        allowed = config_options(key)
        for choice in value.split(","):
            if choice and choice not in allowed:
                raise ConfigError(f"{key}: unknown {key} {choice!r}; allowed: {', '.join(allowed)}")


def _run(args: list[str]) -> int:
    # env.simulator=proxy is the `simulator` config group (it fills env.simulator)
    args = ["simulator=" + a.partition("=")[2] if a.startswith("env.simulator=") else a for a in args]
    check_group_overrides(args)
    if "hydra/launcher=ray_local" in args:  # a single-machine Ray: every Ray server on 127.0.0.1 only
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import hydra
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import DictConfig

    from archgym.runner import format_summary, run_experiment

    @hydra.main(config_path="pkg://archgym.conf", config_name="config", version_base="1.3")
    def job(cfg: DictConfig) -> float | None:
        out = HydraConfig.get().runtime.output_dir
        try:
            summary = run_experiment(cfg, out)
        except ConfigError as exc:
            print(f"archgym: error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        print(format_summary(summary))
        return summary.best_reward

    sys.argv = ["archgym run", *args]
    job()
    return 0


def _list_envs() -> int:
    import gymnasium

    import archgym  # noqa: F401  (registers the envs)

    for name in config_options("env"):
        print(f"env={name}")
    print()
    for env_id in ENV_ENTRY_POINTS:
        try:
            env = gymnasium.make(env_id)
        except Exception as exc:  # an env that cannot be built here still gets listed
            print(f"{env_id}: unavailable ({type(exc).__name__}: {exc})")
            continue
        base = env.unwrapped
        print(f"{env_id}  simulator: {base.simulator.version}")
        print(base.space.describe())
        print("  metrics: " + ", ".join(f"{m.name} [{m.unit}]" for m in base.simulator.metrics))
        print()
    return 0


def _list_agents() -> int:
    import inspect

    from archgym.registry import agent_class

    for name in AGENT_ENTRY_POINTS:
        try:
            cls = agent_class(name)
        except ImportError as exc:
            print(f"{name}: unavailable ({exc})")
            continue
        sig = inspect.signature(cls.__init__)
        params = [
            f"{p}={v.default!r}" for p, v in sig.parameters.items() if p not in ("self", "space", "seed")
        ]
        doc = (inspect.getdoc(cls) or "").splitlines()[0]
        print(f"agent={name:<8} {doc}\n    {', '.join(params)}")
    return 0


def _tool(module: str, args: list[str]) -> int:
    """Run ``module.main(args)``; a missing file or bad value becomes a one-line error."""
    import importlib

    try:
        return importlib.import_module(module).main(args)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        print(f"archgym: error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``archgym`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    command, rest = args[0], args[1:]
    commands = {
        "run": lambda: _run(rest),
        "envs": _list_envs,
        "agents": _list_agents,
        "report": lambda: _tool("archgym.report", rest),
        "dataset": lambda: _tool("archgym.merge", rest),
        "proxy": lambda: _tool("archgym.proxy.cli", rest),
        "generate": lambda: _tool("archgym.generate", rest),
        "validate": lambda: _tool("archgym.validate", rest),
    }
    if command not in commands:
        print(
            f"archgym: error: unknown command {command!r}; allowed: {', '.join(commands)}\n", file=sys.stderr
        )
        print(USAGE, file=sys.stderr)
        return 2
    try:
        return commands[command]()
    except ConfigError as exc:
        print(f"archgym: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
