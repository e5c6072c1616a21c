"""Benchmark the search agents on the accelerator environment.

(a) Fixed-budget comparison: every agent runs ``--budget`` simulator evaluations (BO:
    ``--bo-budget``) for each of ``--seeds`` seeds on the same target specification; the
    table reports the mean best reward at the budget, the success rate (target met within
    the budget), the mean evaluations to the target over the successful runs, and random
    search's figures at the same budget (read off random search's own runs).
(b) Agent overhead: wall time per proposed design that is *not* simulator time (the run's
    wall time minus the simulator's measured time), for the runs of (a).
(c) Hypervolume per agent, same runs: the objective's three metrics (latency, energy, area)
    as a Pareto problem; hypervolume of each run's feasible front at the budget against the
    reference point 2x the target (:mod:`archgym.hypervolume`), mean and min/max over seeds.
(d) BO overhead: the time of one ``ask`` (GP fit + acquisition optimisation, q = 1, the
    agent's default settings: 8 restarts, 256 raw samples) after 100, 300 and 1000 random
    observations (``--bo-obs``), next to **plain BoTorch** on the same data in the same run
    (``SingleTaskGP`` on every observation + ``fit_gpytorch_mll`` + ``qLogExpectedImprovement``
    optimised by ``optimize_acqf``, 8 restarts, 256 raw samples, continuous relaxation).
    "cold" is the first ask of a fresh agent; "in run" the next ask after one more
    observation (hyperparameters warm-started from the previous fit, as in a run).
(e) Multi-objective BO overhead: one ask with the 3 metrics after 100 and 300 observations
    (``--mo-obs``), with the default qLogNParEGO and with qLogNEHVI.

(f) Parallel evaluation: random search (batches of 16) on the NAS env (zero-cost proxies
    computed by PyTorch on a minibatch: ~0.1 s per design, the slowest simulator here)
    with ``evaluator.workers`` = 1 and 2 (``--workers``), on local processes and, with
    ``--workers-backends process,ray`` and the ``[ray]`` extra, on Ray actors: wall time,
    speed-up over one worker, and whether the logged evaluations are identical. Workers (and
    the private Ray instance) start before the timing.

    python benchmarks/bench_agents.py                      # defaults: several minutes on 2 cores
    python benchmarks/bench_agents.py --agents ga,aco --seeds 10 --budget 500
    python benchmarks/bench_agents.py --skip-compare --bo-obs 100,300,1000 --device cuda
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

import archgym  # noqa: F401  (registers the envs)
from archgym.agent import RunResult
from archgym.agents._common import isolated_global_rngs
from archgym.hypervolume import HypervolumeTracker
from archgym.registry import make_agent, make_env

#: a target that about 0.1 % of random designs meet on resnet18 (random search needs ~900 evaluations)
TARGETS = {"latency_ms": 3.0, "energy_uj": 7000.0, "area_mm2": 2.0}
ALL_AGENTS = (
    "random", "rw", "ga", "aging", "aco", "bo", "tpe", "cmaes", "nsga2", "qmc", "grid", "ppo", "a2c", "dqn"
)  # fmt: skip


def bo_params(device: str) -> dict[str, Any]:
    """BO settings for the benchmark (smaller acquisition search than the defaults)."""
    return dict(
        n_initial=10, q=4, fit_maxiter=50, num_restarts=4, raw_samples=128, num_threads=1, device=device
    )


@dataclass
class Row:
    agent: str
    budget: int
    results: list[RunResult]
    overhead_ms: list[float]
    hypervolume: list[float]


def make_accelerator(workload: str):
    # the template model: the targets (and the figures in agents/README.md) were calibrated on it
    return make_env("archgym/Accelerator-v0", simulator="template", workload=workload, targets=TARGETS)


def run_one(
    name: str, seed: int, budget: int, workload: str, params: dict[str, Any]
) -> tuple[RunResult, float, float]:
    env = make_accelerator(workload)
    sim_time = [0.0]
    env.unwrapped.add_recorder(lambda ev: sim_time.__setitem__(0, sim_time[0] + ev.wall_time_s))
    tracker = HypervolumeTracker.for_env(env)
    assert tracker is not None  # three metrics
    env.unwrapped.add_recorder(tracker)
    agent = make_agent(name, env.unwrapped.space, seed=seed, **params)
    result = agent.run(env, budget)
    overhead = (result.wall_time_s - sim_time[0]) / max(result.evaluations, 1)
    return result, overhead * 1e3, tracker.value()


def prefix_stats(result: RunResult, budget: int) -> tuple[float, bool, int | None]:
    """Best reward, success and evaluations-to-target of a run cut at ``budget``."""
    curve = result.best_so_far[:budget]
    best = max((x for x in curve if not math.isnan(x)), default=float("nan"))
    step = result.first_success_step
    ok = step is not None and step <= budget
    return best, ok, step if ok else None


def summarise(results: Sequence[RunResult], budget: int) -> tuple[float, float, str]:
    stats = [prefix_stats(r, budget) for r in results]
    best = statistics.fmean(s[0] for s in stats)
    rate = sum(s[1] for s in stats) / len(stats)
    steps = [s[2] for s in stats if s[2] is not None]
    return best, rate, (f"{statistics.fmean(steps):.0f}" if steps else "-")


def compare(
    agents: Sequence[str], seeds: int, budget: int, bo_budget: int, workload: str, device: str
) -> list[Row]:
    rows = []
    for name in agents:
        b = bo_budget if name == "bo" else budget
        params = bo_params(device) if name == "bo" else {}
        results, overheads, hvs = [], [], []
        t0 = time.perf_counter()
        for seed in range(seeds):
            r, o, hv = run_one(name, seed, b, workload, params)
            results.append(r)
            overheads.append(o)
            hvs.append(hv)
        print(
            f"  ran {name:<6} {seeds} seeds x {b} evaluations in {time.perf_counter() - t0:.1f} s", flush=True
        )
        rows.append(Row(name, b, results, overheads, hvs))
    return rows


def print_table(rows: list[Row]) -> None:
    random_row = next((r for r in rows if r.agent == "random"), None)
    print()
    print(
        f"(a) fixed-budget comparison on archgym/Accelerator-v0, targets {TARGETS} (at_most, 5 % tolerance)"
    )
    head = f"{'agent':<7} {'budget':>6} {'seeds':>5} {'mean best reward':>16} {'success rate':>12}"
    head += f" {'mean evals to target':>20}"
    if random_row:
        head += f" | {'random: best':>12} {'success':>8}"
    print(head)
    print("-" * len(head))
    for row in rows:
        best, rate, steps = summarise(row.results, row.budget)
        line = f"{row.agent:<7} {row.budget:>6} {len(row.results):>5} {best:>16.4f} {rate:>12.0%} {steps:>20}"
        if random_row:
            rb, rr, _ = summarise(random_row.results[: len(row.results)], row.budget)
            if random_row.budget >= row.budget:
                line += f" | {rb:>12.4f} {rr:>8.0%}"
        print(line)
    print()
    print("(b) agent overhead per proposed design (run wall time minus simulator time), same runs")
    print(f"{'agent':<7} {'budget':>6} {'overhead ms/design (mean over seeds)':>38}")
    for row in rows:
        print(f"{row.agent:<7} {row.budget:>6} {statistics.fmean(row.overhead_ms):>38.2f}")
    print()
    print(
        "(c) hypervolume of the feasible front (latency_ms, energy_uj, area_mm2; reference 2x the target, "
        "normalised by the target), same runs"
    )
    print(f"{'agent':<7} {'budget':>6} {'mean hypervolume':>16} {'min':>8} {'max':>8}")
    for row in rows:
        hv = row.hypervolume
        print(f"{row.agent:<7} {row.budget:>6} {statistics.fmean(hv):>16.3f} {min(hv):>8.3f} {max(hv):>8.3f}")


def plain_botorch_ms(X: torch.Tensor, Y: torch.Tensor) -> float:
    """One proposal of plain BoTorch (SingleTaskGP + qLogEI, 8 restarts, 256 raw samples), in ms."""
    from botorch.acquisition.logei import qLogExpectedImprovement
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.optim import optimize_acqf
    from gpytorch.mlls import ExactMarginalLogLikelihood

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SingleTaskGP(X, Y)
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        acqf = qLogExpectedImprovement(model, best_f=Y.max())
        bounds = torch.stack([torch.zeros(X.shape[1]), torch.ones(X.shape[1])]).to(X)
        optimize_acqf(acqf, bounds=bounds, q=1, num_restarts=8, raw_samples=256)
    return (time.perf_counter() - t0) * 1e3


def agent_ask_ms(
    env: Any, designs: list, evaluations: list, n: int, seed: int, **params: Any
) -> tuple[float, float]:
    """(cold, in-run) ms of one BO ask after ``n`` observations (see module doc)."""
    agent = make_agent("bo", env.space, seed=seed, **{"n_initial": 1, "q": 1, **params})
    agent.bind(env)
    agent._n_initial_proposed = agent.n_initial  # the observations below replace the initial design
    agent.tell(designs[: n - 1], evaluations[: n - 1])
    t0 = time.perf_counter()
    proposal = agent.ask()
    cold = (time.perf_counter() - t0) * 1e3
    agent.tell(proposal, env.evaluate(proposal))
    t0 = time.perf_counter()
    agent.ask()
    return cold, (time.perf_counter() - t0) * 1e3


def bo_overhead(observations: Sequence[int], workload: str, device: str, seed: int = 0) -> None:
    """Table (d): our BO's ask next to plain BoTorch's on the same random observations."""
    print()
    print(
        f"(d) BO: ms per proposal after n random observations (q=1, device={device}, 1 torch thread), "
        "next to plain BoTorch in the same run"
    )
    head = f"{'observations':>12} {'plain BoTorch':>13} {'ours cold':>10} {'ours in run':>11}"
    head += f" {'cold/plain':>10} {'in-run/plain':>12}"
    print(head)
    print("-" * len(head))
    env = make_accelerator(workload).unwrapped
    rng = np.random.default_rng(seed)
    designs = [env.space.sample(rng) for _ in range(max(observations) + 1)]
    evaluations = env.evaluate(designs)
    with isolated_global_rngs(seed, num_threads=1):
        for n in observations:
            X = torch.as_tensor(np.array([env.space.to_unit(d) for d in designs[:n]]))
            Y = torch.tensor([[ev.reward] for ev in evaluations[:n]], dtype=torch.float64)
            plain = plain_botorch_ms(X, Y)
            cold, warm = agent_ask_ms(env, designs, evaluations, n, seed, num_threads=1, device=device)
            print(
                f"{n:>12} {plain:>13.0f} {cold:>10.0f} {warm:>11.0f}"
                f" {cold / plain:>10.2f} {warm / plain:>12.2f}",
                flush=True,
            )


def mo_overhead(observations: Sequence[int], workload: str, device: str, seed: int = 0) -> None:
    """Table (e): multi-objective BO's ask with the objective's 3 metrics."""
    print()
    print(f"(e) multi-objective BO: ms per proposal, 3 metrics (latency, energy, area), q=1, device={device}")
    head = f"{'observations':>12} {'parego cold':>11} {'parego in run':>13}"
    head += f" {'nehvi cold':>10} {'nehvi in run':>12}"
    print(head)
    print("-" * len(head))
    env = make_accelerator(workload).unwrapped
    rng = np.random.default_rng(seed)
    designs = [env.space.sample(rng) for _ in range(max(observations) + 1)]
    evaluations = env.evaluate(designs)
    for n in observations:
        times: list[float] = []
        for acq in ("parego", "nehvi"):
            times += agent_ask_ms(
                env,
                designs,
                evaluations,
                n,
                seed,
                multi_objective=True,
                mo_acquisition=acq,
                num_threads=1,
                device=device,
            )
        print(f"{n:>12} {times[0]:>11.0f} {times[1]:>13.0f} {times[2]:>10.0f} {times[3]:>12.0f}", flush=True)


def workers_speedup(workers: Sequence[int], budget: int, backends: Sequence[str] = ("process",)) -> None:
    """Table (f): the same random-search run with 1, 2, ... evaluation workers of each backend."""
    print()
    print(
        f"(f) parallel evaluation: random search, batch 16, {budget} evaluations on archgym/NAS-v0 "
        "(zero-cost proxies)"
    )
    print(f"{'backend':>7} {'workers':>7} {'wall s':>8} {'speed-up':>8} {'same dataset as 1 worker':>25}")
    reference, base_wall = None, None
    runs = [(b, n) for b in backends for n in workers if n > 1 or b == backends[0]]
    for backend, n in runs:
        env: Any = make_env("archgym/NAS-v0").unwrapped
        env.evaluate([env.space.sample(np.random.default_rng(99))])  # warm up (imports, data) first
        env.evaluator = env.evaluator.with_simulator(env.simulator)  # empty cache, count 0
        env.evaluator.set_workers(n, backend)
        rows: list[tuple] = []
        env.add_recorder(lambda ev, rows=rows: rows.append((tuple(ev.design.values()), ev.metrics, ev.error)))
        if n > 1:  # start the workers (and compile the simulator in each) outside the timing
            env.evaluator._pool.evaluate([env.space.sample(np.random.default_rng(k)) for k in range(n)])
        t0 = time.perf_counter()
        make_agent("random", env.space, seed=0, batch_size=16).run(env, budget)
        wall = time.perf_counter() - t0
        env.evaluator.close()
        reference = rows if reference is None else reference
        base_wall = wall if base_wall is None else base_wall
        name = backend if n > 1 else "serial"
        print(
            f"{name:>7} {n:>7} {wall:>8.2f} {base_wall / wall:>8.2f} {str(rows == reference):>25}", flush=True
        )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--agents", default=",".join(ALL_AGENTS), help="comma-separated agent names (default: all)"
    )
    ap.add_argument("--seeds", type=int, default=5, help="seeds per agent (default 5)")
    ap.add_argument("--budget", type=int, default=300, help="evaluations per run (default 300)")
    ap.add_argument("--bo-budget", type=int, default=100, help="evaluations per BO run (default 100)")
    ap.add_argument("--workload", default="resnet18", help="accelerator workload (default resnet18)")
    ap.add_argument(
        "--bo-obs",
        default="100,300,1000",
        help="observation counts for the BO overhead (default 100,300,1000)",
    )
    ap.add_argument(
        "--mo-obs", default="100,300", help="observation counts for the multi-objective BO overhead"
    )
    ap.add_argument(
        "--device",
        default="cuda" if torch.cuda.is_available() else "cpu",
        choices=("cpu", "cuda"),
        help="BO device (default: cuda when available)",
    )
    ap.add_argument("--skip-compare", action="store_true", help="only the BO overhead part")
    ap.add_argument("--skip-bo-overhead", action="store_true", help="only the comparison part")
    ap.add_argument("--skip-mo-overhead", action="store_true", help="skip the multi-objective BO timing")
    ap.add_argument("--workers", default="1,2", help="evaluation worker counts for (f) (default 1,2)")
    ap.add_argument("--workers-budget", type=int, default=64, help="evaluations per run in (f)")
    ap.add_argument(
        "--workers-backends",
        default="process",
        help="evaluation backends for (f), comma-separated: process, ray (default process)",
    )
    ap.add_argument("--skip-workers", action="store_true", help="skip the parallel-evaluation part")
    args = ap.parse_args(argv)
    agents = [a.strip() for a in args.agents.split(",") if a.strip()]
    if not args.skip_compare:
        if "random" in agents:  # random first: its runs give the baseline figures
            agents = ["random"] + [a for a in agents if a != "random"]
        rows = compare(agents, args.seeds, args.budget, args.bo_budget, args.workload, args.device)
        print_table(rows)
    if not args.skip_bo_overhead:
        bo_overhead([int(x) for x in args.bo_obs.split(",")], args.workload, args.device)
    if not args.skip_mo_overhead:
        mo_overhead([int(x) for x in args.mo_obs.split(",")], args.workload, args.device)
    if not args.skip_workers:
        workers_speedup(
            [int(x) for x in args.workers.split(",")],
            args.workers_budget,
            [b.strip() for b in args.workers_backends.split(",") if b.strip()],
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
