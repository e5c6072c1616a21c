"""``archgym envs``: list the environments, their design spaces and metrics."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from archgym.cli.common import config_options
from archgym.declaration import metric_list
from archgym.registry import env_declaration, env_ids


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="archgym envs",
        description="List the env configs (env=NAME for `archgym run`) and every registered environment: "
        "its gymnasium id, default simulator, design parameters with their allowed values, and metrics "
        "with units. Envs are listed from their declarations (nothing is simulated); an env registered "
        "without one is built to be listed, and one that cannot be built is listed as unavailable.",
    )
    parser.add_argument("--id", dest="ids", action="append", help="only this gymnasium id (repeatable)")
    args = parser.parse_args(list(argv))
    for name in config_options("env"):
        print(f"env={name}")
    print()
    for env_id in args.ids or env_ids():
        try:
            declaration = env_declaration(env_id)
            print(declaration.describe(env_id) if declaration else _built_description(env_id))
        except Exception as exc:  # an env that cannot be read or built here still gets listed
            print(f"{env_id}: unavailable ({type(exc).__name__}: {exc})")
        print()
    return 0


def _built_description(env_id: str) -> str:
    """The listing of an env without a declaration: built with its defaults."""
    import gymnasium

    from archgym.env import unwrap

    env = gymnasium.make(env_id)
    try:
        base = unwrap(env)
        metrics = metric_list(base.simulator.metrics)
        return f"{env_id}  simulator: {base.simulator.version}\n{base.space.describe()}\n  metrics: {metrics}"
    finally:
        env.close()
