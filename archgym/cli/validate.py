"""``archgym validate``: re-evaluate a dataset's best/Pareto designs with a second simulator."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from archgym.cli.common import parse_key_values
from archgym.errors import ConfigError
from archgym.validate import validate


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="archgym validate",
        description="Re-evaluate a dataset's best/Pareto designs with another simulator.",
    )
    ap.add_argument("paths", nargs="+", help="run, sweep or dataset directories (or shard files)")
    ap.add_argument(
        "--simulator",
        default="zigzag",
        help="second simulator: any name `archgym.simulators` registers (native, proxy, template, hierarchy, zigzag, ...)",
    )
    ap.add_argument("--path", default=None, help="the proxy file, with --simulator proxy")
    ap.add_argument(
        "--timeout", type=float, default=None, help="evaluation_timeout_s of the second simulator"
    )
    ap.add_argument("--top", type=int, default=10, help="designs with the highest reward (default 10)")
    ap.add_argument("--no-pareto", action="store_true", help="skip the Pareto-front designs")
    ap.add_argument("--no-write", action="store_true", help="do not write the second simulator's rows")
    ap.add_argument(
        "-k", "--env-kwarg", action="append", default=[], help="env constructor argument key=value"
    )
    args = ap.parse_args(argv)
    if args.top < 0:
        raise ConfigError(f"--top: must be >= 0, got {args.top}")
    spec: dict[str, Any] = {"name": args.simulator}
    if args.path:
        spec["path"] = args.path
    if args.timeout is not None:
        spec["evaluation_timeout_s"] = args.timeout
    kwargs = parse_key_values(args.env_kwarg, "-k/--env-kwarg")
    report = validate(args.paths, spec, kwargs, args.top, not args.no_pareto, not args.no_write)
    print(report.table())
    return 0
