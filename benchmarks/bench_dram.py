"""Benchmark the DRAM simulator: simulated requests per second on one CPU core, and against Ramulator.

For 1,000,000-request random and sequential traces (saturated, and at a realistic offered load)
it prints, the median of ``--repeats`` timed runs (and the best):

* **kernel**: the compiled event loop alone on a decoded trace (what ``evaluate_many`` pays per
  design once the trace is decoded), for two controller designs; with ``--baseline-kernel FILE``
  (a copy of ``envs/dram/controller.py`` from another commit, e.g. ``git show
  main:envs/dram/controller.py > /tmp/old_controller.py``) the same runs of that kernel,
  interleaved with this one's, their ratio, and whether both give identical outputs;
* **end to end from text**: parse the text file (no cache) + decode + simulate + metrics;
* **end to end from the cache**: the same with the trace served from the binary cache
  (content hash + ``.npz`` load);
* **parse**: text lines per second of the compiled parsers (DRAMSys and Ramulator format);
* **against Ramulator** (``--ramulator PATH``, skipped without it): Ramulator 1's DRAM-trace
  mode (``PATH --mode=dram``, its ``configs/DDR4-config.cfg``: DDR4-2400R, 4 Gb x8, one
  channel and rank, FR-FCFS with a row-hit cap of 16, 32-entry read and write queues, write
  drain 80 % / 20 %) timed in the same run as this simulator in that configuration (its
  ``RoBaRaCoCh`` mapping is our ``RoBaBgCo``; ``ReadWrite`` buffers of 32, ``GrpFrFcfsWm``
  26 / 5, ``row_hit_cap`` 16), both end to end from the same Ramulator-format text trace;
  Ramulator's time is the child process's CPU time.

Wall-clock and process CPU time are both shown: on a shared machine the CPU figure is the
single-core throughput. Pin it with ``taskset -c 0 python benchmarks/bench_dram.py``.

    python benchmarks/bench_dram.py --ramulator /path/to/ramulator/ramulator --sections ramulator
    python benchmarks/bench_dram.py --baseline-kernel /tmp/old_controller.py --sections kernel

With ``--baseline-kernel`` the Ramulator section also times this pipeline with that kernel
(before / after in one run) and says whether its metrics are the same.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # the kernel is single-threaded anyway

import numpy as np

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
from archgym.envs.dram import controller as kernel_module

SECTIONS = ("kernel", "e2e", "ramulator")
#: Ramulator 1's DDR4 controller in this simulator's knobs (see tests/test_dram_validation.py)
RAMULATOR_DESIGN = {
    **DEFAULT_DESIGN,
    **EXTENDED_DEFAULTS,
    "scheduler_buffer": "ReadWrite",
    "request_buffer_size": 32,
    "scheduler": "GrpFrFcfsWm",
    "high_watermark": 26,
    "low_watermark": 5,
    "row_hit_cap": 16,
}
RAMULATOR_MAPPING = "RoBaBgCo"  # Ramulator's RoBaRaCoCh on DDR4 with one rank and channel


class Timing:
    """Wall and CPU seconds of repeated runs: median and best."""

    def __init__(self, wall: list[float], cpu: list[float]) -> None:
        self.wall, self.cpu = wall, cpu

    @property
    def wall_median(self) -> float:
        return float(np.median(self.wall))

    @property
    def cpu_median(self) -> float:
        return float(np.median(self.cpu))

    def row(self, n: int) -> str:
        """``median wall s, req/s wall, req/s CPU (median, best)``."""
        return (
            f"{self.wall_median:>7.3f} {n / self.wall_median:>12,.0f} {n / self.cpu_median:>12,.0f} "
            f"{n / min(self.cpu):>12,.0f}"
        )


def timed(fns: dict[str, Callable[[], Any]], repeats: int) -> tuple[dict[str, Timing], dict[str, Any]]:
    """Time each function ``repeats`` times, interleaved (a, b, a, b, ...) so that the machine's
    load hits all of them alike; returns the timings and each function's last result."""
    walls: dict[str, list[float]] = {k: [] for k in fns}
    cpus: dict[str, list[float]] = {k: [] for k in fns}
    out: dict[str, Any] = {}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0, c0 = time.perf_counter(), time.process_time()
            out[name] = fn()
            walls[name].append(time.perf_counter() - t0)
            cpus[name].append(time.process_time() - c0)
    return {k: Timing(walls[k], cpus[k]) for k in fns}, out


