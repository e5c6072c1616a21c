"""Benchmark the DRAM simulator: simulated requests per second on one CPU core.

Simulates 1,000,000-request random and sequential traces (at a realistic offered load and
saturated) with two controller designs on DDR4-2400, after a separate warm-up that reports the
numba JIT compile (or cache load) time. Reports the best of ``--repeats`` runs in wall-clock
and in process CPU time (the CPU figure is the robust one on a shared machine). Pin it to one
core with ``taskset -c 0 python benchmarks/bench_dram.py [--requests N]``.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # the kernel is single-threaded anyway

from archgym.envs.dram import DEFAULT_DESIGN, DRAMSimulator, random_uniform, sequential


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3, help="best of N timed runs")
    args = ap.parse_args()
    sim = DRAMSimulator("DDR4-2400")

    t0 = time.perf_counter()
    sim.evaluate(DEFAULT_DESIGN, sequential(64, interval_ns=1))  # compiles or loads the cached kernel
    print(f"JIT compile / cache load: {time.perf_counter() - t0:.2f} s")

    n = args.requests
    traces = {  # offered load: random 8 GB/s (like the standard 'random'), sequential 16 GB/s;
        # the *-sat variants send everything at time 0 (back-pressure paces them: saturated)
        "random": random_uniform(n, interval_ns=8.0, seed=1),
        "sequential": sequential(n, interval_ns=4.0),
        "random-sat": random_uniform(n, interval_ns=0.0, seed=1),
        "seq-sat": sequential(n, interval_ns=0.0),
    }
    designs = {
        "default (Open, FrFcfs, Bankwise, AllBank)": dict(DEFAULT_DESIGN),
        "Closed, Fifo, Shared, PerBank, Reorder": {
            **DEFAULT_DESIGN,
            "page_policy": "Closed",
            "scheduler": "Fifo",
            "scheduler_buffer": "Shared",
            "refresh_policy": "PerBank",
            "arbiter": "Reorder",
            "response_queue": "Reorder",
            "max_active_transactions": 32,
        },
    }
    print(
        f"{'trace':<11} {'design':<42} {'requests':>9} {'wall s':>7} {'req/s wall':>12} {'req/s CPU':>12}  metrics"
    )
    for dname, design in designs.items():
        for tname, trace in traces.items():
            decoded = sim.decode_trace(trace)
            best, best_cpu = float("inf"), float("inf")
            for _ in range(args.repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                res = sim.simulate(design, trace, _decoded=decoded)
                best = min(best, time.perf_counter() - t0)
                best_cpu = min(best_cpu, time.process_time() - c0)
            m = res.metrics
            print(
                f"{tname:<11} {dname:<42} {n:>9} {best:>7.3f} {n / best:>12,.0f} {n / best_cpu:>12,.0f}  "
                f"bw {m['bandwidth_gbps']:.2f} GB/s, "
                f"hit {m['row_hit_rate']:.3f}, {m['power_mw']:.0f} mW"
            )
    # end to end including address decoding (what evaluate() costs)
    t0, c0 = time.perf_counter(), time.process_time()
    sim.evaluate(DEFAULT_DESIGN, traces["random"])
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"end-to-end evaluate() on random incl. address decoding and metrics: {dt:.3f} s wall "
        f"({n / dt:,.0f} req/s), {dc:.3f} s CPU ({n / dc:,.0f} req/s)"
    )


if __name__ == "__main__":
    main()
