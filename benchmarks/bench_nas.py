"""Benchmark of the NAS evaluators: evaluations per second, and how well each zero-cost
proxy ranks architectures by trained accuracy (Kendall tau) on scikit-learn's digits.

    python benchmarks/bench_nas.py                      # cell space, 60 architectures, ~3-6 min on 2 cores
    python benchmarks/bench_nas.py --archs 200 --epochs 8
    python benchmarks/bench_nas.py --space block --archs 50

Architectures are drawn uniformly (seeded, distinct) from the space; every one gets all
proxies and a short seeded training run; proxies and accuracy are then rank-correlated.
Timings are wall-clock on whatever else the machine is doing.
"""

from __future__ import annotations

import argparse
import math
import platform
import time

import numpy as np
import torch

from archgym.envs.accelerator import AcceleratorSimulator, accelerator_design_space
from archgym.envs.nas.data import load_digits_data
from archgym.envs.nas.env import make_space
from archgym.envs.nas.hardware import HardwareCost, default_accelerator_design
from archgym.envs.nas.proxies import PROXIES, ProxyEvaluator, ProxySettings
from archgym.envs.nas.runtime import cpu_threads, seeded
from archgym.envs.nas.training import TrainEvaluator, TrainSettings


def kendall_tau_b(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b (ties in either variable handled), O(n^2)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    dx = np.sign(x[:, None] - x[None, :])
    dy = np.sign(y[:, None] - y[None, :])
    iu = np.triu_indices(len(x), k=1)
    dx, dy = dx[iu], dy[iu]
    num = float(np.sum(dx * dy))
    den = math.sqrt(float(np.sum(dx != 0)) * float(np.sum(dy != 0)))
    return num / den if den > 0 else float("nan")


def distinct_designs(space, n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    out, seen = [], set()
    limit = min(n, int(space.space.size))
    while len(out) < limit:
        d = space.sample(rng)
        k = space.arch_key(d)
        if k not in seen:
            seen.add(k)
            out.append(d)
    return out


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:10.2f} /s  ({n} in {seconds:.1f} s)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--space", choices=("cell", "block"), default="cell")
    ap.add_argument(
        "--archs", type=int, default=60, help="architectures to train and score (>= 50 for the tau report)"
    )
    ap.add_argument("--epochs", type=int, default=4, help="training epochs per architecture")
    ap.add_argument("--proxy-batch", type=int, default=64, help="minibatch size of the proxies")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads for proxies and training")
    ap.add_argument("--device", default="cpu", help="cpu | cuda | auto")
    ap.add_argument(
        "--hw-accelerators",
        type=int,
        default=1024,
        help="accelerators per network in the co-design batch timing",
    )
    args = ap.parse_args()

    data = load_digits_data(seed=args.seed)
    space = make_space(args.space, data.input_shape, data.num_classes)
    designs = distinct_designs(space, args.archs, args.seed)
    print(
        f"NAS benchmark: space={args.space} [{space.config_key()}], {len(designs)} architectures, "
        f"data={data.name} ({len(data.y_train)} train / {len(data.y_val)} val, 8x8), epochs={args.epochs}, "
        f"proxy batch={args.proxy_batch}, threads={args.threads}, device={args.device}"
    )
    print(
        f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} default threads; timings are wall-clock on a shared machine"
    )

    # ---- zero-cost proxies: all proxies together per design (network build included)
    pe = ProxyEvaluator(
        space,
        data,
        settings=ProxySettings(
            batch_size=args.proxy_batch, seed=args.seed, device=args.device, cpu_threads=args.threads
        ),
    )
    pe(designs[0])  # warm-up (first-call allocations), not timed
    pe.cache.clear()
    t0 = time.perf_counter()
    proxy_scores = [pe(d) for d in designs]
    t_proxy = time.perf_counter() - t0

    # ---- each proxy alone, on the same networks (build excluded)
    x, y = data.minibatch(args.proxy_batch, seed=args.seed)
    per_proxy = {n: 0.0 for n in PROXIES}
    n_timed = min(len(designs), 30)
    with cpu_threads(args.threads):
        for d in designs[:n_timed]:
            with seeded(args.seed):
                model = space.build(d)
            for n, fn in PROXIES.items():
                t = time.perf_counter()
                fn(model, x, y)
                per_proxy[n] += time.perf_counter() - t

    # ---- hardware cost on the fixed accelerator: trace + model per new network, model only when cached
    hw = HardwareCost(space, AcceleratorSimulator())
    acc = default_accelerator_design()
    hw.cost(designs[0], [acc])
    hw.cache.clear()
    t0 = time.perf_counter()
    hw_rows = [hw.cost(d, [acc])[0] for d in designs]
    t_hw = time.perf_counter() - t0
    t0 = time.perf_counter()
    for d in designs:
        hw.cost(d, [acc])
    t_hw_cached = time.perf_counter() - t0
    rng = np.random.default_rng(args.seed)
    accs = [accelerator_design_space().sample(rng) for _ in range(args.hw_accelerators)]
    t0 = time.perf_counter()
    hw.cost(designs[1], accs)
    t_codesign = time.perf_counter() - t0

    # ---- trained accuracy
    te = TrainEvaluator(
        space,
        data,
        TrainSettings(epochs=args.epochs, seed=args.seed, device=args.device, cpu_threads=args.threads),
    )
    t0 = time.perf_counter()
    acc_vals = np.array([te.result(d).val_accuracy for d in designs])
    t_train = time.perf_counter() - t0

    print("\nEvaluations per second")
    print(f"  zero-cost proxies (all {len(PROXIES)}, build incl.)   {rate(len(designs), t_proxy)}")
    for n, s in per_proxy.items():
        print(f"    {n:<10} alone                      {rate(n_timed, s)}")
    print(f"  trained accuracy ({args.epochs} epochs)            {rate(len(designs), t_train)}")
    print(f"  hardware cost, new network (trace+model) {rate(len(designs), t_hw)}")
    print(f"  hardware cost, cached layers (model)     {rate(len(designs), t_hw_cached)}")
    print(
        f"  co-design: 1 network x {args.hw_accelerators} accelerators  {rate(args.hw_accelerators, t_codesign)}"
    )

    print(
        f"\nTrained accuracy: mean {acc_vals.mean():.3f}, min {acc_vals.min():.3f}, max {acc_vals.max():.3f}, "
        f"{int((acc_vals < 0.2).sum())} of {len(acc_vals)} at chance (< 0.2)"
    )
    lat = np.array([r["latency_ms"] for r in hw_rows])
    print(f"Latency on the Eyeriss-like accelerator: {lat.min() * 1e3:.2f} .. {lat.max() * 1e3:.2f} us")
    ok = acc_vals >= 0.2
    print(
        f"\nKendall tau vs trained accuracy (n={len(designs)}; right column: the {int(ok.sum())} above chance)"
    )
    for n in PROXIES:
        v = np.array([s[n] for s in proxy_scores])
        print(f"  {n:<10} {kendall_tau_b(v, acc_vals):+.3f}   {kendall_tau_b(v[ok], acc_vals[ok]):+.3f}")
    v = np.array([r["latency_ms"] for r in hw_rows])
    print(
        f"  {'latency':<10} {kendall_tau_b(v, acc_vals):+.3f}   {kendall_tau_b(v[ok], acc_vals[ok]):+.3f}"
        "   (hardware latency, for reference)"
    )


if __name__ == "__main__":
    main()
