"""benchmarks/bench_nas.py on generated benchmark files: the comparisons pair the right records."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from _nas_fixtures import one_torch_thread  # noqa: F401
from _nasbench_files import write_hwnasbench, write_nats_tss

from archgym.envs.accelerator import EYERISS_LIKE
from archgym.envs.nas.cell_space import CellSpace, arch_string, parse_arch_string
from archgym.envs.nas.hardware import HardwareCost

pytest.importorskip("nats_bench", reason="needs the nasbench extra")

_spec = importlib.util.spec_from_file_location(
    "bench_nas", Path(__file__).parents[1] / "benchmarks" / "bench_nas.py"
)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_proxy_taus_against_a_nasbench_file(tmp_path, capsys):
    designs = bench.distinct_designs(CellSpace(), 6, 0)  # what the benchmark will draw
    path = write_nats_tss(tmp_path / "nats.pickle.pbz2", [arch_string(d) for d in designs])
    bench.main(
        [
            "--benchmark",
            str(path),
            "--archs",
            "6",
            "--channels",
            "4",
            "--cells",
            "1",
            "--hw-accelerators",
            "4",
        ]
    )
    out = capsys.readouterr().out
    assert "NAS-Bench-201 cifar10 200-epoch validation accuracy" in out and "NAS-Bench-201 lookup" in out
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("Kendall tau")) + 1
    taus = [line.split() for line in lines[first:]]
    assert [t[0] for t in taus] == [*bench.PROXIES, "latency"]


def test_model_vs_hwnasbench_pairs_each_cell_with_its_figures(tmp_path, capsys):
    space = CellSpace((3, 32, 32), 10, channels=16, cells_per_stage=5)
    archs = sorted({arch_string(space.sample(np.random.default_rng(s))) for s in range(8)})
    hw = HardwareCost(space)
    mine = [hw.cost(parse_arch_string(a), [EYERISS_LIKE])[0]["latency_ms"] for a in archs]
    # "measured" Eyeriss latency = the model's own: a correct pairing must give tau = +1
    path = write_hwnasbench(
        tmp_path / "hw.pickle", archs, {"eyeriss_latency": mine, "fpga_latency": [-m for m in mine]}
    )
    bench.main(["--skip-proxies", "--hwnasbench", str(path), "--hw-archs", "8"])
    rows = {
        line.split()[1]: line.split()
        for line in capsys.readouterr().out.splitlines()
        if line.strip().startswith(("latency_ms", "energy_uj"))
    }
    assert rows["eyeriss_latency"][2:4] == ["+1.000", "+1.000"]
    assert rows["fpga_latency"][2:4] == ["-1.000", "-1.000"]
    assert {"edgegpu_energy", "eyeriss_energy", "fpga_energy", "raspi4_latency"} <= set(rows)
