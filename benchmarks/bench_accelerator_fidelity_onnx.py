"""Fidelity against ZigZag on networks exported to ONNX here: a ViT block, a BERT layer, an odd CNN.

    python benchmarks/bench_accelerator_fidelity_onnx.py --cache /work/ref/zz_onnx.json
    python benchmarks/bench_accelerator_fidelity_onnx.py --hardware tpu_like --network bert_base
    python benchmarks/bench_accelerator_fidelity_onnx.py --opt energy --hardware tesla_npu_like

The companion of ``bench_accelerator_fidelity.py`` (which runs the ONNX files zigzag-dse
bundles, all CNNs) for GEMM-heavy networks: each network of :data:`NETWORKS` is written with
``torch.onnx.export`` and ONNX shape inference (:func:`~archgym.envs.accelerator.networks.export_onnx`)
and both tools read the same file: ZigZag with its own ONNX parser (a Gemm/MatMul becomes the
loops ``C D K`` (+ ``B H``); :func:`~archgym.envs.accelerator.zigzag_bridge.run_zigzag_onnx`,
LOMA, ``opt`` = ``--opt``) and ours with ``load_workload(onnx)`` on ``Architecture.from_zigzag``,
which maps each layer as ZigZag does (``Architecture.for_kind``: a GEMM's tokens are
ZigZag's ``D``, so mapping entries on ``OX``/``OY`` do not unroll them). ``--conv-form``
costs GEMMs in our convolution form instead (tokens on ``OY``: ``gemm_dims={}``), to show
what the ZigZag reading changes. Printed per hardware x network: per-layer Spearman rank
correlation of latency and energy and network-total ratios ours / ZigZag.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from archgym.envs.accelerator.architecture import Architecture
from archgym.envs.accelerator.hierarchy_model import evaluate_layers
from archgym.envs.accelerator.networks import export_onnx, load_workload
from archgym.envs.accelerator.zigzag_bridge import ZIGZAG_OPT, run_zigzag_onnx, zigzag_inputs_dir
from archgym.validate import spearman

NETWORKS = ("vit_b16_block", "bert_base", "odd_cnn")
MAPPING_OF = {"meta_prototype": "meta_prototype_like", "aimc": "default_imc", "dimc": "default_imc"}


def _mapping(inputs: Path, hw: str) -> Path:
    m = inputs / "mapping" / f"{MAPPING_OF.get(hw, hw)}.yaml"
    return m if m.exists() else inputs / "mapping" / "default.yaml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hardware", nargs="*", help="hardware file stems (default: all zigzag-dse bundles)")
    ap.add_argument("--network", nargs="*", default=list(NETWORKS), choices=NETWORKS)
    ap.add_argument("--cache", default=None, help="JSON file keeping ZigZag's per-layer results between runs")
    ap.add_argument(
        "--opt",
        choices=tuple(ZIGZAG_OPT),
        default="latency",
        help="the mapper goal of both tools (ZigZag's opt=latency / energy / EDP; ours mapper_objective)",
    )
    ap.add_argument(
        "--conv-form", action="store_true", help="cost GEMMs in our convolution form (tokens on OY)"
    )
    args = ap.parse_args()
    inputs = zigzag_inputs_dir()
    hws = args.hardware or sorted(p.stem for p in (inputs / "hardware").glob("*.yaml"))
    cache_path = Path(args.cache) if args.cache else None
    cache = json.loads(cache_path.read_text()) if cache_path and cache_path.exists() else {}
    onnx_dir = Path(tempfile.mkdtemp(prefix="archgym-onnx-"))
    files = {net: export_onnx(net, onnx_dir / f"{net}.onnx") for net in args.network}
    form = "our convolution form" if args.conv_form else "ZigZag's reading"
    print(
        f"zigzag-dse 3.9.1 (its ONNX parser) vs archgym hierarchy model ({form}), both minimising "
        f"{args.opt}; ratios are ours / ZigZag"
    )
    print(
        f"{'hardware':<20} {'network':<14} {'layers':>6} {'lat rho':>8} {'E rho':>7} {'lat x':>6} {'E x':>6}"
    )
    for hw in hws:
        hw_path, map_path = inputs / "hardware" / f"{hw}.yaml", _mapping(inputs, hw)
        arch = Architecture.from_zigzag(hw_path, map_path)
        for net, path in files.items():
            key = f"{hw}|{map_path.stem}|{net}" + ("" if args.opt == "latency" else f"|{args.opt}")
            if key not in cache:
                t0 = time.perf_counter()
                try:
                    res = run_zigzag_onnx(path, hw_path, map_path, opt=ZIGZAG_OPT[args.opt])
                except Exception as exc:  # ZigZag cannot map some pairs
                    print(
                        f"{hw:<20} {net:<14} ZigZag failed: {type(exc).__name__}: {str(exc)[:70]}", flush=True
                    )
                    continue
                cache[key] = {n: dict(r.as_dict(), seconds=time.perf_counter() - t0) for n, r in res.items()}
                if cache_path:
                    cache_path.write_text(json.dumps(cache))
            ref = cache[key]
            layers = load_workload(str(path)).layers
            ours = evaluate_layers(
                replace(arch, gemm_dims={}) if args.conv_form else arch, layers, mapper_objective=args.opt
            )
            lat_o = [c.latency_cycles for c in ours]
            e_o = [c.energy_pj for c in ours]
            lat_z = [ref[x.name]["latency_cycles"] for x in layers]
            e_z = [ref[x.name]["energy_pj"] for x in layers]
            print(
                f"{hw:<20} {net:<14} {len(layers):>6} {spearman(lat_o, lat_z):>8.3f} {spearman(e_o, e_z):>7.3f} "
                f"{sum(lat_o) / sum(lat_z):>6.2f} {sum(e_o) / sum(e_z):>6.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
