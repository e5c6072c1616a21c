"""The ``nb201`` evaluator reads NAS-Bench-201 / NATS-Bench files through the official APIs.

The files are generated here in the published layouts (see ``_nasbench_files``); values are a
known function of the cell, so each lookup is checked against what the file holds.
"""

import bz2
import pickle

import numpy as np
import pytest
import torch
from _nas_fixtures import one_torch_thread  # noqa: F401
from _nasbench_files import SEEDS, accuracy_of, write_nats_tss, write_nb201_pth

from archgym.envs.nas.block_space import BlockSpace
from archgym.envs.nas.cell_space import CellSpace, arch_string, parse_arch_string, uniform_cell
from archgym.envs.nas.env import make_nas_env
from archgym.envs.nas.nasbench import BenchmarkFileError, NB201Evaluator

pytest.importorskip("nas_201_api", reason="needs the nasbench extra")
pytest.importorskip("nats_bench", reason="needs the nasbench extra")

MIXED = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"


def _archs() -> list[str]:
    rng = np.random.default_rng(0)
    space = CellSpace()
    archs = {arch_string(space.sample(rng)) for _ in range(6)}
    archs |= {arch_string(uniform_cell(op)) for op in ("none", "conv3x3")}
    archs.discard(MIXED)
    ordered = sorted(archs)
    return [*ordered[:3], MIXED, *ordered[3:]]  # MIXED neither first nor last


ARCHS = _archs()


def _expected(arch: str, run: str, split: str, epochs: int) -> float:
    return float(np.mean([accuracy_of(arch, run, split, epochs, s) for s in SEEDS])) / 100.0


@pytest.fixture(scope="module")
def nats_file(tmp_path_factory):
    return write_nats_tss(tmp_path_factory.mktemp("bench") / "NATS-tss-v1_0-test.pickle.pbz2", ARCHS)


@pytest.fixture(scope="module", params=["nb201-pth", "nats-file", "nats-dir"])
def bench_path(request, tmp_path_factory, nats_file):
    d = tmp_path_factory.mktemp("bench")
    if request.param == "nb201-pth":
        return write_nb201_pth(d / "NAS-Bench-201-v1_1-test.pth", ARCHS)
    if request.param == "nats-file":
        return nats_file
    return write_nats_tss(d / "NATS-tss-v1_0-test-simple", ARCHS, directory=True)


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "ImageNet16-120"])
@pytest.mark.parametrize("epochs", [12, 200])
def test_lookup_returns_the_files_values(bench_path, dataset, epochs):
    ev = NB201Evaluator(CellSpace(), bench_path, dataset, epochs)
    val_run, test_run, test_split = (
        ("cifar10-valid", "cifar10", "ori-test") if dataset == "cifar10" else (dataset, dataset, "x-test")
    )
    for arch in (MIXED, ARCHS[0], ARCHS[-1]):
        design = parse_arch_string(arch)
        got = ev(design)
        assert ev.index(design) == ARCHS.index(arch)  # mapped through our arch string
        assert got["accuracy"] == pytest.approx(_expected(arch, val_run, "x-valid", epochs))
        assert got["test_accuracy"] == pytest.approx(_expected(arch, test_run, test_split, epochs))
        assert got["train_time_s"] == pytest.approx(epochs * (10.0 + arch.count("conv")))
    assert ev(parse_arch_string(MIXED))["accuracy"] == _expected(MIXED, val_run, "x-valid", epochs)
    assert ev.cache.misses == 3 and ev.cache.hits == 1


def test_longer_schedule_and_bigger_cells_score_higher(bench_path):
    short, long = (NB201Evaluator(CellSpace(), bench_path, "cifar100", e) for e in (12, 200))
    big, empty = uniform_cell("conv3x3"), uniform_cell("none")
    assert long(big)["accuracy"] > short(big)["accuracy"] > short(empty)["accuracy"]
    assert long(big)["train_time_s"] > short(big)["train_time_s"]


