"""Choose a suite task's target on the task's own env and simulator, so that its scores discriminate.

A suite task (``conf/suite/<suite>.yaml``) may use another simulator or evaluator than the env's
default (``suite=small`` costs the accelerator with its template model and scores networks by one
zero-cost proxy), so its target is calibrated on exactly the env the task builds:

1. compose the task's run config (``+suite=SUITE task=TASK``) and build its env;
2. evaluate ``--samples`` uniformly random designs (seed ``--sample-seed``);
3. scale the task's targets by one common factor ``f`` (``at_most: t * f``, ``at_least: t / f``)
   and round them to 4 significant digits towards harder, by one of two rules:

   * ``--rule spread`` (suite=small): the score of a task (:mod:`archgym.scores`) is
     ``(r - m) / (b - m)`` with ``m`` random search's median best reward at the budget and ``b``
     the best reward seen. A target that random search (nearly) meets saturates the reward at 1,
     so ``b - m`` shrinks to a few thousandths and a run a little worse than random scores -10
     or worse. This rule estimates ``m`` (the median of 400 best-of-budget draws from the sample)
     and ``b`` (the sample's best) for ``f`` on a log grid from 4 down to 0.02, and takes the
     largest ``f`` (the least distant target) at which ``m < 0.99`` and the *floor score*
     ``-m / (b - m)`` -- what a run whose best reward is 0 (nothing feasible found) scores --
     is at least ``--floor`` (-2); where no ``f`` gets there (the floor levels off as the target
     moves away), the largest ``f`` whose floor is within 1 of the highest.
     The full run's ``b`` (best of every agent) is at least the sample's, so its floor is higher.
   * ``--rule success`` (the lottery's rule, :func:`lottery_targets.calibrate`): ``1 - (1 - P) **
     (1 / budget)`` of the sample meets the target, so random search meets it with probability
     ``P = --random-success`` (0.3).

4. run random search on ``--seeds`` seeds at the task's budget and print its best rewards and
   how often it met the target.

    python benchmarks/suite_targets.py small dram
    python benchmarks/suite_targets.py small nas --samples 500
    python benchmarks/suite_targets.py lottery accelerator --rule success
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from lottery_targets import round_harder, success_rate, tightened

from archgym.env import unwrap
from archgym.objective import TargetSpec
from archgym.registry import make_agent
from archgym.runner import RunConfig, build
from archgym.suite import task_config

#: the factors the spread rule tries, from looser to tighter
FACTORS = np.geomspace(4.0, 0.02, 60)


def task_env(suite: str, task: str, targets: dict[str, float] | None = None) -> tuple[Any, RunConfig]:
    plain = task_config(suite, task)
    if targets is not None:
        plain["env"]["kwargs"]["targets"] = dict(targets)
    cfg = RunConfig.from_mapping(plain)
    env, _ = build(cfg)
    return env, cfg


def spec_at(base: TargetSpec, f: float, rounded: bool = False) -> TargetSpec:
    """The task's objective with its targets scaled by ``f`` (constraints and modes kept)."""
    targets = tightened(base.targets, base.modes, f)
    if rounded:
        targets = {k: round_harder(v, base.modes[k]) for k, v in targets.items()}
    return TargetSpec(
        targets, base.tolerance, base.modes, base.weights, base.constraints, base.infeasible_reward
    )


def anchors(rewards: np.ndarray, budget: int, draws: int = 400, seed: int = 0) -> tuple[float, float, float]:
    """``(m, b, floor)``: median best-of-``budget`` reward, the sample's best, ``-m / (b - m)``."""
    rng = np.random.default_rng(seed)
    best = [rewards[rng.choice(len(rewards), budget, replace=False)].max() for _ in range(draws)]
    m, b = float(np.median(best)), float(rewards.max())
    return m, b, (-m / (b - m) if b - m > 1e-12 else -math.inf)


