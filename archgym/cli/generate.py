"""``archgym generate``: simulate N sampled designs of an environment into a dataset."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from archgym.cli.common import parse_key_values
from archgym.generate import SAMPLERS, generate_dataset
from archgym.registry import ENV_ENTRY_POINTS


def main(argv: Sequence[str]) -> int:
    """``archgym generate``."""
    parser = argparse.ArgumentParser(
        prog="archgym generate",
        description="Simulate N designs of an environment chosen by a sampler (random, sobol, or replay of "
        "existing datasets such as agent runs) and write them as a dataset: OUT/dataset/part-*.parquet + "
        "OUT/summary.json. Each design is simulated once (unless --allow-duplicates). The generation is an "
        "ordinary run: OUT is locked while it is written, and running the same command again resumes "
        "(a complete generation is skipped, a cut-off one is redone).",
        epilog="example: archgym generate --env archgym/DRAMController-v0 -n 5000 --sampler sobol "
        "--env-arg workload=random -o data/dram-sobol",
    )
    parser.add_argument("--env", required=True, help=f"gymnasium id: {', '.join(ENV_ENTRY_POINTS)}")
    parser.add_argument("-n", type=int, required=True, help="number of designs to simulate")
    parser.add_argument(
        "-o",
        "--out",
        required=True,
        help="output run directory (refused when it holds anything but this generation; see --overwrite)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace the dataset and summary a directory already holds"
    )
    parser.add_argument(
        "--sampler", default="random", choices=SAMPLERS, help="random | sobol | replay (default random)"
    )
    parser.add_argument(
        "--from", dest="source", nargs="+", default=[], help="datasets to replay (with --sampler replay)"
    )
    parser.add_argument("--seed", type=int, default=0, help="sampler seed (default 0)")
    parser.add_argument(
        "--env-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="env keyword argument (as in env.kwargs), e.g. workload=random; dotted keys nest",
    )
    parser.add_argument("--batch-size", type=int, default=32, help="designs per simulator batch (default 32)")
    parser.add_argument(
        "--allow-duplicates", action="store_true", help="do not skip designs already simulated"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(list(argv))
    res = generate_dataset(
        args.env,
        args.out,
        args.n,
        args.sampler,
        seed=args.seed,
        env_kwargs=parse_key_values(args.env_arg),
        source=args.source,
        unique=not args.allow_duplicates,
        batch_size=args.batch_size,
        progress=not args.no_progress,
        overwrite=args.overwrite,
    )
    rate = res.designs / res.wall_time_s if res.wall_time_s > 0 else float("inf")
    print(
        f"simulated {res.designs} designs ({res.failed} failed) in {res.wall_time_s:.1f} s ({rate:.1f}/s) -> "
        f"{res.output_dir}/dataset"
    )
    if res.exhausted:
        print(f"note: the sampler ran out of new designs before {args.n}", file=sys.stderr)
    return 0
