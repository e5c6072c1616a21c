"""Freeze, then check, the DRAM simulator's outputs on the benchmark traces (exactness of a speed-up).

``freeze OUT.json`` runs the simulator on the traces of ``bench_dram.py`` (1,000,000-request
random and sequential traces, saturated and at an offered load, the same seeds) for a set of
named designs (the default, Ramulator's configuration, and one or more values of every policy
knob) on several set-ups (DDR4 default mapping, Ramulator's mapping, two ranks, two channels,
DDR5), plus random designs of the extended space on shorter traces, and writes every case's
metrics, counts (the event counter aside) and a SHA-256 of the kernel's per-request outputs.
``check OUT.json`` recomputes them and prints every case that differs (exit 1 if any does).

    python benchmarks/dram_exactness.py freeze /tmp/dram_ref.json   # before the change
    python benchmarks/dram_exactness.py check /tmp/dram_ref.json    # after it
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np
from bench_dram import RAMULATOR_DESIGN, RAMULATOR_MAPPING  # the benchmark's Ramulator set-up

from archgym.envs.dram import (
    DEFAULT_DESIGN,
    EXTENDED_DEFAULTS,
    DRAMSimulator,
    dram_design_space,
    mixed,
    random_uniform,
    sequential,
)
from archgym.envs.dram import controller as K
from archgym.envs.dram.traces import Trace

EXT = {**DEFAULT_DESIGN, **EXTENDED_DEFAULTS}
#: named designs run on the 1M-request traces (each differs from the default in a few knobs)
DESIGNS: dict[str, dict[str, Any]] = {
    "default": dict(DEFAULT_DESIGN),
    "ramulator": RAMULATOR_DESIGN,
    "closed-fifo": {**DEFAULT_DESIGN, "page_policy": "Closed", "scheduler": "Fifo"},
    "openadaptive-frfcfsgrp-shared": {
        **DEFAULT_DESIGN,
        "page_policy": "OpenAdaptive",
        "scheduler": "FrFcfsGrp",
        "scheduler_buffer": "Shared",
        "request_buffer_size": 32,
    },
    "closedadaptive-reorder-perbank": {
        **DEFAULT_DESIGN,
        "page_policy": "ClosedAdaptive",
        "response_queue": "Reorder",
        "arbiter": "Reorder",
        "max_active_transactions": 16,
        "refresh_policy": "PerBank",
    },
    "grpfrfcfs-fifoarb-samebank": {
        **EXT,
        "scheduler": "GrpFrFcfs",
        "arbiter": "Fifo",
        "max_active_transactions": 32,
        "refresh_policy": "SameBank",
        "refresh_max_postponed": 2,
        "refresh_max_pulledin": 3,
    },
    "strict-powerdown-norefresh": {
        **EXT,
        "cmd_mux": "Strict",
        "power_down": "Staggered",
        "power_down_timeout": 8,
        "refresh_policy": "NoRefresh",
        "scheduler_buffer": "ReadWrite",
        "request_buffer_size": 16,
    },
    "wm-bankwise-cap4-powerdown": {
        **EXT,
        "scheduler": "GrpFrFcfsWm",
        "high_watermark": 16,
        "low_watermark": 4,
        "row_hit_cap": 4,
        "power_down": "Staggered",
        "power_down_timeout": 32,
    },
}
#: set-ups: (name, simulator arguments)
SETUPS: dict[str, dict[str, Any]] = {
    "ddr4": {},
    "ddr4-ramulator-map": {"address_mapping": RAMULATOR_MAPPING},
    "ddr4-2ranks": {"ranks": 2},
    "ddr4-2ch": {"channels": 2, "address_mapping": "RoBaCoBgCh"},
    "ddr5": {"device": "DDR5-4800"},
}
#: (set-up, design) pairs run on every 1M-request trace
FULL_CASES = [("ddr4", d) for d in DESIGNS] + [
    ("ddr4-ramulator-map", "ramulator"),
    ("ddr4-ramulator-map", "default"),
]
#: set-ups that run every design on the shorter traces
SHORT_SETUPS = ("ddr4-2ranks", "ddr4-2ch", "ddr5")


def bench_traces(n: int) -> dict[str, Trace]:
    """The traces of ``bench_dram.py`` (same generators and seeds)."""
    return {
        "random-sat": random_uniform(n, interval_ns=0.0, seed=1),
        "seq-sat": sequential(n, interval_ns=0.0),
        "random": random_uniform(n, interval_ns=8.0, seed=1),
        "sequential": sequential(n, interval_ns=4.0),
    }


def short_traces(n: int) -> dict[str, Trace]:
    return {
        "random-sat": random_uniform(n, interval_ns=0.0, seed=3),
        "mixed": mixed(n, seed=3),
        "random": random_uniform(n, interval_ns=2.0, seed=3),
    }


def cases(n_full: int, n_short: int, n_random: int) -> Iterator[tuple[str, str, dict[str, Any], Trace]]:
    """(case name, set-up, design, trace) for every case."""
    full = bench_traces(n_full)
    for setup, dname in FULL_CASES:
        for tname, trace in full.items():
            yield f"{setup}/{dname}/{tname}", setup, DESIGNS[dname], trace
    short = short_traces(n_short)
    space = dram_design_space(space="extended")
    rng = np.random.default_rng(11)
    randoms = {f"random{j}": space.sample(rng) for j in range(n_random)}
    for setup in SHORT_SETUPS:
        for dname, design in {**DESIGNS, **randoms}.items():
            for tname, trace in short.items():
                yield f"{setup}/{dname}/{tname}", setup, design, trace
    for dname, design in randoms.items():  # random designs on the default set-up too
        for tname, trace in short.items():
            yield f"ddr4/{dname}/{tname}", "ddr4", design, trace


def record(sim: DRAMSimulator, design: dict[str, Any], trace: Trace) -> dict[str, Any]:
    """Metrics, counts (events aside) and a digest of the per-request outputs of one case."""
    d = sim.decode_trace(trace)
    out = K.run_kernel(
        d.arrival, d.channel, d.bank, d.row, d.is_write, sim.encode_design(design), sim._geo, sim._tim
    )
    res = sim._result(trace, d.arrival, out[1], out[2], out[4])
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in out[:4])).hexdigest()
    counts = {k: v for k, v in res.counts.items() if k != "events"}
    return {"metrics": res.metrics, "counts": counts, "digest": digest}


def compute(n_full: int, n_short: int, n_random: int) -> dict[str, Any]:
    sims = {name: DRAMSimulator(**kw) for name, kw in SETUPS.items()}
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    for name, setup, design, trace in cases(n_full, n_short, n_random):
        out[name] = {"design": design, **record(sims[setup], design, trace)}
    print(f"{len(out)} cases in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=("freeze", "check"))
    ap.add_argument("path", type=Path, help="the reference JSON (written by freeze, read by check)")
    ap.add_argument("--requests", type=int, default=1_000_000, help="length of the benchmark traces")
    ap.add_argument("--short", type=int, default=20_000, help="length of the shorter traces")
    ap.add_argument("--random-designs", type=int, default=12, help="random extended-space designs")
    args = ap.parse_args()
    if args.action == "check" and not args.path.is_file():
        print(f"dram_exactness: no reference file {args.path} (run freeze first)", file=sys.stderr)
        raise SystemExit(2)
    got = compute(args.requests, args.short, args.random_designs)
    if args.action == "freeze":
        args.path.write_text(json.dumps(got, indent=1))
        print(f"froze {len(got)} cases to {args.path}")
        return
    ref = json.loads(args.path.read_text())
    bad = [k for k in ref if k not in got or {x: got[k][x] for x in ref[k]} != ref[k]]
    missing = [k for k in got if k not in ref]
    for k in bad:
        diff = [
            f"{x}.{f}: {ref[k][x][f]!r} -> {got.get(k, {}).get(x, {}).get(f)!r}"
            for x in ("metrics", "counts")
            for f in ref[k][x]
            if got.get(k, {}).get(x, {}).get(f) != ref[k][x][f]
        ]
        print(f"DIFFERS {k}: {'; '.join(diff) or 'per-request outputs (digest)'}")
    print(
        f"{len(ref) - len(bad)} of {len(ref)} cases identical"
        + (f"; {len(missing)} not in the reference" if missing else "")
    )
    raise SystemExit(1 if bad else 0)


if __name__ == "__main__":
    main()
