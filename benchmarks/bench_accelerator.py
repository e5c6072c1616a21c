"""Throughput of the accelerator model: designs/s and layer-evaluations/s on ResNet-50.

    python benchmarks/bench_accelerator.py                 # one CPU core
    python benchmarks/bench_accelerator.py --device cuda   # GPU, when there is one

Random designs from the full design space (all four dataflows, every buffer size and
precision) are evaluated on all 54 layers of ResNet-50 in batches. "cold" includes the
mapper's tiling search for every (layer, buffer capacity) pair; "warm" reuses it (the
mapper's result depends only on layer and capacity, so it is cached per simulator).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np
import torch

from archgym.envs.accelerator import AcceleratorSimulator, accelerator_design_space, load_workload


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--workload", default="resnet50")
    ap.add_argument("--batches", default="1,64,1024,8192,32768", help="comma-separated batch sizes")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rf-port-stalls", action="store_true", help="the model with register-file port stalls")
    args = ap.parse_args()
    torch.set_num_threads(1)

    wl = load_workload(args.workload)
    space = accelerator_design_space()
    rng = np.random.default_rng(0)
    dev = torch.cuda.get_device_name() if args.device.startswith("cuda") else "1 CPU core"
    print(
        f"workload {wl.name}: {len(wl)} layers, {wl.macs / 1e9:.2f} GMACs; device {args.device} ({dev}); "
        f"torch {torch.__version__}; rf_port_stalls={args.rf_port_stalls}"
    )
    print(f"{'batch':>7} {'cold s':>8} {'warm s':>8} {'designs/s':>11} {'layer-evals/s':>14}")
    for b in (int(x) for x in args.batches.split(",")):
        designs = [space.from_indices(i) for i in space.sample_indices(rng, b)]
        sim = AcceleratorSimulator(device=args.device, rf_port_stalls=args.rf_port_stalls)
        t0 = time.perf_counter()
        sim.evaluate_arrays(designs, wl)
        _sync(args.device)
        cold = time.perf_counter() - t0
        warm = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            sim.evaluate_arrays(designs, wl)
            _sync(args.device)
            warm.append(time.perf_counter() - t0)
        w = min(warm)
        print(f"{b:>7} {cold:>8.3f} {w:>8.3f} {b / w:>11,.0f} {b * len(wl) / w:>14,.0f}")
    t0 = time.perf_counter()
    rows = AcceleratorSimulator(device=args.device, rf_port_stalls=args.rf_port_stalls).evaluate_many(
        designs[:1024], wl
    )
    dt = time.perf_counter() - t0
    print(f"evaluate_many (list of dicts, cold) on 1024 designs: {len(rows) / dt:,.0f} designs/s")


if __name__ == "__main__":
    main()
