"""Choose a suite task's target the way ``lottery_targets.py`` does, on the task's own env and simulator.

A suite task (``conf/suite/<suite>.yaml``) may use another simulator or evaluator than the env's
default (``suite=small`` costs the accelerator with its template model and scores networks by one
zero-cost proxy), so its target is calibrated on exactly the env the task builds:

1. compose the task's run config (``+suite=SUITE task=TASK``) and build its env;
2. evaluate ``--samples`` uniformly random designs (seed ``--sample-seed``);
3. scale the task's targets by one common factor until ``1 - (1 - P) ** (1 / budget)`` of them
   meet it (``P = --random-success``, 0.3), rounded to 4 significant digits towards harder
   (:func:`lottery_targets.calibrate`'s rule);
4. run random search on ``--seeds`` seeds at the task's budget and print its success rate.

    python benchmarks/suite_targets.py small dram
    python benchmarks/suite_targets.py small nas --samples 400
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from lottery_targets import round_harder, success_rate, tightened

from archgym.env import unwrap
from archgym.objective import TargetSpec
from archgym.registry import make_agent
from archgym.runner import RunConfig, build
from archgym.suite import task_config


def task_env(suite: str, task: str, targets: dict[str, float] | None = None) -> tuple[Any, RunConfig]:
    plain = task_config(suite, task)
    if targets is not None:
        plain["env"]["kwargs"]["targets"] = dict(targets)
    cfg = RunConfig.from_mapping(plain)
    env, _ = build(cfg)
    return env, cfg


def calibrate(
    suite: str, task: str, samples: int, sample_seed: int, random_success: float
) -> dict[str, float]:
    env, cfg = task_env(suite, task)
    base: Any = unwrap(env)
    spec: TargetSpec = base.objective
    targets, modes, tol = dict(spec.targets), dict(spec.modes), spec.tolerance
    rng = np.random.default_rng(sample_seed)
    t0 = time.perf_counter()
    metrics = [ev.metrics for ev in base.evaluate([base.space.sample(rng) for _ in range(samples)])]
    print(f"  {samples} random designs evaluated in {time.perf_counter() - t0:.1f} s", flush=True)
    p_star = 1.0 - (1.0 - random_success) ** (1.0 / cfg.budget)

    def p_of(f: float) -> float:
        return success_rate(metrics, TargetSpec(tightened(targets, modes, f), tolerance=tol, modes=modes))

    lo, hi = 1e-3, 1.0
    while p_of(hi) < p_star and hi < 1e3:
        lo, hi = hi, hi * 2
    for _ in range(40):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if p_of(mid) < p_star else (lo, mid)
    chosen = {k: round_harder(v, modes[k]) for k, v in tightened(targets, modes, hi).items()}
    p = success_rate(metrics, TargetSpec(chosen, tolerance=tol, modes=modes))
    print(f"  budget {cfg.budget}: target {chosen}: {p:.4f} of random designs meet it (aimed {p_star:.4f})")
    return chosen


def check_random(suite: str, task: str, targets: dict[str, float], seeds: int) -> list[int | None]:
    out = []
    for seed in range(seeds):
        env, cfg = task_env(suite, task, targets)
        agent = make_agent("random", unwrap(env).space, seed=seed)
        out.append(agent.run(env, cfg.budget, stop_on_success=True).first_success_step)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("suite", help="suite name (conf/suite/<suite>.yaml)")
    ap.add_argument("task", help="task name in the suite")
    ap.add_argument("--samples", type=int, default=4000, help="random designs evaluated (default 4000)")
    ap.add_argument("--sample-seed", type=int, default=12345, help="seed of the sampled designs")
    ap.add_argument("--random-success", type=float, default=0.3, help="aimed random-search success rate")
    ap.add_argument("--seeds", type=int, default=10, help="random-search seeds for the check (default 10)")
    args = ap.parse_args(argv)
    print(f"{args.suite}/{args.task}: aiming at random-search success {args.random_success:.0%}")
    targets = calibrate(args.suite, args.task, args.samples, args.sample_seed, args.random_success)
    steps = check_random(args.suite, args.task, targets, args.seeds)
    met = sum(s is not None for s in steps)
    print(f"  random search met it on {met}/{args.seeds} seeds: {steps}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