def load_kernel(path: str) -> ModuleType:
    """A controller module from a file (another commit's ``controller.py``), as a sibling of ours."""
    name = "archgym.envs.dram._baseline_controller"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"--baseline-kernel: cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "archgym.envs.dram"
    sys.modules[name] = module  # numba's on-disk cache finds the module by name
    spec.loader.exec_module(module)
    return module


def same_outputs(a: tuple, b: tuple) -> bool:
    """Identical per-request outputs and statistics (the event and recompute counters aside)."""
    keep = [i for i in range(len(a[4])) if i not in (kernel_module.S_EVENTS, kernel_module.S_RECOMP)]
    return all(np.array_equal(x, y) for x, y in zip(a[:4], b[:4])) and np.array_equal(a[4][keep], b[4][keep])


def bench_kernel(sim: DRAMSimulator, traces: dict, repeats: int, baseline: ModuleType | None) -> None:
    designs = {
        "default (Open, FrFcfs, Bankwise 8, AllBank)": dict(DEFAULT_DESIGN),
        "ReadWrite 32, GrpFrFcfsWm 26/5, cap 16": RAMULATOR_DESIGN,
    }
    print(
        f"\nkernel ({len(next(iter(traces.values()))):,} requests, median of {repeats}; req/s CPU median, best)"
    )
    print(
        f"{'trace':<11} {'design':<44} {'kernel':<9} {'wall s':>7} {'req/s wall':>12} {'req/s CPU':>12} "
        f"{'best CPU':>12}  metrics"
    )
    for dname, design in designs.items():
        cfg = sim.encode_design(design)
        for tname, trace in traces.items():
            n = len(trace)
            d = sim.decode_trace(trace)
            args = (d.arrival, d.channel, d.bank, d.row, d.is_write, cfg, sim._geo, sim._tim)
            fns = {"this": lambda args=args: kernel_module.run_kernel(*args)}
            if baseline is not None:
                fns["baseline"] = lambda args=args: baseline.run_kernel(*args)
            timing, out = timed(fns, repeats)
            m = sim._result(trace, d.arrival, out["this"][1], out["this"][2], out["this"][4]).metrics
            metrics = (
                f"bw {m['bandwidth_gbps']:.2f} GB/s, read lat {m['avg_read_latency_ns']:.0f} ns, "
                f"hit {m['row_hit_rate']:.3f}"
            )
            for kname, t in timing.items():
                print(f"{tname:<11} {dname:<44} {kname:<9} {t.row(n)}  {metrics if kname == 'this' else ''}")
            if baseline is not None:
                ratio = timing["baseline"].cpu_median / timing["this"].cpu_median
                same = same_outputs(out["this"], out["baseline"])
                print(
                    f"{'':<11} {'':<44} {'speed-up':<9} {ratio:>7.3f}x (CPU medians); identical outputs: {same}"
                )


