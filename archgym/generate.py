"""Active data generation: simulate N designs chosen by a sampler and log them as a dataset.

Samplers:

* ``random`` — uniform over the design space (each parameter uniform over its values);
* ``sobol`` — a scrambled Sobol sequence in the unit cube, decoded by the design space
  (spreads designs more evenly than random for the same N);
* ``replay`` — the designs of existing datasets (e.g. agent runs' logs), in order, to
  re-simulate them on another workload or simulator version.

With ``unique=True`` (the default) a design is simulated at most once; the sampler keeps
drawing until N distinct designs are done (or, for a space smaller than N, until it gives
up after many repeats and says so). The output is an ordinary run directory
(``dataset/part-*.parquet`` + ``summary.json``), so merge, proxies and reports read it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from archgym.design_space import DesignSpace

SAMPLERS = ("random", "sobol", "replay")
_MAX_REPEAT_FACTOR = 50  # give up after this many draws per wanted design


def design_stream(
    space: DesignSpace, sampler: str, seed: int = 0, source: Sequence[str] = (), batch: int = 256
) -> Iterator[dict[str, Any]]:
    """An endless (``random``, ``sobol``) or finite (``replay``) stream of designs."""
    if sampler == "random":
        rng = np.random.default_rng(seed)
        while True:
            for u in rng.random((batch, len(space))):
                yield space.from_unit(u)
    elif sampler == "sobol":
        import torch

        engine = torch.quasirandom.SobolEngine(len(space), scramble=True, seed=seed)
        while True:
            for u in engine.draw(batch, dtype=torch.float64).numpy():
                yield space.from_unit(u)
    elif sampler == "replay":
        if not source:
            raise ValueError("the replay sampler needs --from DATASET (run/sweep directories or shards)")
        from archgym.dataset import load_dataset
        from archgym.logger import PARAM_PREFIX

        df = load_dataset(*source)
        cols = [PARAM_PREFIX + n for n in space.names]
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ValueError(
                f"the datasets under {', '.join(source)} lack column(s) {', '.join(missing)} of this env"
            )
        for row in df[cols].dropna().itertuples(index=False):
            yield space.validate(dict(zip(space.names, row)))
    else:
        raise ValueError(f"unknown sampler {sampler!r}; allowed: {', '.join(SAMPLERS)}")


class _Picker:
    """Draws designs from a stream, skipping repeats when ``unique``, with a cap on draws."""

    def __init__(self, stream: Iterator[dict[str, Any]], unique: bool, max_draws: int) -> None:
        self.stream, self.unique, self.max_draws = stream, unique, max_draws
        self.seen: set[tuple] = set()
        self.draws = 0
        self.exhausted = False

    def take(self, k: int) -> list[dict[str, Any]]:
        """Up to ``k`` new designs; fewer (and ``exhausted``) when the stream or the cap runs out."""
        batch: list[dict[str, Any]] = []
        while len(batch) < k:
            design = next(self.stream, None)
            self.draws += 1
            if design is None or self.draws > self.max_draws:
                self.exhausted = True
                break
            key = tuple(design.values())
            if self.unique and key in self.seen:
                continue
            self.seen.add(key)
            batch.append(design)
        return batch


@dataclass
class GenerateResult:
    """What :func:`generate_dataset` did."""

    output_dir: Path
    designs: int
    failed: int
    wall_time_s: float
    exhausted: bool


def generate_dataset(
    env_id: str | Any,
    output_dir: str | Path,
    n: int,
    sampler: str = "random",
    *,
    seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
    source: Sequence[str] = (),
    unique: bool = True,
    batch_size: int = 32,
    flush_every: int = 500,
    progress: bool = True,
    simulator: Mapping[str, Any] | None = None,
) -> GenerateResult:
    """Simulate ``n`` designs of an env and write them as a run directory (see module doc).

    ``env_id`` is a registered gymnasium id (built with ``env_kwargs``) or an env instance.
    ``simulator`` is an ``env.simulator`` config, e.g. ``{"name": "proxy", "path": FILE}``.
    """
    from tqdm.auto import tqdm

    from archgym.atomic import write_text_atomic
    from archgym.logger import DatasetLogger, RunInfo
    from archgym.registry import make_env
    from archgym.runner import RunSummary
    from archgym.sweep import reset_run

    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    owned = isinstance(env_id, str)
    env = make_env(env_id, **dict(env_kwargs or {})) if owned else env_id
    if simulator:
        from archgym.proxy.simulator import attach_simulator

        attach_simulator(env, simulator)
    base = env.unwrapped
    env_id = base.env_id or str(env_id)
    out = Path(output_dir)
    reset_run(out)
    params = {
        "sampler": sampler,
        "n": n,
        "unique": unique,
        "source": list(source),
        "env_kwargs": dict(env_kwargs or {}),
    }
    run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    info = RunInfo(
        run_id, env_id, str(base.workload_name), base.simulator.version, f"generate-{sampler}", seed, params
    )
    logger = DatasetLogger(
        out / "dataset",
        info,
        base.space,
        base.simulator.metric_names,
        flush_every,
        base.simulator.extra_columns,
    )
    base.add_recorder(logger)
    picker = _Picker(design_stream(base.space, sampler, seed, source), unique, _MAX_REPEAT_FACTOR * n)
    done = failed = 0
    best = None
    bar = tqdm(
        total=n, desc=f"{sampler} designs of {env_id}", unit="design", disable=not progress, file=sys.stderr
    )
    start = time.perf_counter()
    try:
        while done < n and not picker.exhausted:
            batch = picker.take(min(batch_size, n - done))
            if not batch:
                break
            for ev in base.evaluate(batch):
                failed += ev.error is not None
                if ev.feasible and (best is None or ev.reward > best.reward):
                    best = ev
            done += len(batch)
            bar.update(len(batch))
    finally:
        bar.close()
        logger.close()
        wall = time.perf_counter() - start
        summary = RunSummary(
            run_id=run_id,
            env_id=env_id,
            workload=info.workload,
            agent=info.agent,
            agent_params=params,
            seed=seed,
            budget=n,
            evaluations=logger.rows_written,
            success=bool(best and best.success),
            evaluations_to_target=None,
            best_reward=best.reward if best else None,
            best_design=best.design if best else None,
            best_metrics=best.metrics if best else None,
            wall_time_s=round(wall, 4),
            dataset=str(out / "dataset"),
            complete=done >= n or picker.exhausted,
        )
        write_text_atomic(out / "summary.json", summary.to_json())
        if owned:
            env.close()
    return GenerateResult(out, done, failed, wall, picker.exhausted and done < n)


def _kv(items: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"archgym generate: error: --env-arg expects KEY=VALUE, got {item!r}")
        try:
            value = json.loads(value)
        except ValueError:
            pass
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def main(argv: Sequence[str]) -> int:
    """``archgym generate``."""
    from archgym.registry import ENV_ENTRY_POINTS

    parser = argparse.ArgumentParser(
        prog="archgym generate",
        description="Simulate N designs of an environment chosen by a sampler (random, sobol, or replay of existing "
        "datasets such as agent runs) and write them as a dataset: OUT/dataset/part-*.parquet + "
        "OUT/summary.json. Each design is simulated once (unless --allow-duplicates).",
        epilog="example: archgym generate --env archgym/DRAMController-v0 -n 5000 --sampler sobol "
        "--env-arg workload=random -o data/dram-sobol",
    )
    parser.add_argument("--env", required=True, help=f"gymnasium id: {', '.join(ENV_ENTRY_POINTS)}")
    parser.add_argument("-n", type=int, required=True, help="number of designs to simulate")
    parser.add_argument(
        "-o", "--out", required=True, help="output run directory (a previous dataset there is replaced)"
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
        env_kwargs=_kv(args.env_arg),
        source=args.source,
        unique=not args.allow_duplicates,
        batch_size=args.batch_size,
        progress=not args.no_progress,
    )
    rate = res.designs / res.wall_time_s if res.wall_time_s > 0 else float("inf")
    print(
        f"simulated {res.designs} designs ({res.failed} failed) in {res.wall_time_s:.1f} s ({rate:.1f}/s) -> "
        f"{res.output_dir}/dataset"
    )
    if res.exhausted:
        print(f"note: the sampler ran out of new designs before {args.n}", file=sys.stderr)
    return 0


__all__ = ["SAMPLERS", "GenerateResult", "design_stream", "generate_dataset", "main"]
