"""Small benchmark files in the published formats, written by the tests (the real ones are GBs).

Layouts read from the official APIs' sources (nas-bench-201 2.1 ``api_201.py``/``api_utils.py``,
nats_bench 1.8 ``api_topology.py``/``api_utils.py``, HW-NAS-Bench ``hw_nas_bench_api.py``):

* a trial (``ResultsCount`` state): per-epoch ``train_acc1es``/``train_losses``/``train_times``
  dicts, ``eval_acc1es``/``eval_losses``/``eval_times`` keyed ``"<split>@<epoch>"``,
  ``epochs``, ``seed``, ``flop``, ``params``, ``latency``, ``arch_config``;
* an ``ArchResults`` state: ``arch_index``, ``arch_str``, ``all_results`` keyed
  ``(dataset, seed)``, ``dataset_seed``;
* NAS-Bench-201 ``.pth``: ``torch.save({"meta_archs", "arch2infos": {i: {"less", "full"}},
  "evaluated_indexes"})``; NATS-Bench tss: the same with ``{"12", "200"}`` per cell, bz2-pickled,
  or a directory with ``meta.pickle.pbz2`` and ``<index:06d>.pickle.pbz2``;
* HW-NAS-Bench: ``pickle`` of ``{"nasbench201": {dataset: {"<device>_<metric>": [per index],
  "config": [{"arch_str": ...}, ...]}}}``.

Values are a known function of the cell (:func:`accuracy_of`) so tests can check lookups.
"""

from __future__ import annotations

import bz2
import pickle
from pathlib import Path

import numpy as np
import torch

RUNS = {  # dataset run -> its evaluation splits
    "cifar10-valid": ("x-valid", "ori-test"),
    "cifar10": ("ori-test",),
    "cifar100": ("x-valid", "x-test", "ori-test"),
    "ImageNet16-120": ("x-valid", "x-test", "ori-test"),
}
CLASSES = {"cifar10-valid": 10, "cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}
SEEDS = (777, 888)


def accuracy_of(arch: str, run: str, split: str, epochs: int, seed: int) -> float:
    """Accuracy (%) stored for a trial: more 3x3 convs and longer schedules score higher."""
    convs = arch.count("nor_conv_3x3") + 0.5 * arch.count("nor_conv_1x1")
    base = {"cifar10-valid": 80.0, "cifar10": 82.0, "cifar100": 55.0, "ImageNet16-120": 28.0}[run]
    return (
        base
        + 2.0 * convs
        + (5.0 if epochs == 200 else 0.0)
        + (0.5 if split == "x-test" else 0.0)
        + (0.2 if seed == 888 else -0.2)
    )


def _trial(arch: str, run: str, epochs: int, seed: int) -> dict:
    ep = range(epochs)
    accs, losses, times = {}, {}, {}
    for split in RUNS[run]:
        for e in ep:
            accs[f"{split}@{e}"] = accuracy_of(arch, run, split, epochs, seed) * (e + 1) / epochs
            losses[f"{split}@{e}"] = 1.0
            times[f"{split}@{e}"] = 0.5
    return {
        "name": run,
        "net_state_dict": None,
        "train_acc1es": {e: 90.0 for e in ep},
        "train_acc5es": None,
        "train_losses": {e: 0.3 for e in ep},
        "train_times": {e: 10.0 + arch.count("conv") for e in ep},  # seconds per epoch
        "arch_config": {
            "name": "infer.tiny",
            "channel": 16,
            "num_cells": 5,
            "arch_str": arch,
            "class_num": CLASSES[run],
        },
        "params": 0.1,
        "flop": 10.0,
        "seed": seed,
        "epochs": epochs,
        "latency": [0.01],
        "eval_names": list(RUNS[run]),
        "eval_acc1es": accs,
        "eval_times": times,
        "eval_losses": losses,
    }


def _arch_results(index: int, arch: str, epochs: int, runs=tuple(RUNS)) -> dict:
    all_results, dataset_seed = {}, {}
    for run in runs:
        dataset_seed[run] = list(SEEDS)
        for seed in SEEDS:
            all_results[(run, seed)] = _trial(arch, run, epochs, seed)
    return {
        "arch_index": index,
        "arch_str": arch,
        "all_results": all_results,
        "dataset_seed": dataset_seed,
        "clear_net_done": False,
    }


def write_nb201_pth(path: Path, archs: list[str], *, v1_0: bool = False) -> Path:
    """A NAS-Bench-201 ``.pth`` (v1_0: 12-epoch results for cifar10-valid only)."""
    less_runs = ("cifar10-valid",) if v1_0 else tuple(RUNS)
    data = {
        "meta_archs": list(archs),
        "arch2infos": {
            i: {"less": _arch_results(i, a, 12, less_runs), "full": _arch_results(i, a, 200)}
            for i, a in enumerate(archs)
        },
        "evaluated_indexes": list(range(len(archs))),
    }
    torch.save(data, path)
    return path


def write_nats_tss(path: Path, archs: list[str], *, directory: bool = False) -> Path:
    """A NATS-Bench topology file (``.pickle.pbz2``) or fast-mode archive directory."""
    per_arch = {
        i: {"12": _arch_results(i, a, 12), "200": _arch_results(i, a, 200)} for i, a in enumerate(archs)
    }
    if directory:
        path.mkdir(parents=True, exist_ok=True)
        with bz2.BZ2File(path / "meta.pickle.pbz2", "wb", compresslevel=1) as f:
            pickle.dump({"meta_archs": list(archs)}, f)
        for i, rec in per_arch.items():
            with bz2.BZ2File(path / f"{i:06d}.pickle.pbz2", "wb", compresslevel=1) as f:
                pickle.dump(rec, f)
        return path
    with bz2.BZ2File(path, "wb", compresslevel=1) as f:
        pickle.dump(
            {"meta_archs": list(archs), "arch2infos": per_arch, "evaluated_indexes": list(per_arch)}, f
        )
    return path


HW_DEVICE_METRICS = (
    "edgegpu_latency",
    "edgegpu_energy",
    "raspi4_latency",
    "edgetpu_latency",
    "pixel3_latency",
    "eyeriss_latency",
    "eyeriss_energy",
    "eyeriss_arithmetic_intensity",
    "fpga_latency",
    "fpga_energy",
)


def write_hwnasbench(path: Path, archs: list[str], values: dict[str, list[float]] | None = None) -> Path:
    """An HW-NAS-Bench pickle for the NAS-Bench-201 space (``values``: metric -> per arch; others derived)."""
    values = values or {}
    table = {}
    for ds, classes in (("cifar10", 10), ("cifar100", 100), ("ImageNet16-120", 120)):
        entry: dict = {
            "config": [
                {"name": "infer.tiny", "C": 16, "N": 5, "arch_str": a, "num_classes": classes} for a in archs
            ]
        }
        for k, m in enumerate(HW_DEVICE_METRICS):
            default = [1.0 + k + 0.1 * a.count("conv") for a in archs]
            entry[m] = np.asarray(values.get(m, default), dtype=np.float64)
        table[ds] = entry
    with open(path, "wb") as f:
        pickle.dump({"nasbench201": table, "fbnet": {}}, f)
    return path
