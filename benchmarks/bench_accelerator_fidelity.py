"""Fidelity of the hierarchy model against ZigZag on every bundled hardware x network pair.

    python benchmarks/bench_accelerator_fidelity.py                      # all pairs
    python benchmarks/bench_accelerator_fidelity.py --hardware tpu_like --network resnet18
    python benchmarks/bench_accelerator_fidelity.py --cache /tmp/zz.json  # reuse ZigZag results
    python benchmarks/bench_accelerator_fidelity.py --opt energy          # both tools minimise energy
    python benchmarks/bench_accelerator_fidelity.py --mapping both        # also with default.yaml

For each hardware file zigzag-dse 3.9.1 ships (with its namesake mapping file, else
``default.yaml``; the in-memory-compute arrays aimc and dimc with ``default_imc.yaml``, as
ZigZag's own IMC tests use) and each bundled ONNX network, both tools evaluate every layer:
ZigZag (``get_hardware_performance_zigzag``, LOMA, ``opt`` = ``--opt``: latency, energy or
EDP) through
:func:`archgym.envs.accelerator.zigzag_bridge.run_zigzag`, and our model through
``Architecture.from_zigzag`` + ``load_workload(onnx)`` with ``mapper_objective`` = ``--opt``.
``--mapping default`` pairs every hardware file with ZigZag's ``default.yaml`` instead (it
names only D1 and D2: both tools generate the unrollings of the other array dimensions).
Printed per pair: Spearman rank
correlation of per-layer latency and energy, network-total ratios ours / ZigZag, and the
time each tool took (ZigZag runs each distinct layer shape once; the speed-up compares the
same distinct layers). aimc and dimc are costed with our IMC macro model (``imc.py``); for
them our mapper tries ZigZag's hinted spatial unrollings and splits loops (its default for
in-memory-compute arrays, see ``hierarchy_model.evaluate_layers``).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from archgym.envs.accelerator.architecture import Architecture
from archgym.envs.accelerator.hierarchy_model import evaluate_layer
from archgym.envs.accelerator.networks import load_workload
from archgym.envs.accelerator.zigzag_bridge import ZIGZAG_OPT, run_zigzag, zigzag_inputs_dir
from archgym.validate import spearman

MAPPING_OF = {"meta_prototype": "meta_prototype_like", "aimc": "default_imc", "dimc": "default_imc"}


def _sig(layer) -> str:
    return repr(layer.shape_key)  # a JSON key of the ZigZag cache


def _mappings(inputs: Path, hw: str, which: str) -> list[Path]:
    """The mapping files a hardware file runs with: its own (namesake, else ``default.yaml``),
    ``default.yaml``, or both (once when they are the same file)."""
    default = inputs / "mapping" / "default.yaml"
    own = inputs / "mapping" / f"{MAPPING_OF.get(hw, hw)}.yaml"
    own = own if own.exists() else default
    if which == "own":
        return [own]
    if which == "default":
        return [default]
    return [own] if own == default else [own, default]


def _cache_key(hw: str, map_path: Path, net: str, opt: str) -> str:
    key = f"{hw}|{map_path.stem}|{net}"
    return key if opt == "latency" else f"{key}|{opt}"  # latency keeps the keys of earlier caches


def _zigzag(
    cache: dict, key: str, layers, hw_path: Path, map_path: Path, chunk: int, save, opt: str
) -> tuple[dict, float]:
    have = cache.setdefault(key, {})
    todo, seen = [], set()
    for layer in layers:
        s = _sig(layer)
        if s not in have and s not in seen:
            seen.add(s)
            todo.append(layer)
    spent = 0.0
    for i in range(0, len(todo), chunk):
        part = todo[i : i + chunk]
        t0 = time.perf_counter()
        res = run_zigzag(part, hw_path, map_path, opt=ZIGZAG_OPT[opt])
        dt = time.perf_counter() - t0
        spent += dt
        for layer, r in zip(part, res):
            have[_sig(layer)] = dict(r.as_dict(), seconds=dt / len(part))
        save()
    return have, spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hardware", nargs="*", help="hardware file stems (default: all)")
    ap.add_argument("--network", nargs="*", help="network stems (default: all)")
    ap.add_argument("--cache", default=None, help="JSON file keeping ZigZag's per-layer results between runs")
    ap.add_argument("--chunk", type=int, default=4, help="layers per ZigZag call")
    ap.add_argument(
        "--opt",
        choices=tuple(ZIGZAG_OPT),
        default="latency",
        help="the mapper goal of both tools (ZigZag's opt=latency / energy / EDP; ours mapper_objective)",
    )
    ap.add_argument(
        "--mapping",
        choices=("own", "default", "both"),
        default="own",
        help="each hardware file with its own mapping file, with ZigZag's default.yaml, or both",
    )
    ap.add_argument("--zigzag-only", action="store_true", help="only fill the ZigZag cache (no table)")
    args = ap.parse_args()
    inputs = zigzag_inputs_dir()
    hws = args.hardware or sorted(p.stem for p in (inputs / "hardware").glob("*.yaml"))
    nets = args.network or sorted(p.stem for p in (inputs / "workload").glob("*.onnx"))
    cache_path = Path(args.cache) if args.cache else None
    cache = json.loads(cache_path.read_text()) if cache_path and cache_path.exists() else {}

    def save() -> None:
        if cache_path:
            tmp = cache_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(cache))
            tmp.replace(cache_path)

    print(
        f"zigzag-dse 3.9.1 vs archgym hierarchy model, both minimising {args.opt}; "
        "ratios are ours / ZigZag; 1 CPU core"
    )
    head = (
        f"{'hardware':<20} {'mapping':<20} {'network':<12} {'layers':>6} {'lat rho':>8} {'E rho':>7} "
        f"{'lat x':>6} {'E x':>6} {'ZigZag s/layer':>14} {'ours ms/layer':>13} {'speed-up':>9}"
    )
    print(head)
    for hw in hws:
        hw_path = inputs / "hardware" / f"{hw}.yaml"
        for map_path in _mappings(inputs, hw, args.mapping):
            arch = Architecture.from_zigzag(hw_path, map_path)
            for net in nets:
                _row(args, cache, save, hw, hw_path, map_path, arch, net, inputs)


def _row(args, cache, save, hw, hw_path, map_path, arch, net, inputs) -> None:
    """One table row: ZigZag (from the cache, else run) and ours on every layer of ``net``."""
    wl = load_workload(str(inputs / "workload" / f"{net}.onnx"))
    key = _cache_key(hw, map_path, net, args.opt)
    where = f"{hw:<20} {map_path.stem:<20} {net:<12}"
    try:
        ref, _ = _zigzag(cache, key, wl.layers, hw_path, map_path, args.chunk, save, args.opt)
    except Exception as exc:  # ZigZag cannot map some pairs (e.g. layers larger than the memory)
        print(f"{where} ZigZag failed: {type(exc).__name__}: {str(exc)[:80]}", flush=True)
        return
    if args.zigzag_only:
        print(f"{where} ZigZag cached", flush=True)
        return
    distinct = {_sig(layer): layer for layer in wl.layers}
    t0 = time.perf_counter()
    ours = {s: evaluate_layer(arch, layer, mapper_objective=args.opt) for s, layer in distinct.items()}
    ours_s = time.perf_counter() - t0
    lat_o = [ours[_sig(layer)].latency_cycles for layer in wl.layers]
    lat_z = [ref[_sig(layer)]["latency_cycles"] for layer in wl.layers]
    e_o = [ours[_sig(layer)].energy_pj for layer in wl.layers]
    e_z = [ref[_sig(layer)]["energy_pj"] for layer in wl.layers]
    zz_s = float(np.mean([ref[s]["seconds"] for s in distinct]))
    ours_ms = ours_s / len(distinct) * 1e3
    print(
        f"{where} {len(wl):>6} {spearman(lat_o, lat_z):>8.3f} {spearman(e_o, e_z):>7.3f} "
        f"{sum(lat_o) / sum(lat_z):>6.2f} {sum(e_o) / sum(e_z):>6.2f} {zz_s:>14.2f} {ours_ms:>13.1f} "
        f"{zz_s * 1e3 / ours_ms:>8.0f}x",
        flush=True,
    )


if __name__ == "__main__":
    main()
