"""Benchmark the SoC simulator: designs simulated per second for each workload, on one core.

For each shipped workload, draws ``--designs`` uniformly random designs (seed 0) and times
``SoCSimulator.evaluate`` on each: feasible designs are fully simulated, infeasible ones stop
at the check that rejects them (the reason is what an agent's dataset records). Reports the
rate over all designs and over the feasible ones alone (wall clock and process CPU time; the
CPU figure is the robust one on a shared machine), after a warm-up that reports the numba
compile / cache-load time. Pin it to one core with
``taskset -c 0 python benchmarks/bench_soc.py [--designs N]``. Goal: >= 1,000 designs/s on one
core for the audio decoder. A last line times the same audio-decoder designs through the
environment (``env.evaluate`` in batches of 32: validation, caching, objective, error capture).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # the kernel is single-threaded anyway

import numpy as np

from archgym.envs.soc import SoCSimulator, default_design, load_workload, soc_design_space, standard_workloads
from archgym.envs.soc.env import make_soc_env
from archgym.simulator import SimulationError


def _time(sim: SoCSimulator, designs: list[dict], graph) -> tuple[float, float, int, float, float]:
    """Wall and CPU seconds over all designs, number feasible, and wall/CPU over the feasible ones."""
    wall = cpu = fwall = fcpu = 0.0
    ok = 0
    graph = sim.prepare(graph)  # once, as the env does
    for d in designs:
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            sim.evaluate(d, graph)
            feasible = True
        except SimulationError:
            feasible = False
        dw, dc = time.perf_counter() - t0, time.process_time() - c0
        wall, cpu = wall + dw, cpu + dc
        if feasible:
            ok, fwall, fcpu = ok + 1, fwall + dw, fcpu + dc
    return wall, cpu, ok, fwall, fcpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", type=int, default=2000, help="random designs per workload")
    ap.add_argument("--repeats", type=int, default=3, help="best of N timed passes")
    args = ap.parse_args()

    t0 = time.perf_counter()
    g = load_workload("audio_decoder")
    SoCSimulator().evaluate(default_design(g), g)
    print(f"JIT compile / cache load: {time.perf_counter() - t0:.2f} s")
    print(
        f"{'workload':<16}{'tasks':>6}{'knobs':>6}{'feasible':>10}{'all/s wall':>12}{'all/s cpu':>11}"
        f"{'feasible/s wall':>17}{'feasible/s cpu':>16}"
    )
    for name in standard_workloads():
        graph = load_workload(name)
        sim = SoCSimulator()
        space = soc_design_space(graph)
        rng = np.random.default_rng(0)
        designs = [space.from_indices(i) for i in space.sample_indices(rng, args.designs)]
        best = min((_time(sim, designs, graph) for _ in range(args.repeats)), key=lambda r: r[1])
        wall, cpu, ok, fwall, fcpu = best
        n = len(designs)
        print(
            f"{name:<16}{len(graph.tasks):>6}{len(space):>6}{ok:>6}/{n:<4}{n / wall:>12.0f}{n / cpu:>11.0f}"
            f"{(ok / fwall if ok else 0):>17.0f}{(ok / fcpu if ok else 0):>16.0f}"
        )
    wall_rate, cpu_rate = env_rate(args.designs)
    print(f"audio_decoder through env.evaluate (batches of 32): {wall_rate:.0f}/s wall, {cpu_rate:.0f}/s cpu")


def env_rate(n: int) -> tuple[float, float]:
    """Designs/s (wall, CPU) through ``env.evaluate`` on the audio decoder, batches of 32."""
    env = make_soc_env("audio_decoder")
    rng = np.random.default_rng(0)
    designs = [env.space.from_indices(i) for i in env.space.sample_indices(rng, n)]
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(0, n, 32):
        env.evaluate(designs[i : i + 32])
    return n / (time.perf_counter() - t0), n / (time.process_time() - c0)


if __name__ == "__main__":
    main()
