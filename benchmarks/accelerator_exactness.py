"""Exactness reference of the hierarchy model: freeze its results, later check they are unchanged.

    python benchmarks/accelerator_exactness.py freeze /work/ref/h23s/exact.pkl   # before a change
    python benchmarks/accelerator_exactness.py check  /work/ref/h23s/exact.pkl   # after it

A speed-up of the mapper must not change what it picks. The cases: random designs of the
9-knob space (all dataflows; seeded), of the split-memory template and of the extended space,
on ResNet-18, MobileNetV2 (grouped) and the odd-shaped CNN, with every mapper goal; and
ZigZag's bundled hardware files (with their own mapping file and with ``default.yaml``, which
leaves array dimensions to the mapper's spatial generation; in-memory-compute arrays use the
split-loop search) on ResNet-18 when the ``zigzag`` extra is installed. Per (design, layer) it
records the chosen loop order and every cost column of :func:`evaluate_layers` and of the batch
path :func:`evaluate_batch`, and the simulator's network metrics. ``check`` prints IDENTICAL
(bit for bit) or lists the differences (exit 1). ``--threads 2`` runs the batch cases on numba's threads.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from archgym.envs.accelerator import accelerator_design_space, load_workload
from archgym.envs.accelerator.architecture import Architecture
from archgym.envs.accelerator.hierarchy_model import MAPPER_OBJECTIVES, evaluate_batch, evaluate_layers
from archgym.envs.accelerator.simulator import HierarchySimulator
from archgym.envs.accelerator.space import extended_design_space
from archgym.envs.accelerator.templates import (
    extended_architecture,
    split_memory_architecture,
    template_architecture,
)

NETWORKS = ("resnet18", "mobilenetv2", "odd_cnn")
ZIGZAG_PAIRS = (
    ("tpu_like", "tpu_like"),
    ("eyeriss_like", "default"),
    ("edge_tpu_like", "edge_tpu_like"),
    ("edge_tpu_like", "default"),
    ("meta_prototype", "meta_prototype_like"),
    ("meta_prototype", "default"),
    ("tesla_npu_like", "tesla_npu_like"),
    ("tesla_npu_like", "default"),
    ("ascend_like", "ascend_like"),
    ("generic_array_cacti", "default"),
    ("gemm_l1_l3", "gemm_l1_l3"),
    ("aimc", "default_imc"),
    ("dimc", "default_imc"),
)


def _designs(n: int, seed: int) -> list[dict[str, Any]]:
    space = accelerator_design_space()
    rng = np.random.default_rng(seed)
    return [space.from_indices(i) for i in space.sample_indices(rng, n)]


def _split_designs(n: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    out = []
    for d in _designs(n, seed):
        extra = {
            k: int(rng.choice([16, 32, 64, 128, 256])) for k in ("rf_w_bytes", "rf_i_bytes", "rf_o_bytes")
        }
        extra.update(wbuf_kib=int(rng.choice([16, 64, 256])), abuf_kib=int(rng.choice([16, 64, 256])))
        out.append(dict(d, **extra))
    return out


def _extended(n: int, seed: int) -> list[dict[str, Any]]:
    space = extended_design_space()
    rng = np.random.default_rng(seed)
    return [space.from_indices(i) for i in space.sample_indices(rng, n)]


def _zigzag_archs() -> list[tuple[str, Architecture]]:
    try:
        import zigzag
    except ImportError:
        return []
    inputs = Path(zigzag.__file__).resolve().parent / "inputs"
    return [
        (
            f"zz-{hw}-{mp}",
            Architecture.from_zigzag(inputs / f"hardware/{hw}.yaml", inputs / f"mapping/{mp}.yaml"),
        )
        for hw, mp in ZIGZAG_PAIRS
    ]


def _layer_rows(arch: Architecture, layers, goal: str) -> list[tuple]:
    return [
        (tuple(sorted(c.record().items())), c.order)
        for c in evaluate_layers(arch, layers, mapper_objective=goal)
    ]


def _batch(archs: list[Architecture], layers, goal: str, threads: int) -> dict[str, np.ndarray]:
    c = evaluate_batch(archs, layers, mapper_objective=goal, threads=threads)
    out = {f"scalar:{k}": v for k, v in c.scalars.items()}
    out.update(reads=c.reads, writes=c.writes, level_energy_pj=c.level_energy_pj)
    return out


def compute(n_designs: int, seed: int, threads: int = 1) -> dict[str, Any]:
    """Every case's results (see the module docstring)."""
    ref: dict[str, Any] = {}
    groups = {
        "template": [template_architecture(d) for d in _designs(n_designs, seed)],
        "template-no-im2col": [
            template_architecture(d, im2col=False) for d in _designs(n_designs // 4, seed + 1)
        ],
        "split": [split_memory_architecture(d) for d in _split_designs(n_designs // 4, seed + 2)],
        "extended": [extended_architecture(d) for d in _extended(n_designs // 4, seed + 3)],
    }
    for net in NETWORKS:
        layers = load_workload(net).layers
        for goal in MAPPER_OBJECTIVES:
            for name, archs in groups.items():
                key = f"{name}/{net}/{goal}"
                ref[f"batch/{key}"] = _batch(archs, layers, goal, threads)
                step = 1 if name == "template" and net == "resnet18" else 4
                ref[f"layers/{key}"] = [_layer_rows(a, layers, goal) for a in archs[::step]]
    designs = _designs(n_designs, seed)
    for goal in MAPPER_OBJECTIVES:
        sim = HierarchySimulator(mapper_objective=goal, threads=threads)
        ref[f"sim/resnet18/{goal}"] = sim.evaluate_arrays(designs, "resnet18")
    layers = load_workload("resnet18").layers
    for name, arch in _zigzag_archs():
        for goal in MAPPER_OBJECTIVES:
            ref[f"zigzag/{name}/{goal}"] = _layer_rows(arch, layers, goal)
    return ref


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _where(a: Any, b: Any, path: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}/{k}: only in {'reference' if k in a else 'now'}")
            elif not _same(a[k], b[k]):
                _where(a[k], b[k], f"{path}/{k}", out)
        return
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if not _same(x, y):
                _where(x, y, f"{path}[{i}]", out)
        return
    if isinstance(a, np.ndarray):
        bad = np.argwhere(~np.isclose(a, b, rtol=0, atol=0, equal_nan=True)) if a.shape == np.shape(b) else []
        out.append(f"{path}: {len(bad)} entries differ (first {bad[:3].tolist()})")
        return
    out.append(f"{path}: {str(a)[:200]} != {str(b)[:200]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=("freeze", "check"))
    ap.add_argument("path", type=Path)
    ap.add_argument("--designs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="numba threads for the batch cases")
    args = ap.parse_args()
    if args.action == "check" and not args.path.is_file():
        print(f"error: no reference at {args.path}", file=sys.stderr)
        sys.exit(2)
    t0 = time.process_time()
    now = compute(args.designs, args.seed, args.threads)
    print(f"computed {len(now)} cases in {time.process_time() - t0:.1f} s CPU")
    if args.action == "freeze":
        args.path.parent.mkdir(parents=True, exist_ok=True)
        with args.path.open("wb") as f:
            pickle.dump({"designs": args.designs, "seed": args.seed, "results": now}, f)
        print(f"froze {args.path}")
        return
    with args.path.open("rb") as f:
        ref = pickle.load(f)
    if (ref["designs"], ref["seed"]) != (args.designs, args.seed):
        print(f"error: the reference was frozen with --designs {ref['designs']} --seed {ref['seed']}")
        sys.exit(2)
    diffs: list[str] = []
    _where(ref["results"], now, "", diffs)
    if not diffs:
        print(f"IDENTICAL ({len(now)} cases)")
        return
    print(f"DIFFERENT: {len(diffs)} places")
    for line in diffs[:40]:
        print(" ", line)
    sys.exit(1)


if __name__ == "__main__":
    main()