def bench_end_to_end(sim: DRAMSimulator, traces: dict, repeats: int) -> None:
    n = len(next(iter(traces.values())))
    print(f"\nend to end: read the file + decode + simulate + metrics (default design, {n:,} requests)")
    print(f"{'trace':<11} {'source':<28} {'wall s':>7} {'req/s wall':>12} {'req/s CPU':>12} {'best CPU':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        for tname in ("random-sat", "seq-sat"):
            for fmt, writer in (("ramulator", write_ramulator), ("dramsys", write_dramsys)):
                path = Path(tmp) / f"{tname}.{fmt}.trace"
                writer(traces[tname], path)
                size_mb = path.stat().st_size / 1e6
                read_trace(path, cache=True, cache_dir=cache)  # fill the cache
                timing, _ = timed(
                    {
                        "text": lambda p=path: sim.evaluate(
                            DEFAULT_DESIGN, sim.decode_trace(read_trace(p, cache=False))
                        ),
                        "cache": lambda p=path: sim.evaluate(
                            DEFAULT_DESIGN, sim.decode_trace(read_trace(p, cache=True, cache_dir=cache))
                        ),
                        "parse": lambda p=path: read_trace(p, cache=False),
                    },
                    repeats,
                )
                print(f"{tname:<11} {fmt + f' text ({size_mb:.0f} MB)':<28} {timing['text'].row(n)}")
                print(f"{tname:<11} {fmt + ' binary cache':<28} {timing['cache'].row(n)}")
                mb_s = size_mb / timing["parse"].cpu_median
                print(
                    f"{'':<11} {'  parse only':<28} {timing['parse'].row(n)}  lines/s ({mb_s:.0f} MB/s CPU)"
                )


def ramulator_stats(path: Path) -> dict[str, float]:
    """The scalar statistics of a Ramulator ``--stats`` file."""
    stats = {}
    for line in path.read_text().splitlines():
        m = re.match(r"\s*(\S+)\s+([-0-9.eE+]+)\s", line)
        if m:
            stats[m.group(1)] = float(m.group(2))
    return stats


def run_ramulator(binary: Path, config: Path, trace: Path, stats: Path) -> float:
    """Run Ramulator's DRAM-trace mode on ``trace``; returns its CPU seconds (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [str(binary), str(config), "--mode=dram", "--stats", str(stats), str(trace)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def baseline_end_to_end(sim: DRAMSimulator, path: Path, baseline: ModuleType) -> dict[str, float]:
    """``sim.evaluate`` from the text file, with another commit's kernel in place of this one's."""
    trace = read_trace(path, cache=False)
    d = sim.decode_trace(trace)
    cfg = sim.encode_design(RAMULATOR_DESIGN)
    out = baseline.run_kernel(d.arrival, d.channel, d.bank, d.row, d.is_write, cfg, sim._geo, sim._tim)
    return sim._result(trace, d.arrival, out[1], out[2], out[4]).metrics


def bench_ramulator(
    binary: Path, config: Path, traces: dict, repeats: int, baseline: ModuleType | None
) -> None:
    sim = DRAMSimulator("DDR4-2400", address_mapping=RAMULATOR_MAPPING)
    sim.evaluate(RAMULATOR_DESIGN, sim.decode_trace(sequential(64, interval_ns=1)))
    n = len(next(iter(traces.values())))
    print(
        f"\nagainst Ramulator ({binary}, {config.name}), end to end from the same Ramulator text trace, "
        f"{n:,} requests; median of {repeats}, CPU seconds"
        + ("; 'baseline': this pipeline with the --baseline-kernel" if baseline else "")
    )
    print(
        f"{'trace':<11} {'Ramulator s':>11} {'ours s':>8} {'ours / Ramulator':>17}   "
        f"{'Ramulator GB/s, read ns':>24} {'ours GB/s, read ns':>20}"
        + (f" {'baseline s':>11} {'baseline / Ramulator':>21}  same metrics" if baseline else "")
    )
    with tempfile.TemporaryDirectory() as tmp:
        for tname in ("random-sat", "seq-sat"):
            path = Path(tmp) / f"{tname}.trace"
            write_ramulator(traces[tname], path)
            stats = Path(tmp) / f"{tname}.stats"
            ram_cpu, ours_cpu, base_cpu = [], [], []
            metrics: dict[str, float] = {}
            base_metrics: dict[str, float] = {}
            for _ in range(repeats):  # interleaved: the machine's load hits all alike
                ram_cpu.append(run_ramulator(binary, config, path, stats))
                c0 = time.process_time()
                metrics = sim.evaluate(RAMULATOR_DESIGN, sim.decode_trace(read_trace(path, cache=False)))
                ours_cpu.append(time.process_time() - c0)
                if baseline is not None:
                    c0 = time.process_time()
                    base_metrics = baseline_end_to_end(sim, path, baseline)
                    base_cpu.append(time.process_time() - c0)
            st = ramulator_stats(stats)
            tck = sim.device.tck_ns
            ram_bw = n * 64 / (st["ramulator.dram_cycles"] * tck)
            ram_lat = st["ramulator.read_latency_avg_0"] * tck
            r, o = float(np.median(ram_cpu)), float(np.median(ours_cpu))
            line = (
                f"{tname:<11} {r:>11.2f} {o:>8.3f} {r / o:>16.1f}x   {ram_bw:>12.2f}, {ram_lat:>9.1f} "
                f"{metrics['bandwidth_gbps']:>9.2f}, {metrics['avg_read_latency_ns']:>8.1f}"
            )
            if baseline is not None:
                b = float(np.median(base_cpu))
                line += f" {b:>11.3f} {r / b:>20.1f}x  {base_metrics == metrics}"
            print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of each case (median and best shown)")
    ap.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    ap.add_argument(
        "--ramulator", type=Path, help="a built Ramulator 1 binary (github.com/CMU-SAFARI/ramulator)"
    )
    ap.add_argument(
        "--ramulator-config", type=Path, help="default: configs/DDR4-config.cfg beside the binary"
    )
    ap.add_argument("--baseline-kernel", help="another commit's controller.py, timed beside this one")
    args = ap.parse_args()
    sections = set(args.sections.split(","))
    unknown = sections - set(SECTIONS)
    if unknown:
        ap.error(f"--sections: unknown {', '.join(sorted(unknown))}; allowed: {', '.join(SECTIONS)}")
    config = args.ramulator_config or (
        args.ramulator.parent / "configs" / "DDR4-config.cfg" if args.ramulator else None
    )
    if args.ramulator and not (args.ramulator.is_file() and config and config.is_file()):
        ap.error(f"--ramulator: need the binary and its config ({args.ramulator}, {config})")
    n = args.requests
    sim = DRAMSimulator("DDR4-2400")

    t0 = time.perf_counter()
    sim.evaluate(
        DEFAULT_DESIGN, sim.decode_trace(sequential(64, interval_ns=1))
    )  # compiles or loads the cached kernel
    baseline = load_kernel(args.baseline_kernel) if args.baseline_kernel else None
    if baseline is not None:
        d = sim.decode_trace(sequential(64))
        cfg = sim.encode_design(DEFAULT_DESIGN)
        baseline.run_kernel(d.arrival, d.channel, d.bank, d.row, d.is_write, cfg, sim._geo, sim._tim)
    with tempfile.TemporaryDirectory() as warm:  # and the parsers
        p = Path(warm) / "w.trace"
        write_ramulator(sequential(8), p)
        read_trace(p, cache=False)
        write_dramsys(sequential(8), p)
        read_trace(p, cache=False)
    print(
        f"JIT compile / cache load: {time.perf_counter() - t0:.2f} s; load average {os.getloadavg()[0]:.1f}"
    )

    traces = {  # saturated (everything at time 0: back-pressure paces them) and offered load
        "random-sat": random_uniform(n, interval_ns=0.0, seed=1),
        "seq-sat": sequential(n, interval_ns=0.0),
        "random": random_uniform(n, interval_ns=8.0, seed=1),
        "sequential": sequential(n, interval_ns=4.0),
    }
    if "kernel" in sections:
        bench_kernel(sim, traces, args.repeats, baseline)
    if "e2e" in sections:
        bench_end_to_end(sim, traces, args.repeats)
    if "ramulator" in sections:
        if args.ramulator is None:
            print("\nagainst Ramulator: skipped (no --ramulator PATH)")
        else:
            bench_ramulator(args.ramulator, config, traces, args.repeats, baseline)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
