"""Choose a lottery preset's target so that random search meets it on fewer than half its seeds.

How a target is chosen (what ``conf/experiment/lottery_<env>.yaml`` records):

1. Build the env from ``conf/env/<env>.yaml`` and take its objective's targets and modes as
   the *direction* of the target (which metrics, at most / at least).
2. Evaluate ``--samples`` uniformly random designs (seed ``--sample-seed``, disjoint from the
   run seeds 0, 1, 2, ...).
3. Scale every target by one common factor ``f`` (``at_most: t * f``, ``at_least: t / f``;
   ``f < 1`` tightens, ``f > 1`` loosens a default that is already too hard) so that the
   fraction ``p`` of sampled designs that meet the target (within the objective's tolerance)
   is ``p* = 1 - (1 - P) ** (1 / budget)``, where ``P = --random-success`` (0.3): a random
   search of ``budget`` evaluations then succeeds with probability ``P``. Targets are rounded
   to four significant digits (towards harder).
4. Check: run random search (the lottery's ``random`` configs, batch 16) on ``--seeds`` seeds
   at the budget and print its success rate, which must be below one half.

    python benchmarks/lottery_targets.py --env accelerator --budget 300
    python benchmarks/lottery_targets.py --env nas --budget 200 --samples 3000
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

import archgym  # noqa: F401  (registers the envs)
from archgym.objective import TargetSpec
from archgym.registry import make_agent, make_env

CONF = Path(__file__).resolve().parents[1] / "conf" / "env"


def env_config(name: str) -> tuple[str, dict[str, Any]]:
    cfg = yaml.safe_load((CONF / f"{name}.yaml").read_text())
    return cfg["id"], dict(cfg.get("kwargs") or {})


def round_harder(value: float, mode: str, digits: int = 4) -> float:
    """Round to ``digits`` significant digits, towards the harder side of the target."""
    if value == 0:
        return 0.0
    scale = 10 ** (digits - 1 - math.floor(math.log10(abs(value))))
    return (math.floor if mode == "at_most" else math.ceil)(value * scale) / scale


def tightened(targets: Mapping[str, float], modes: Mapping[str, str], f: float) -> dict[str, float]:
    return {k: (v * f if modes[k] == "at_most" else v / f) for k, v in targets.items()}


def success_rate(metrics: Sequence[Mapping[str, float] | None], spec: TargetSpec) -> float:
    return float(np.mean([m is not None and spec(m).success for m in metrics]))


def calibrate(
    env_name: str, budget: int, samples: int, sample_seed: int, random_success: float
) -> tuple[dict[str, float], float, float]:
    env_id, kwargs = env_config(env_name)
    env: Any = make_env(env_id, **kwargs).unwrapped
    base: TargetSpec = env.objective
    targets, modes, tol = dict(base.targets), dict(base.modes), base.tolerance
    rng = np.random.default_rng(sample_seed)
    t0 = time.perf_counter()
    evs = env.evaluate([env.space.sample(rng) for _ in range(samples)])
    print(f"  {samples} random designs evaluated in {time.perf_counter() - t0:.1f} s", flush=True)
    metrics = [ev.metrics for ev in evs]
    p_star = 1.0 - (1.0 - random_success) ** (1.0 / budget)

    def p_of(f: float) -> float:
        return success_rate(metrics, TargetSpec(tightened(targets, modes, f), tolerance=tol, modes=modes))

    lo, hi = 1e-3, 1.0
    while p_of(hi) < p_star and hi < 1e3:  # the env's own target is already too hard: loosen
        lo, hi = hi, hi * 2
    for _ in range(40):  # p_of grows with f
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if p_of(mid) < p_star else (lo, mid)
    chosen = {k: round_harder(v, modes[k]) for k, v in tightened(targets, modes, hi).items()}
    p = success_rate(metrics, TargetSpec(chosen, tolerance=tol, modes=modes))
    return chosen, p, p_star


def check_random(env_name: str, targets: Mapping[str, float], budget: int, seeds: int) -> list[int | None]:
    env_id, kwargs = env_config(env_name)
    out = []
    for seed in range(seeds):
        env: Any = make_env(env_id, **{**kwargs, "targets": dict(targets)})
        result = make_agent("random", env.unwrapped.space, seed=seed).run(env, budget, stop_on_success=True)
        out.append(result.first_success_step)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--env", required=True, help="env config name: dram | accelerator | nas | codesign | soc")
    ap.add_argument("--budget", type=int, required=True, help="the preset's budget (evaluations per run)")
    ap.add_argument("--samples", type=int, default=20000, help="random designs evaluated (default 20000)")
    ap.add_argument("--sample-seed", type=int, default=12345, help="seed of the sampled designs")
    ap.add_argument("--random-success", type=float, default=0.3, help="aimed random-search success rate")
    ap.add_argument("--seeds", type=int, default=10, help="random-search seeds for the check (default 10)")
    args = ap.parse_args(argv)
    print(f"{args.env}: budget {args.budget}, aiming at random-search success {args.random_success:.0%}")
    targets, p, p_star = calibrate(args.env, args.budget, args.samples, args.sample_seed, args.random_success)
    print(f"  target {targets}: {p:.5f} of random designs meet it (aimed {p_star:.5f})")
    steps = check_random(args.env, targets, args.budget, args.seeds)
    met = sum(s is not None for s in steps)
    print(f"  random search (batch 16) met it on {met}/{args.seeds} seeds at budget {args.budget}: {steps}")
    return 0 if met < args.seeds / 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
