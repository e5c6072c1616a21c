"""Simulator in the loop vs the same agent alone: real simulations needed to reach the env's target.

For each agent and seed, runs the agent on the real env until its target is met (or the
budget of real simulations is spent), then the same agent wrapped in
:class:`~archgym.proxy.in_loop.ProxyInLoopAgent` (it searches on a proxy retrained every
round; the real simulator checks the top-k designs by predicted reward plus the most
uncertain). Prints, per agent, the success rate, the median and mean real simulations to
the target (a run that misses counts as the budget), and the wall time of both.

The default task is ArchGym's DRAM case study on the ``random`` workload with the env's
standard targets (read latency <= 67 ns, power <= 2,500 mW, 5 % tolerance): about 2 % of
uniformly drawn designs meet it.

    python benchmarks/bench_proxy_loop.py                          # ga and random, 5 seeds
    python benchmarks/bench_proxy_loop.py --agents ga --seeds 3 --json
    python benchmarks/bench_proxy_loop.py --env archgym/Accelerator-v0 --env-arg workload=resnet18
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np


def _run(env_id: str, kwargs: dict[str, Any], agent: str, seed: int, budget: int, loop: dict | None):
    from archgym.proxy.in_loop import ProxyInLoopAgent
    from archgym.registry import make_agent, make_env

    env = make_env(env_id, **kwargs)
    base = env.unwrapped
    searcher = make_agent(agent, base.space, seed=seed)
    if loop is not None:
        searcher = ProxyInLoopAgent(searcher, env, seed, **loop)
    env.reset(seed=seed)
    t0 = time.perf_counter()
    result = searcher.run(env, budget, stop_on_success=True)
    wall = time.perf_counter() - t0
    env.close()
    return result.first_success_step, result.evaluations, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="archgym/DRAMController-v0")
    parser.add_argument("--env-arg", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--agents", default="ga,random", help="comma-separated agent names")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per agent (0..N-1)")
    parser.add_argument("--budget", type=int, default=200, help="real simulations per run")
    parser.add_argument("--kind", default="gbt", help="proxy model (default gbt)")
    parser.add_argument("--every", type=int, default=100, help="proxy proposals per round")
    parser.add_argument("--top-k", type=int, default=4)
    parser.add_argument("--uncertain", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=16)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    log = (lambda *a, **k: print(*a, **k, file=sys.stderr)) if args.json else print

    from archgym.cli.common import parse_key_values

    kwargs = parse_key_values(args.env_arg)
    if not kwargs and args.env == "archgym/DRAMController-v0":
        kwargs = {"workload": "random"}
    loop = {
        "kind": args.kind,
        "every": args.every,
        "top_k": args.top_k,
        "uncertain": args.uncertain,
        "warmup": args.warmup,
    }
    out: dict[str, Any] = {"env": args.env, "env_kwargs": kwargs, "budget": args.budget, "loop": loop}
    out["agents"] = {}
    for agent in args.agents.split(","):
        rows: dict[str, list[tuple[int | None, int, float]]] = {"alone": [], "in_loop": []}
        for seed in range(args.seeds):
            for label, cfg in (("alone", None), ("in_loop", loop)):
                hit, evals, wall = _run(args.env, kwargs, agent, seed, args.budget, cfg)
                rows[label].append((hit, evals, wall))
                log(
                    f"  {agent:<8} seed {seed} {label:<8} "
                    + (f"target after {hit} real simulations" if hit else f"missed in {evals}")
                    + f" ({wall:.1f} s)",
                    flush=True,
                )
        out["agents"][agent] = {label: _stats(r, args.budget) for label, r in rows.items()}
    if args.json:
        print(json.dumps(out, indent=1))
        return
    print(
        f"\nreal simulations to reach the target of {args.env} {kwargs} (budget {args.budget}; "
        f"a miss counts as the budget), {args.seeds} seeds; proxy in the loop: {loop}"
    )
    print(f"  {'agent':<8} {'mode':<8} {'success':>8} {'median':>7} {'mean':>7} {'wall s/run':>11}")
    for agent, modes in out["agents"].items():
        for label, s in modes.items():
            print(
                f"  {agent:<8} {label:<8} {s['success_rate']:>8.0%} {s['median_to_target']:>7.0f} "
                f"{s['mean_to_target']:>7.1f} {s['mean_wall_s']:>11.1f}"
            )


def _stats(rows: list[tuple[int | None, int, float]], budget: int) -> dict[str, Any]:
    to_target = np.array([hit if hit else budget for hit, _, _ in rows], dtype=float)
    return {
        "success_rate": float(np.mean([hit is not None for hit, _, _ in rows])),
        "median_to_target": float(np.median(to_target)),
        "mean_to_target": float(np.mean(to_target)),
        "per_seed": [hit for hit, _, _ in rows],
        "mean_wall_s": float(np.mean([w for _, _, w in rows])),
    }


if __name__ == "__main__":
    main()
