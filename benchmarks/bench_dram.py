"""Benchmark the DRAM simulator: simulated requests per second on one CPU core.

For 1,000,000-request random and sequential traces (saturated, and at a realistic offered load)
it prints, best of ``--repeats``:

* **kernel**: the compiled event loop alone on a decoded trace (what ``evaluate_many`` pays per
  design once the trace is decoded), for two controller designs;
* **end to end from text**: parse the text file (no cache) + decode + simulate + metrics;
* **end to end from the cache**: the same with the trace served from the binary cache
  (content hash + ``.npz`` load);
* **parse**: text lines per second of the compiled parsers (DRAMSys and Ramulator format).

Wall-clock and process CPU time are both shown: on a shared machine the CPU figure is the
single-core throughput. Pin it with ``taskset -c 0 python benchmarks/bench_dram.py``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # the kernel is single-threaded anyway

from archgym.envs.dram import (
    DEFAULT_DESIGN,
    EXTENDED_DEFAULTS,
    DRAMSimulator,
    random_uniform,
    read_trace,
    sequential,
    write_dramsys,
    write_ramulator,
)


def best_of(fn: Callable[[], object], repeats: int) -> tuple[float, float, object]:
    """(best wall s, best CPU s, last result) of ``repeats`` calls."""
    wall, cpu, out = float("inf"), float("inf"), None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3, help="best of N timed runs")
    args = ap.parse_args()
    n = args.requests
    sim = DRAMSimulator("DDR4-2400")

    t0 = time.perf_counter()
    sim.evaluate(DEFAULT_DESIGN, sequential(64, interval_ns=1))  # compiles or loads the cached kernel
    with tempfile.TemporaryDirectory() as warm:  # and the parsers
        p = Path(warm) / "w.trace"
        write_ramulator(sequential(8), p)
        read_trace(p, cache=False)
        write_dramsys(sequential(8), p)
        read_trace(p, cache=False)
    print(f"JIT compile / cache load: {time.perf_counter() - t0:.2f} s")

    traces = {  # saturated (everything at time 0: back-pressure paces them) and offered load
        "random-sat": random_uniform(n, interval_ns=0.0, seed=1),
        "seq-sat": sequential(n, interval_ns=0.0),
        "random": random_uniform(n, interval_ns=8.0, seed=1),
        "sequential": sequential(n, interval_ns=4.0),
    }
    designs = {
        "default (Open, FrFcfs, Bankwise 8, AllBank)": dict(DEFAULT_DESIGN),
        "ReadWrite 32, GrpFrFcfsWm 26/5, cap 16": {
            **DEFAULT_DESIGN,
            **EXTENDED_DEFAULTS,
            "scheduler_buffer": "ReadWrite",
            "request_buffer_size": 32,
            "scheduler": "GrpFrFcfsWm",
            "high_watermark": 26,
            "low_watermark": 5,
            "row_hit_cap": 16,
        },
    }
    print(f"\nkernel ({n:,} requests, best of {args.repeats})")
    print(f"{'trace':<11} {'design':<44} {'wall s':>7} {'req/s wall':>12} {'req/s CPU':>12}  metrics")
    for dname, design in designs.items():
        for tname, trace in traces.items():
            prepared = sim.prepare(trace)  # decoded once, as the env does

            def kernel(design: dict = design, prepared: object = prepared) -> object:
                return sim.simulate(design, prepared)  # type: ignore[arg-type]

            wall, cpu, res = best_of(kernel, args.repeats)
            m = res.metrics  # type: ignore[attr-defined]
            print(
                f"{tname:<11} {dname:<44} {wall:>7.3f} {n / wall:>12,.0f} {n / cpu:>12,.0f}  "
                f"bw {m['bandwidth_gbps']:.2f} GB/s, read lat {m['avg_read_latency_ns']:.0f} ns, "
                f"hit {m['row_hit_rate']:.3f}"
            )

    print(f"\nend to end: read the file + decode + simulate + metrics (default design, {n:,} requests)")
    print(f"{'trace':<11} {'source':<28} {'wall s':>7} {'req/s wall':>12} {'req/s CPU':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        for tname in ("random-sat", "seq-sat"):
            trace = traces[tname]
            for fmt, writer in (("ramulator", write_ramulator), ("dramsys", write_dramsys)):
                path = Path(tmp) / f"{tname}.{fmt}.trace"
                writer(trace, path)
                size_mb = path.stat().st_size / 1e6

                def from_text(path: Path = path) -> object:
                    return sim.evaluate(DEFAULT_DESIGN, read_trace(path, cache=False))

                def from_cache(path: Path = path) -> object:
                    return sim.evaluate(DEFAULT_DESIGN, read_trace(path, cache=True, cache_dir=cache))

                wall, cpu, _ = best_of(from_text, args.repeats)
                src = fmt + f" text ({size_mb:.0f} MB)"
                print(f"{tname:<11} {src:<28} {wall:>7.3f} {n / wall:>12,.0f} {n / cpu:>12,.0f}")
                read_trace(path, cache=True, cache_dir=cache)  # fill the cache
                wall, cpu, _ = best_of(from_cache, args.repeats)
                src = fmt + " binary cache"
                print(f"{tname:<11} {src:<28} {wall:>7.3f} {n / wall:>12,.0f} {n / cpu:>12,.0f}")

                def parse(path: Path = path) -> object:
                    return read_trace(path, cache=False)

                wall, cpu, _ = best_of(parse, args.repeats)
                print(
                    f"{'':<11} {'  parse only':<28} {wall:>7.3f} {n / wall:>12,.0f} {n / cpu:>12,.0f}  "
                    f"lines/s ({size_mb / cpu:.0f} MB/s CPU)"
                )


if __name__ == "__main__":
    main()
