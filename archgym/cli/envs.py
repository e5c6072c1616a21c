"""``archgym envs``: list the environments, their design spaces and metrics."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from archgym.cli.common import config_options
from archgym.registry import env_ids


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="archgym envs",
        description="List the env configs (env=NAME for `archgym run`) and every registered environment: "
        "its gymnasium id, simulator version, design parameters with their allowed values, and metrics "
        "with units. An env that cannot be built here is listed as unavailable, with the reason.",
    )
    parser.add_argument("--id", dest="ids", action="append", help="only this gymnasium id (repeatable)")
    args = parser.parse_args(list(argv))
    import gymnasium

    import archgym  # noqa: F401  (registers the envs)
    from archgym.env import unwrap

    for name in config_options("env"):
        print(f"env={name}")
    print()
    for env_id in args.ids or env_ids():
        try:
            env = gymnasium.make(env_id)
        except Exception as exc:  # an env that cannot be built here still gets listed
            print(f"{env_id}: unavailable ({type(exc).__name__}: {exc})")
            continue
        base = unwrap(env)
        print(f"{env_id}  simulator: {base.simulator.version}")
        print(base.space.describe())
        print("  metrics: " + ", ".join(f"{m.name} [{m.unit}, {m.better}]" for m in base.simulator.metrics))
        print()
        env.close()
    return 0
