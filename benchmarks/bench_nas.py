"""Benchmark of the NAS evaluators: evaluations per second, how well each zero-cost proxy ranks
architectures (Kendall tau), and how the accelerator model ranks measured hardware cost.

    python benchmarks/bench_nas.py                       # cell space on digits, vs our own training
    python benchmarks/bench_nas.py --space vit --archs 50 --epochs 4
    python benchmarks/bench_nas.py --benchmark ~/data/NATS-tss-v1_0-3ffb9-simple \\
        --dataset cifar10 --dataset-root ~/data/cifar --archs 200      # vs NAS-Bench-201 accuracy
    python benchmarks/bench_nas.py --hwnasbench ~/data/HW-NAS-Bench-v1_0.pickle --hw-archs 500

Architectures are drawn uniformly (seeded, distinct) from the space. The reference accuracy
is NAS-Bench-201's validation accuracy when ``--benchmark`` points at a NAS-Bench-201 /
NATS-Bench topology file (the cell network then uses NAS-Bench-201's skeleton, C=16, N=5,
and the proxies see the chosen dataset's images), else a short seeded training run on the
chosen data. With ``--hwnasbench``, the accelerator model's latency and energy of
NAS-Bench-201 networks (32x32 inputs, C=16, N=5) on the Eyeriss-like design are rank-
correlated with HW-NAS-Bench's Eyeriss and FPGA figures (and, for reference, the other
devices'). Timings are wall-clock on whatever else the machine is doing.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from scipy.stats import kendalltau, spearmanr

from archgym.envs.accelerator import AcceleratorSimulator, accelerator_design_space
from archgym.envs.nas.cell_space import CellSpace, arch_string, parse_arch_string
from archgym.envs.nas.data import load_dataset
from archgym.envs.nas.env import make_space
from archgym.envs.nas.hardware import HardwareCost, default_accelerator_design
from archgym.envs.nas.hwnasbench import HW_DEVICES, HWNASBenchTable
from archgym.envs.nas.nasbench import NB201Evaluator
from archgym.envs.nas.proxies import PROXIES, ProxyEvaluator, ProxySettings
from archgym.envs.nas.runtime import cpu_threads, seeded
from archgym.envs.nas.search_space import NetworkSpace
from archgym.envs.nas.training import TrainEvaluator, TrainSettings

#: HW-NAS-Bench's input size and classes per dataset (NAS-Bench-201's)
HW_INPUTS = {
    "cifar10": ((3, 32, 32), 10),
    "cifar100": ((3, 32, 32), 100),
    "ImageNet16-120": ((3, 16, 16), 120),
}


def tau(x: Any, y: Any) -> float:
    """Kendall's tau-b (scipy; ties handled), NaN when either side is constant."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(kendalltau(x, y).statistic)


