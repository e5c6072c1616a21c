"""The ``archgym`` command: one module per subcommand, each with ``main(argv) -> int``.

Subcommands::

    archgym run [--multirun] [hydra overrides...]   search a design space, log a dataset
    archgym envs                                    list environments and their knobs
    archgym agents                                  list agents and their hyperparameters
    archgym report SWEEP_DIR                        tables and figures of a sweep
    archgym dataset merge|export PATHS -o FILE      combine runs into one file
    archgym proxy train|eval|info ...               proxy cost models
    archgym generate --env ID -n N -o DIR           simulate N sampled designs into a dataset
    archgym validate PATHS --simulator S            re-evaluate best designs with another simulator

To add a subcommand, add a module here with ``main(argv: Sequence[str]) -> int`` and a line to
:data:`COMMANDS`. ``archgym run --help`` shows the run's config groups and keys. The configs
ship inside the package (``archgym.conf``), so ``archgym run`` works from any directory.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

from archgym.cli.common import error

#: subcommand -> module whose ``main(argv)`` runs it
COMMANDS: dict[str, str] = {
    "run": "archgym.cli.run",
    "envs": "archgym.cli.envs",
    "agents": "archgym.cli.agents",
    "report": "archgym.cli.report",
    "dataset": "archgym.cli.dataset",
    "proxy": "archgym.proxy.cli",
    "generate": "archgym.cli.generate",
    "validate": "archgym.cli.validate",
}

USAGE = """usage: archgym <command> [args]

commands:
  run [--multirun] [overrides]   run a search agent on an environment and log every design
                                 e.g. archgym run env=dram agent=random budget=50 seed=0
                                      archgym run --multirun agent=random,rw seed=0,1
                                 `archgym run --help` lists every config key
  envs                           list environments (config name, gymnasium id, knobs)
  agents                         list agents and their hyperparameters
  report SWEEP_DIR [--out DIR]   tables per env/agent/config + figures (best-so-far, lottery, Pareto)
  dataset merge|export PATHS -o FILE
                                 merge runs into one .parquet/.csv (simulator rows of one env and
                                 objective by default; merge dedupes designs)
  proxy train|eval|info ...      train a proxy cost model on a dataset, score it, inspect it
  generate --env ID -n N -o DIR  simulate N designs (random, sobol or replayed) into a dataset
  validate PATHS --simulator S   re-evaluate the best/Pareto designs with a second simulator
  (each of these takes --help)

Datasets go to runs/... (or multirun/... for sweeps): one Parquet row per evaluated design,
plus summary.json with the best design. Load them with archgym.dataset.load_dataset(path).
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``archgym`` console script."""
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except BrokenPipeError:  # output piped into a reader that stopped early (`| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 1


def _main(args: list[str]) -> int:
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(
            f"archgym: error: unknown command {command!r}; allowed: {', '.join(COMMANDS)}\n", file=sys.stderr
        )
        print(USAGE, file=sys.stderr)
        return 2
    try:
        return int(importlib.import_module(COMMANDS[command]).main(rest))
    except (ValueError, FileNotFoundError, KeyError) as exc:  # ConfigError is a ValueError
        return error(exc.args[0] if exc.args else str(exc))


__all__ = ["COMMANDS", "USAGE", "main"]
