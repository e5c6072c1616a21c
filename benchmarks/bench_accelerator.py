"""Throughput of the accelerator model: designs/s and layer-evaluations/s on ResNet-50.

    python benchmarks/bench_accelerator.py                 # one CPU core
    python benchmarks/bench_accelerator.py --device cuda   # GPU, when there is one
    python benchmarks/bench_accelerator.py --model hierarchy --workload resnet18 --batches 1,64,256

Random designs from the full design space (all four dataflows, every buffer size and
precision) are evaluated on all 54 layers of ResNet-50 in batches. "cold" includes the
mapper's tiling search for every (layer, buffer capacity) pair; "warm" reuses it (the
mapper's result depends only on layer and capacity, so it is cached per simulator).

``--model hierarchy`` times the compiled hierarchy model (each design built as its template
Architecture; a loop-order search per distinct layer shape and design; nothing is cached, so
cold and warm are the same work). It also prints where the time goes: building and packing
the architectures (Python) and the compiled mapper and cost. "CPU designs/s" divides by the
process's CPU time (steadier than wall time on a shared machine; with ``--threads N`` it
adds up every thread's time). ``benchmarks/accelerator_exactness.py`` checks that a faster
kernel still picks the same mappings.
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
from archgym.envs.accelerator.hierarchy_model import evaluate_batch, unique_layers
from archgym.envs.accelerator.simulator import MODELS
from archgym.envs.accelerator.templates import template_architecture


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
    ap.add_argument("--model", choices=MODELS, default="template", help="template (default) or hierarchy")
    ap.add_argument("--threads", type=int, default=1, help="hierarchy model: numba threads (default 1)")
    args = ap.parse_args()
    torch.set_num_threads(1)

    wl = load_workload(args.workload)
    space = accelerator_design_space()
    rng = np.random.default_rng(0)
    dev = torch.cuda.get_device_name() if args.device.startswith("cuda") else "1 CPU core"
    print(
        f"workload {wl.name}: {len(wl)} layers, {wl.macs / 1e9:.2f} GMACs; device {args.device} ({dev}); "
        f"torch {torch.__version__}; model={args.model}; rf_port_stalls={args.rf_port_stalls}"
    )
    if args.model == "hierarchy":
        print(f"{len(unique_layers(wl.layers)[0])} distinct layer shapes (each costed once per design)")
    print(
        f"{'batch':>7} {'cold s':>8} {'warm s':>8} {'designs/s':>11} {'layer-evals/s':>14} {'CPU designs/s':>14}"
    )
    extra = {"threads": args.threads} if args.threads != 1 else {}
    for b in (int(x) for x in args.batches.split(",")):
        designs = [space.from_indices(i) for i in space.sample_indices(rng, b)]
        sim = AcceleratorSimulator(
            device=args.device, rf_port_stalls=args.rf_port_stalls, model=args.model, **extra
        )
        t0 = time.perf_counter()
        sim.evaluate_arrays(designs, wl)
        _sync(args.device)
        cold = time.perf_counter() - t0
        warm, cpu = [], []
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            sim.evaluate_arrays(designs, wl)
            _sync(args.device)
            warm.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        w, c = min(warm), min(cpu)
        print(f"{b:>7} {cold:>8.3f} {w:>8.3f} {b / w:>11,.0f} {b * len(wl) / w:>14,.0f} {b / c:>14,.0f}")
    if args.model == "hierarchy":
        _hierarchy_phases(designs, wl)
        return
    t0 = time.perf_counter()
    rows = AcceleratorSimulator(device=args.device, rf_port_stalls=args.rf_port_stalls).evaluate_many(
        designs[:1024], wl
    )
    dt = time.perf_counter() - t0
    print(f"evaluate_many (list of dicts, cold) on 1024 designs: {len(rows) / dt:,.0f} designs/s")


def _hierarchy_phases(designs: list, wl) -> None:
    """Where the hierarchy model's time goes, on the last batch."""
    t0 = time.perf_counter()
    archs = [template_architecture(d) for d in designs]
    t1 = time.perf_counter()
    evaluate_batch(archs, wl.layers)
    t2 = time.perf_counter()
    n = len(designs) * len(unique_layers(wl.layers)[0])
    print(
        f"last batch: building {len(archs)} architectures {t1 - t0:.3f} s; packing + compiled mapper "
        f"and cost {t2 - t1:.3f} s = {(t2 - t1) / n * 1e6:.0f} us per distinct (design, layer) pair"
    )


if __name__ == "__main__":
    main()