def test_missing_and_foreign_files_are_clear_errors(tmp_path):
    with pytest.raises(BenchmarkFileError, match="does not exist"):
        NB201Evaluator(CellSpace(), tmp_path / "nope.pth")
    torch.save({"state_dict": {}}, tmp_path / "model.pth")
    with pytest.raises(BenchmarkFileError, match="not a NAS-Bench-201 file"):
        NB201Evaluator(CellSpace(), tmp_path / "model.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a pickle")
    with pytest.raises(BenchmarkFileError, match="junk.pth"):
        NB201Evaluator(CellSpace(), tmp_path / "junk.pth")
    sss = {"meta_archs": ["64:32:16:8:8"], "arch2infos": {}, "evaluated_indexes": []}
    with bz2.BZ2File(tmp_path / "NATS-sss-v1_0-50262.pickle.pbz2", "wb") as f:
        pickle.dump(sss, f)
    with pytest.raises(BenchmarkFileError, match="topology"):
        NB201Evaluator(CellSpace(), tmp_path / "NATS-sss-v1_0-50262.pickle.pbz2")
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(BenchmarkFileError, match="meta.pickle.pbz2"):
        NB201Evaluator(CellSpace(), tmp_path / "emptydir")


def test_version_without_the_requested_results(tmp_path):
    path = write_nb201_pth(tmp_path / "NAS-Bench-201-v1_0-test.pth", ARCHS, v1_0=True)
    ok = NB201Evaluator(CellSpace(), path, "cifar10", 12)(parse_arch_string(MIXED))
    assert ok["accuracy"] == pytest.approx(_expected(MIXED, "cifar10-valid", "x-valid", 12))
    with pytest.raises(KeyError, match="12-epoch results of cifar100"):
        NB201Evaluator(CellSpace(), path, "cifar100", 12)(parse_arch_string(MIXED))
    missing = next(a for a in (arch_string(uniform_cell(o)) for o in ("skip", "conv1x1")) if a not in ARCHS)
    with pytest.raises(KeyError, match="not in the benchmark"):
        NB201Evaluator(CellSpace(), path, "cifar10", 200)(parse_arch_string(missing))


def test_bad_settings(tmp_path):
    path = write_nb201_pth(tmp_path / "b.pth", ARCHS[:2])
    with pytest.raises(ValueError, match="cell space"):
        NB201Evaluator(BlockSpace(), path)
    with pytest.raises(ValueError, match="ImageNet16-120"):
        NB201Evaluator(CellSpace(), path, "imagenet")
    with pytest.raises(ValueError, match="12 or 200"):
        NB201Evaluator(CellSpace(), path, "cifar10", 90)
    with pytest.raises(ValueError, match="benchmark_path"):
        make_nas_env(evaluator="nb201")


def test_nas_env_searches_on_the_table(nats_file):
    path = nats_file
    env = make_nas_env(
        evaluator=["nb201", "proxy"],
        proxies=["params_m"],
        benchmark_path=str(path),
        benchmark_dataset="ImageNet16-120",
        benchmark_epochs=12,
    )
    ref = _expected(arch_string(uniform_cell("conv3x3")), "ImageNet16-120", "x-valid", 12)
    assert env.objective.targets["accuracy"] == pytest.approx(ref)  # calibrated on the reference cell
    good, bad = env.evaluate([uniform_cell("conv3x3"), uniform_cell("none")])
    assert good.metrics["accuracy"] == pytest.approx(ref)
    assert good.metrics["accuracy"] > bad.metrics["accuracy"]
    only_acc = make_nas_env(
        evaluator="nb201",
        hardware=False,
        benchmark_path=str(path),
        benchmark_dataset="ImageNet16-120",
        benchmark_epochs=12,
        targets={"accuracy": ref},
    )
    assert (
        only_acc.evaluate([uniform_cell("conv3x3")])[0].reward
        > only_acc.evaluate([uniform_cell("none")])[0].reward
    )
    assert {"test_accuracy", "train_time_s", "params_m", "latency_ms"} <= set(good.metrics)
