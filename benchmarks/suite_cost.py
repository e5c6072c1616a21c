"""Measure what one run of each task of a suite costs, and lay out the suite's wall time on N workers.

For every task of ``conf/suite/<suite>.yaml`` and every agent given, one run (seed 0) is built
exactly as ``archgym run +suite=SUITE task=TASK agent=AGENT`` builds it (the task's env,
simulator and budget, the suite's agent parameters) and timed: the env and agent build, and
the search (and, within it, the first evaluation: numba compiles a kernel there unless its
on-disk cache is warm). ``--prefix AGENT=N`` stops that agent's runs after N evaluations and
extrapolates the rest of the budget at the mean cost of the prefix's last quarter of evaluations, marked
``extrapolated``: for an agent whose cost per step grows with its history (bo's GP) this is a
lower bound. Process start-up (Python, Hydra, imports; ``--startup``) is added per run.

The layout: every task runs ``14 agents x --seeds`` (grid only where its grid fits); agents
measured cost what was measured, the others are charged the cost of ``--charge-as`` (random
search's run: their own proposals cost little next to the simulator). A sweep of R runs of
total cost C on N workers takes at least ``max(C / N, longest run)``.

    python benchmarks/suite_cost.py standard --agents random,tpe,bo --prefix bo=40
    python benchmarks/suite_cost.py standard --tasks nas,codesign --agents random
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from archgym.env import unwrap
from archgym.errors import ConfigError
from archgym.registry import agent_entry_points
from archgym.runner import RunConfig, build, with_suite_agent_params
from archgym.suite import load_suite, task_config

#: what a worker counts per run besides the env, the agent and the search (measured: ``--startup``)
DEFAULT_STARTUP_S = 4.0
WORKERS = (2, 8, 32, 128)


@dataclass(frozen=True)
class Cost:
    """One timed run: build and search seconds, evaluations done and whether it was a prefix."""

    task: str
    agent: str
    budget: int
    evaluations: int
    build_s: float
    search_s: float
    first_s: float = 0.0

    @property
    def extrapolated(self) -> bool:
        return self.evaluations < self.budget


def run_config(suite: str, task: str, agent: str) -> RunConfig:
    """What ``archgym run +suite=SUITE task=TASK agent=AGENT seed=0`` runs (suite agent params merged)."""
    plain = task_config(suite, task, [f"agent={agent}", "seed=0"])
    return RunConfig.from_mapping(with_suite_agent_params(plain))


def time_run(suite: str, task: str, agent: str, prefix: int | None) -> Cost:
    """Build and run ``agent`` on ``task`` (seed 0) for its budget or the first ``prefix`` evaluations."""
    t0 = time.perf_counter()
    cfg = run_config(suite, task, agent)
    env, search = build(cfg)
    built = time.perf_counter() - t0
    stamps: list[float] = []
    unwrap(env).add_recorder(lambda *_: stamps.append(time.perf_counter()))
    n = min(cfg.budget, prefix or cfg.budget)
    start = time.perf_counter()
    search.run(env, n, stop_on_success=False)
    done = time.perf_counter() - start
    env.close()
    first = stamps[0] - start if stamps else done
    search_s = _extrapolate(start, stamps, done, cfg.budget)
    return Cost(task, agent, cfg.budget, len(stamps), built, search_s, first)


def _extrapolate(start: float, stamps: Sequence[float], done: float, budget: int) -> float:
    """The search's seconds at ``budget`` evaluations from the timestamps of a prefix (module doc)."""
    if len(stamps) >= budget or len(stamps) < 4:
        return done
    times = np.diff(np.concatenate([[start], stamps]))
    tail = float(times[-max(1, len(times) // 4) :].mean())
    return done + (budget - len(stamps)) * tail


def runs_per_task(suite: str, seeds: int) -> dict[str, dict[str, int]]:
    """Per task, the runs of each of the registered agents (grid left out where it refuses)."""
    out: dict[str, dict[str, int]] = {}
    for task in load_suite(suite).tasks:
        out[task] = {a: seeds for a in sorted(agent_entry_points()) if a != "grid" or _grid_fits(suite, task)}
    return out


def _grid_fits(suite: str, task: str) -> bool:
    try:
        build(run_config(suite, task, "grid"))
    except ConfigError:
        return False
    return True


def run_cost(c: Cost, startup: float) -> float:
    return startup + c.build_s + c.search_s


def print_costs(costs: Sequence[Cost], startup: float) -> None:
    print(
        "| task | agent | budget | evaluations timed | build s | first evaluation s | search s | run s (with start-up) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for c in costs:
        note = f"{c.evaluations} (extrapolated)" if c.extrapolated else str(c.evaluations)
        print(
            f"| {c.task} | {c.agent} | {c.budget} | {note} | {c.build_s:.1f} | {c.first_s:.1f} | {c.search_s:.1f} "
            f"| {run_cost(c, startup):.1f} |"
        )


def print_layout(
    costs: Sequence[Cost], runs: dict[str, dict[str, int]], charge_as: str, startup: float
) -> None:
    """The suite's core-hours per task and its wall time on :data:`WORKERS` workers."""
    by = {(c.task, c.agent): run_cost(c, startup) for c in costs}
    total, longest, n_runs = 0.0, 0.0, 0
    print("\n| task | runs | core-hours | longest run s |\n|---|---|---|---|")
    for task, agents in runs.items():
        each = {a: by.get((task, a), by[(task, charge_as)]) for a in agents}
        hours = sum(each[a] * k for a, k in agents.items()) / 3600
        total, n_runs = total + hours, n_runs + sum(agents.values())
        longest = max(longest, *each.values())
        print(f"| {task} | {sum(agents.values())} | {hours:.2f} | {max(each.values()):.0f} |")
    print(f"| all | {n_runs} | {total:.2f} | {longest:.0f} |\n")
    print("| workers | wall time (h) |\n|---|---|")
    for n in WORKERS:
        print(f"| {n} | {max(total / n, longest / 3600):.2f} |")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("suite", help="suite name (conf/suite/<suite>.yaml)")
    ap.add_argument("--tasks", default="", help="comma-separated tasks (default: all)")
    ap.add_argument("--agents", default="random,tpe", help="agents timed (default random,tpe)")
    ap.add_argument("--prefix", action="append", default=[], help="AGENT=N: time N evaluations, extrapolate")
    ap.add_argument("--seeds", type=int, default=10, help="seeds per agent and task in the layout (10)")
    ap.add_argument("--charge-as", default="random", help="whose cost unmeasured agents are charged")
    ap.add_argument("--startup", type=float, default=DEFAULT_STARTUP_S, help="process start-up s per run")
    args = ap.parse_args(argv)
    prefix = {k: int(v) for k, v in (p.split("=", 1) for p in args.prefix)}
    tasks = [t for t in args.tasks.split(",") if t] or list(load_suite(args.suite).tasks)
    costs = []
    for task in tasks:
        for agent in args.agents.split(","):
            costs.append(time_run(args.suite, task, agent, prefix.get(agent)))
            c = costs[-1]
            more = f", {c.budget} extrapolated" if c.extrapolated else ""
            print(
                f"  {task} {agent}: build {c.build_s:.1f} s, {c.evaluations}{more} evaluations: {c.search_s:.1f} s",
                flush=True,
            )
    print_costs(costs, args.startup)
    if args.charge_as not in args.agents.split(","):
        print(f"\n(no layout: the agents not timed are charged {args.charge_as}'s cost; time it too)")
        return 0
    runs = {t: k for t, k in runs_per_task(args.suite, args.seeds).items() if t in tasks}
    print_layout(costs, runs, args.charge_as, args.startup)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