def spread_factor(
    metrics: Sequence[Mapping[str, float] | None], base: TargetSpec, budget: int, floor: float
) -> float:
    """The spread rule's ``f`` (module doc)."""
    rows = []
    for f in FACTORS:
        spec = spec_at(base, float(f))
        r = np.array([spec(m).reward if m is not None else 0.0 for m in metrics])
        m, _, fl = anchors(r, budget)
        rows.append((float(f), m, fl))
        if m < 0.99 and fl >= floor:
            return float(f)
    top = max(fl for _, _, fl in rows)
    return next(f for f, m, fl in rows if m < 0.99 and fl >= top - 1.0)


def calibrate(suite: str, task: str, args: argparse.Namespace) -> tuple[dict[str, float], str]:
    """The task's chosen targets and the ``chosen_by`` line recording how."""
    env, cfg = task_env(suite, task)
    base_env: Any = unwrap(env)
    base: TargetSpec = base_env.objective
    rng = np.random.default_rng(args.sample_seed)
    t0 = time.perf_counter()
    evs = base_env.evaluate([base_env.space.sample(rng) for _ in range(args.samples)])
    print(f"  {args.samples} random designs evaluated in {time.perf_counter() - t0:.1f} s", flush=True)
    metrics = [ev.metrics for ev in evs]
    if args.rule == "success":
        p_star = 1.0 - (1.0 - args.random_success) ** (1.0 / cfg.budget)
        lo, hi = 1e-3, 1.0
        while success_rate(metrics, spec_at(base, hi)) < p_star and hi < 1e3:
            lo, hi = hi, hi * 2
        for _ in range(40):
            mid = math.sqrt(lo * hi)
            lo, hi = (mid, hi) if success_rate(metrics, spec_at(base, mid)) < p_star else (lo, mid)
        spec = spec_at(base, hi, rounded=True)
        p = success_rate(metrics, spec)
        return spec.targets, f"{args.samples:,} random designs, {p:.2%} meet it (aimed {p_star:.2%})"
    spec = spec_at(base, spread_factor(metrics, base, cfg.budget, args.floor), rounded=True)
    r = np.array([spec(m).reward if m is not None else 0.0 for m in metrics])
    m, b, fl = anchors(r, cfg.budget)
    return spec.targets, (
        f"spread rule on {args.samples:,} random designs: random search's median best reward at "
        f"budget {cfg.budget} {m:.3f}, the sample's best {b:.3f}, floor score {fl:.2f}"
    )


def check_random(suite: str, task: str, targets: dict[str, float], seeds: int) -> list[tuple[float, bool]]:
    """Random search's (best reward, target met) on seeds ``0..seeds-1`` at the task's budget."""
    out = []
    for seed in range(seeds):
        env, cfg = task_env(suite, task, targets)
        agent = make_agent("random", unwrap(env).space, seed=seed)
        res = agent.run(env, cfg.budget, stop_on_success=False)
        best = res.best.reward if res.best is not None and res.best.feasible else 0.0
        out.append((float(best), res.success))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("suite", help="suite name (conf/suite/<suite>.yaml)")
    ap.add_argument("task", help="task name in the suite")
    ap.add_argument("--rule", choices=("spread", "success"), default="spread", help="how f is chosen")
    ap.add_argument("--floor", type=float, default=-2.0, help="spread rule: lowest score of a run (-2)")
    ap.add_argument("--samples", type=int, default=4000, help="random designs evaluated (default 4000)")
    ap.add_argument("--sample-seed", type=int, default=12345, help="seed of the sampled designs")
    ap.add_argument("--random-success", type=float, default=0.3, help="success rule: aimed success rate")
    ap.add_argument("--seeds", type=int, default=10, help="random-search seeds for the check (default 10)")
    args = ap.parse_args(argv)
    print(f"{args.suite}/{args.task}: {args.rule} rule")
    targets, chosen_by = calibrate(args.suite, args.task, args)
    print(f"  targets: {targets}\n  chosen_by: {chosen_by}")
    runs = check_random(args.suite, args.task, targets, args.seeds)
    rewards = np.array([r for r, _ in runs])
    print(
        f"  random search, seeds 0-{args.seeds - 1}: best reward median {np.median(rewards):.4f} "
        f"[{rewards.min():.4f}, {rewards.max():.4f}], met the target on {sum(s for _, s in runs)}/{args.seeds}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
