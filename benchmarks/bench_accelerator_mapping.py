"""Mapping search: the agents' best mappings against the built-in mapper and ZigZag's LOMA.

    python benchmarks/bench_accelerator_mapping.py                       # tpu_like, 4 ResNet-18 layers
    python benchmarks/bench_accelerator_mapping.py --hardware eyeriss_like --budget 1000 \\
        --agents random ga tpe --cache /tmp/loma.json

For each layer, every agent searches ``archgym/AcceleratorMapping-v0`` on a ZigZag hardware
file with its own spatial mapping (``spatial="fixed"``: the temporal mapping -- tiling,
loop order, per-operand allocation -- is searched, as LOMA searches it) for ``--budget``
evaluations under the env's default objective (the built-in mapper's latency and energy as
targets). Printed per layer: latency (cycles) and energy (uJ) of each agent's best mapping
(by reward, then latency), of the built-in mapper (``evaluate_layer``) and of ZigZag's
LOMA at minimal latency (ZigZag's own cost model on the same hardware and mapping files;
its results are cached with ``--cache``). Agents and the mapper are costed by the hierarchy
model; LOMA's column is ZigZag's cost of LOMA's mapping.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from archgym.envs.accelerator.hierarchy_model import evaluate_layer
from archgym.envs.accelerator.mapping_env import make_accelerator_mapping_env, resolve_hardware
from archgym.envs.accelerator.networks import load_workload
from archgym.envs.accelerator.zigzag_bridge import run_zigzag, zigzag_inputs_dir
from archgym.errors import ConfigError
from archgym.registry import make_agent

LAYERS = ("stages.2.conv1", "stages.3.conv2")
#: every registered agent but BO (a GP on 1,000 points per layer; run it with --agents bo --budget 200)
AGENTS = ("random", "rw", "ga", "aging", "aco", "nsga2", "tpe", "cmaes", "qmc", "grid", "ppo", "a2c", "dqn")


def _loma(cache: dict, key: str, layer, hw: Path, mapping: Path, save) -> dict:
    if key not in cache:
        t0 = time.perf_counter()
        (res,) = run_zigzag([layer], hw, mapping, opt="latency")
        cache[key] = dict(res.as_dict(), seconds=time.perf_counter() - t0)
        save()
    return cache[key]


def _best(env, name: str, seed: int, budget: int) -> tuple[float, float, int]:
    evs = []
    env.add_recorder(evs.append)
    make_agent(name, env.space, seed=seed).run(env, budget)
    ok = [e for e in evs if e.metrics is not None]
    if not ok:
        return np.inf, np.inf, len(evs)
    b = max(ok, key=lambda e: (e.reward, -e.metrics["latency_cycles"]))
    return b.metrics["latency_cycles"], b.metrics["energy_uj"], len(evs) - len(ok)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hardware", default="tpu_like", help="a ZigZag hardware stem")
    ap.add_argument("--layers", nargs="*", default=list(LAYERS), help="ResNet-18 layer names")
    ap.add_argument("--agents", nargs="*", default=list(AGENTS))
    ap.add_argument("--budget", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", default=None, help="JSON file keeping LOMA's results between runs")
    args = ap.parse_args()
    inputs = zigzag_inputs_dir()
    hw = inputs / "hardware" / f"{args.hardware}.yaml"
    own = inputs / "mapping" / f"{args.hardware}.yaml"
    mapping = own if own.is_file() else inputs / "mapping" / "default.yaml"
    arch = resolve_hardware(args.hardware)
    wl = load_workload("resnet18")
    cache_path = Path(args.cache) if args.cache else None
    cache = json.loads(cache_path.read_text()) if cache_path and cache_path.exists() else {}

    def save() -> None:
        if cache_path:
            cache_path.write_text(json.dumps(cache, indent=1))

    print(
        f"{args.hardware} ({mapping.name}), ResNet-18, {args.budget} evaluations per agent, seed {args.seed}"
    )
    print("latency kcycles / energy uJ of the best mapping found; ours = hierarchy model, LOMA = ZigZag")
    cols = [*args.agents, "mapper", "LOMA"]
    print(f"{'layer':<16}" + "".join(f"{c:>17}" for c in cols))
    for name in args.layers:
        layer = next(x for x in wl.layers if x.name == name)
        row = []
        for agent in args.agents:
            env = make_accelerator_mapping_env(args.hardware, wl, layer=name, spatial="fixed")
            t0 = time.perf_counter()
            try:
                lat, e, bad = _best(env, agent, args.seed, args.budget)
            except ConfigError as exc:  # e.g. grid search cannot enumerate a layer's mapping space
                print(f"  {name} {agent}: not run: {exc}", flush=True)
                row.append((np.nan, np.nan))
                continue
            row.append((lat, e))
            print(
                f"  {name} {agent}: {lat:.0f} cycles, {e:.2f} uJ ({bad} infeasible, "
                f"{time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
        ref = evaluate_layer(arch, layer)
        row.append((ref.latency_cycles, ref.energy_pj * 1e-6))
        z = _loma(cache, f"{args.hardware}|{mapping.stem}|{layer.shape_key}", layer, hw, mapping, save)
        row.append((z["latency_cycles"], z["energy_pj"] * 1e-6))
        print(f"{name:<16}" + "".join(f"{lat / 1e3:>9.1f} /{e:>6.1f}" for lat, e in row), flush=True)


if __name__ == "__main__":
    main()