def distinct_designs(space: NetworkSpace, n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    out: list[dict] = []
    seen: set[str] = set()
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


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--space", choices=("cell", "block", "vit"), default="cell")
    ap.add_argument("--archs", type=int, default=60, help="architectures to score (>= 50 for the tau report)")
    ap.add_argument("--epochs", type=int, default=4, help="training epochs per architecture (own training)")
    ap.add_argument("--proxy-batch", type=int, default=64, help="minibatch size of the proxies")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads for proxies and training")
    ap.add_argument("--device", default="cpu", help="cpu | cuda | auto")
    ap.add_argument("--dataset", default="digits", help="digits | cifar10 | cifar100 | imagefolder")
    ap.add_argument("--dataset-root", default=None, help="directory of the local dataset files")
    ap.add_argument("--max-train", type=int, default=None, help="class-balanced training subset")
    ap.add_argument(
        "--channels", type=int, default=None, help="cell space C (default 8; 16 with --benchmark)"
    )
    ap.add_argument("--cells", type=int, default=None, help="cell space N (default 1; 5 with --benchmark)")
    ap.add_argument("--benchmark", default=None, help="NAS-Bench-201 .pth / NATS-Bench tss file or directory")
    ap.add_argument("--benchmark-dataset", default="cifar10", help="cifar10 | cifar100 | ImageNet16-120")
    ap.add_argument("--benchmark-epochs", type=int, default=200, help="12 | 200")
    ap.add_argument("--hwnasbench", default=None, help="HW-NAS-Bench pickle (HW-NAS-Bench-v1_0.pickle)")
    ap.add_argument("--hwnasbench-dataset", default="cifar10", help="cifar10 | cifar100 | ImageNet16-120")
    ap.add_argument("--hw-archs", type=int, default=300, help="cells compared with HW-NAS-Bench")
    ap.add_argument("--hw-accelerators", type=int, default=1024, help="accelerators in the co-design timing")
    ap.add_argument("--skip-proxies", action="store_true", help="only the HW-NAS-Bench comparison")
    args = ap.parse_args(argv)
    if args.benchmark and args.space != "cell":
        ap.error("--benchmark needs --space cell (NAS-Bench-201 is a cell benchmark)")
    return args


def build_space(args: argparse.Namespace, data: Any) -> NetworkSpace:
    cfg: dict[str, int] = {}
    if args.space == "cell":
        cfg = {"channels": args.channels or (16 if args.benchmark else 8)}
        cfg["cells_per_stage"] = args.cells or (5 if args.benchmark else 1)
    return make_space(args.space, data.input_shape, data.num_classes, cfg)


def time_proxies(args: argparse.Namespace, space: NetworkSpace, data: Any, designs: list[dict]) -> list[dict]:
    """All proxies per design (timed, build included), then each proxy alone on 30 networks."""
    settings = ProxySettings(
        batch_size=args.proxy_batch, seed=args.seed, device=args.device, cpu_threads=args.threads
    )
    pe = ProxyEvaluator(space, data, tuple(PROXIES), settings)
    pe(designs[0])  # warm-up (first-call allocations), not timed
    pe.cache.clear()
    t0 = time.perf_counter()
    scores = [pe(d) for d in designs]
    elapsed = time.perf_counter() - t0
    print(f"  zero-cost proxies (all {len(PROXIES)}, build incl.)   {rate(len(designs), elapsed)}")
    x, y = data.minibatch(args.proxy_batch, seed=args.seed)
    x, y = x.to(pe.device), y.to(pe.device)
    per_proxy = dict.fromkeys(PROXIES, 0.0)
    n_timed = min(len(designs), 30)
    with cpu_threads(args.threads, pe.device):
        for d in designs[:n_timed]:
            with seeded(args.seed, pe.device):
                model = space.build(d).to(pe.device)
            for n, fn in PROXIES.items():
                t = time.perf_counter()
                fn(model, x, y)
                per_proxy[n] += time.perf_counter() - t
    for n, s in per_proxy.items():
        print(f"    {n:<10} alone                      {rate(n_timed, s)}")
    return scores


def time_hardware(args: argparse.Namespace, space: NetworkSpace, designs: list[dict]) -> np.ndarray:
    """Latency of each design on the fixed accelerator, with trace/model/co-design timings."""
    hw = HardwareCost(space, AcceleratorSimulator())
    acc = default_accelerator_design()
    hw.cost(designs[0], [acc])
    hw.cache.clear()
    t0 = time.perf_counter()
    lat = np.array([hw.cost(d, [acc])[0]["latency_ms"] for d in designs])
    print(f"  hardware cost, new network (trace+model) {rate(len(designs), time.perf_counter() - t0)}")
    t0 = time.perf_counter()
    for d in designs:
        hw.cost(d, [acc])
    print(f"  hardware cost, cached layers (model)     {rate(len(designs), time.perf_counter() - t0)}")
    rng = np.random.default_rng(args.seed)
    accs = [accelerator_design_space().sample(rng) for _ in range(args.hw_accelerators)]
    t0 = time.perf_counter()
    hw.cost(designs[min(1, len(designs) - 1)], accs)
    n = args.hw_accelerators
    print(f"  co-design: 1 network x {n} accelerators  {rate(n, time.perf_counter() - t0)}")
    return lat


def reference_accuracy(
    args: argparse.Namespace, space: NetworkSpace, data: Any, designs: list[dict]
) -> np.ndarray:
    """NAS-Bench-201 validation accuracy (with --benchmark) or our own seeded training."""
    t0 = time.perf_counter()
    if args.benchmark:
        ev = NB201Evaluator(space, args.benchmark, args.benchmark_dataset, args.benchmark_epochs)
        acc = np.array([ev(d)["accuracy"] for d in designs])
        label = f"NAS-Bench-201 lookup ({args.benchmark_dataset}, {args.benchmark_epochs} epochs)"
    else:
        te = TrainEvaluator(
            space,
            data,
            TrainSettings(epochs=args.epochs, seed=args.seed, device=args.device, cpu_threads=args.threads),
        )
        results = [te.result(d) for d in designs]
        acc = np.array([r.val_accuracy for r in results])
        per_epoch = np.mean([r.epoch_time_s for r in results])
        label = f"trained accuracy ({args.epochs} epochs, {per_epoch * 1e3:.0f} ms/epoch)"
    print(f"  {label:<40} {rate(len(designs), time.perf_counter() - t0)}")
    return acc


def proxy_report(args: argparse.Namespace, space: NetworkSpace, data: Any) -> None:
    designs = distinct_designs(space, args.archs, args.seed)
    src = (
        f"NAS-Bench-201 {args.benchmark_dataset} {args.benchmark_epochs}-epoch validation accuracy "
        f"({args.benchmark})"
    )
    print(
        f"NAS benchmark: space={args.space} [{space.config_key()}], {len(designs)} architectures, "
        f"data={data.name} ({len(data.y_train)} train / {len(data.y_val)} val, "
        f"{'x'.join(map(str, data.input_shape))}), proxy batch={args.proxy_batch}, threads={args.threads}, "
        f"device={args.device}\nreference accuracy: {src if args.benchmark else 'own seeded training'}"
    )
    print(
        f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} default threads; timings are wall-clock on a shared machine"
    )
    print("\nEvaluations per second")
    scores = time_proxies(args, space, data, designs)
    lat = time_hardware(args, space, designs)
    acc = reference_accuracy(args, space, data, designs)
    print(
        f"\nReference accuracy: mean {acc.mean():.3f}, min {acc.min():.3f}, max {acc.max():.3f}, "
        f"{int((acc < 1.5 / data.num_classes).sum())} of {len(acc)} near chance"
    )
    print(f"Latency on the Eyeriss-like accelerator: {lat.min() * 1e3:.2f} .. {lat.max() * 1e3:.2f} us")
    ok = acc >= 1.5 / data.num_classes
    n_ok = int(ok.sum())
    print(f"\nKendall tau vs reference accuracy (n={len(designs)}; right column: the {n_ok} above chance)")
    for n in PROXIES:
        v = np.array([s[n] for s in scores])
        print(f"  {n:<10} {tau(v, acc):+.3f}   {tau(v[ok], acc[ok]):+.3f}")
    lat_taus = f"{tau(lat, acc):+.3f}   {tau(lat[ok], acc[ok]):+.3f}"
    print(f"  {'latency':<10} {lat_taus}   (hardware latency, for reference)")


