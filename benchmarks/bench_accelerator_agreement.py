"""Agreement of the vectorised template model with the hierarchy model (per-network latency).

    python benchmarks/bench_accelerator_agreement.py --designs 200 --workloads resnet18,alexnet

Random designs of the 9-knob space are evaluated by the template model
(``env.simulator=template``) and, built as architectures by
:func:`~archgym.envs.accelerator.templates.template_architecture`, by the hierarchy model
with stalls (which tracks ZigZag 3.9.1; see the README's fidelity
table). Prints per workload the Spearman rank correlation of network latency and energy
across the designs and the median / 10th / 90th percentile ratio vectorised / hierarchy.
Both forms of the vectorised model are compared: the default roofline and
``AcceleratorSimulator(rf_port_stalls=True)``. ``--max-orders`` bounds the hierarchy
model's loop-order search (its cost per layer; 720 is its default).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np
import torch
from scipy.stats import spearmanr

from archgym.envs.accelerator import AcceleratorSimulator, accelerator_design_space, load_workload
from archgym.envs.accelerator.hierarchy_model import evaluate_layers
from archgym.envs.accelerator.templates import template_architecture


def hierarchy_totals(design: dict, layers, max_orders: int) -> tuple[float, float]:
    """(latency cycles, energy pJ) of a network on the template architecture of ``design``."""
    costs = evaluate_layers(template_architecture(design), layers, max_orders)
    return sum(c.latency_cycles for c in costs), sum(c.energy_pj for c in costs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", type=int, default=200)
    ap.add_argument("--workloads", default="resnet18,alexnet")
    ap.add_argument("--max-orders", type=int, default=720)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    space = accelerator_design_space()
    rng = np.random.default_rng(args.seed)
    designs = [space.from_indices(i) for i in space.sample_indices(rng, args.designs)]
    sims = {"roofline": AcceleratorSimulator(), "rf-port-stalls": AcceleratorSimulator(rf_port_stalls=True)}
    print(
        f"{args.designs} random designs (seed {args.seed}), hierarchy model with max_orders={args.max_orders}"
    )
    print(
        f"{'workload':>10} {'model':>15} {'lat rho':>8} {'lat ratio med [p10, p90]':>25} {'energy rho':>11}"
    )
    for name in args.workloads.split(","):
        wl = load_workload(name)
        t0 = time.perf_counter()
        ref = np.array([hierarchy_totals(d, wl.layers, args.max_orders) for d in designs])
        dt = time.perf_counter() - t0
        for label, sim in sims.items():
            vec = sim.evaluate_arrays(designs, wl)
            lat = vec["latency_cycles"] / ref[:, 0]
            rho_l = spearmanr(vec["latency_cycles"], ref[:, 0]).statistic
            rho_e = spearmanr(vec["energy_uj"], ref[:, 1]).statistic
            p10, med, p90 = np.percentile(lat, [10, 50, 90])
            band = f"{med:.2f} [{p10:.2f}, {p90:.2f}]"
            print(f"{name:>10} {label:>15} {rho_l:>8.3f} {band:>25} {rho_e:>11.3f}")
        print(f"{'':>10} hierarchy model: {dt:.1f} s for {len(designs)} designs x {len(wl)} layers")


if __name__ == "__main__":
    main()
