"""The accelerator env's two models against ZigZag on random designs of the 9-knob space.

    python benchmarks/bench_accelerator_env_fidelity.py                       # 10 designs, ResNet-18
    python benchmarks/bench_accelerator_env_fidelity.py --network mobilenetv2 --designs 8 --seed 12
    python benchmarks/bench_accelerator_env_fidelity.py --save /tmp/zz.json   # keep ZigZag's results

Random designs of ``archgym/Accelerator-v0`` (seeded) are built as their template
Architecture and evaluated three ways on the first ``--layers`` distinct layer shapes of the
network: by ZigZag 3.9.1 (through ``env.simulator=zigzag``'s :class:`ZigZagSimulator`, LOMA,
minimal latency), by the hierarchy model (the env's default) and by the template model
(``env.simulator=template``). Printed per metric: Spearman rank correlation with ZigZag over
(design, layer) pairs and over designs (network totals), and the ratio of totals model / ZigZag
(median [min, max]). A search acts on the ranking of designs, so that column matters most.
ZigZag takes about 3 s per layer here, so the default run takes a few minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from archgym.envs.accelerator import AcceleratorSimulator, accelerator_design_space, load_workload
from archgym.envs.accelerator.hierarchy_model import unique_layers
from archgym.envs.accelerator.zigzag_simulator import ZigZagSimulator
from archgym.simulator import SimulationError
from archgym.validate import spearman


def _table(rows: list[dict]) -> None:
    design = np.array([r["design"] for r in rows])
    evaluated = sorted(set(design.tolist()))
    print(f"{'metric':<8} {'model':<10} {'Spearman pairs':>15} {'Spearman designs':>17} {'total ratio':>22}")
    for metric in ("latency", "energy"):
        z = np.array([r[f"zigzag_{metric}"] for r in rows])
        z_tot = np.array([z[design == i].sum() for i in evaluated])
        for model in ("hierarchy", "template"):
            v = np.array([r[f"{model}_{metric}"] for r in rows])
            tot = np.array([v[design == i].sum() for i in evaluated])
            ratio = tot / z_tot
            print(
                f"{metric:<8} {model:<10} {spearman(v, z):>15.3f} {spearman(tot, z_tot):>17.3f} "
                f"{np.median(ratio):>8.2f} [{ratio.min():.2f}, {ratio.max():.2f}]"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="resnet18")
    ap.add_argument("--designs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument(
        "--layers", type=int, default=5, help="distinct layer shapes to evaluate (from the first)"
    )
    ap.add_argument("--save", help="write every per-layer result to this JSON file")
    args = ap.parse_args()

    layers = unique_layers(load_workload(args.network).layers)[0][: args.layers]
    space = accelerator_design_space()
    rng = np.random.default_rng(args.seed)
    designs = [space.sample(rng) for _ in range(args.designs)]
    zigzag = ZigZagSimulator(evaluation_timeout_s=1800)
    models = {"hierarchy": AcceleratorSimulator(model="hierarchy"), "template": AcceleratorSimulator()}
    print(
        f"{args.network}: {len(layers)} distinct layers x {len(designs)} random designs (seed {args.seed}); "
        "ZigZag 3.9.1 (LOMA, latency)"
    )
    rows = []
    spent = {"zigzag": 0.0, "hierarchy": 0.0}
    for i, design in enumerate(designs):
        t0 = time.perf_counter()
        try:
            zz = zigzag.layer_results(design, layers)
        except SimulationError as exc:  # e.g. ZigZag finds no legal loop ordering
            print(f"  design {i}: {design} skipped: {str(exc).splitlines()[0]}", flush=True)
            continue
        t1 = time.perf_counter()
        ours = {name: sim.evaluate_layers(design, layers) for name, sim in models.items()}
        spent["zigzag"] += t1 - t0
        for j, layer in enumerate(layers):
            row = {"design": i, "layer": layer.name}
            row.update(zigzag_latency=zz[j].latency_cycles, zigzag_energy=zz[j].energy_pj)
            for name, recs in ours.items():
                row[f"{name}_latency"] = recs[j]["latency_cycles"]
                row[f"{name}_energy"] = recs[j]["energy_pj"]
            rows.append(row)
        print(f"  design {i}: {design} (ZigZag {t1 - t0:.1f} s)", flush=True)
    t0 = time.perf_counter()
    for design in {r["design"]: designs[r["design"]] for r in rows}.values():
        models["hierarchy"].evaluate_layers(design, layers)
    spent["hierarchy"] = time.perf_counter() - t0
    _table(rows)
    n = len(rows)
    print(
        f"time per (design, layer): ZigZag {spent['zigzag'] / n:.2f} s, hierarchy model "
        f"{spent['hierarchy'] / n * 1e3:.2f} ms ({spent['zigzag'] / max(spent['hierarchy'], 1e-9):,.0f}x)"
    )
    if args.save:
        with open(args.save, "w") as f:
            json.dump({"designs": designs, "rows": rows}, f)


if __name__ == "__main__":
    main()