def hwnasbench_report(args: argparse.Namespace) -> None:
    """Rank correlation of the accelerator model with HW-NAS-Bench's measured/estimated figures."""
    table = HWNASBenchTable(args.hwnasbench)
    ds = args.hwnasbench_dataset
    shape, classes = HW_INPUTS[ds]
    space = CellSpace(shape, classes, channels=16, cells_per_stage=5)
    configs = table.table[ds]["config"]
    rng = np.random.default_rng(args.seed)
    picks = rng.choice(len(configs), size=min(args.hw_archs, len(configs)), replace=False)
    archs = [configs[int(i)]["arch_str"] for i in picks]
    hw = HardwareCost(space, AcceleratorSimulator())
    acc = default_accelerator_design()
    t0 = time.perf_counter()
    ours = [hw.cost(parse_arch_string(a), [acc])[0] for a in archs]
    elapsed = time.perf_counter() - t0
    print(
        f"\nAccelerator model vs HW-NAS-Bench ({args.hwnasbench}, {ds}, {len(archs)} cells, "
        f"{'x'.join(map(str, shape))} input, C=16 N=5; model: Eyeriss-like design, {elapsed:.1f} s)"
    )
    print(f"  {'ours':<10} {'device metric':<22} {'kendall':>8} {'spearman':>9}")
    for kind, mine in (("latency", "latency_ms"), ("energy", "energy_uj")):
        x = np.array([o[mine] for o in ours])
        for dev, kinds in HW_DEVICES.items():
            if kind not in kinds:
                continue
            y = np.array([table.value(a, ds, dev, kind) for a in archs])
            rho = float(spearmanr(x, y).statistic) if np.ptp(y) > 0 else float("nan")
            star = "  <- measured target of the model" if dev in ("eyeriss", "fpga") else ""
            print(f"  {mine:<10} {dev + '_' + kind:<22} {tau(x, y):>+8.3f} {rho:>+9.3f}{star}")
    assert all(arch_string(parse_arch_string(a)) == a for a in archs)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if not args.skip_proxies:
        data = load_dataset(args.dataset, seed=args.seed, root=args.dataset_root, max_train=args.max_train)
        space = build_space(args, data)
        proxy_report(args, space, data)
    if args.hwnasbench:
        hwnasbench_report(args)


if __name__ == "__main__":
    main()
