"""``hardware="hwnasbench:<device>"``: measured figures from an HW-NAS-Bench pickle, beside the model's."""

import pickle

import numpy as np
import pytest
from _nas_fixtures import one_torch_thread  # noqa: F401
from _nasbench_files import HW_DEVICE_METRICS, write_hwnasbench

from archgym.envs.nas.block_space import BlockSpace
from archgym.envs.nas.cell_space import CellSpace, arch_string, parse_arch_string, uniform_cell
from archgym.envs.nas.env import make_nas_env
from archgym.envs.nas.hwnasbench import HW_DEVICES, HWNASBenchTable, MeasuredHardware, parse_hardware

ARCHS = sorted({arch_string(CellSpace().sample(np.random.default_rng(s))) for s in range(8)}) + [
    arch_string(uniform_cell("conv3x3")),
    arch_string(uniform_cell("none")),
]


@pytest.fixture(scope="module")
def hw_file(tmp_path_factory):
    # distinct, known values per metric and architecture (index k of metric m: 100*m + k)
    values = {m: [100.0 * j + k for k in range(len(ARCHS))] for j, m in enumerate(HW_DEVICE_METRICS)}
    return write_hwnasbench(tmp_path_factory.mktemp("hw") / "HW-NAS-Bench-v1_0.pickle", ARCHS, values)


@pytest.mark.parametrize("device", list(HW_DEVICES))
def test_device_figures_are_looked_up_by_arch_string(hw_file, device):
    m = MeasuredHardware(CellSpace(), device, hw_file, "cifar100")
    names = [x.name for x in m.metrics]
    assert names[0] == f"{device}_latency_ms"
    assert (f"{device}_energy_uj" in names) == ("energy" in HW_DEVICES[device])
    j_lat = HW_DEVICE_METRICS.index(f"{device}_latency")
    for k in (0, len(ARCHS) - 1, 3):
        got = m(parse_arch_string(ARCHS[k]))
        assert got[f"{device}_latency_ms"] == 100.0 * j_lat + k
        if "energy" in HW_DEVICES[device]:
            j_e = HW_DEVICE_METRICS.index(f"{device}_energy")
            assert got[f"{device}_energy_uj"] == pytest.approx((100.0 * j_e + k) * 1000.0)  # mJ -> uJ


def test_env_reports_measured_beside_model_and_can_target_either(hw_file):
    env = make_nas_env(
        proxies=["params_m"],
        hardware="hwnasbench:eyeriss",
        hwnasbench_path=str(hw_file),
        targets={"eyeriss_latency_ms": 10.0},
    )
    names = env.simulator.metric_names
    assert {"eyeriss_latency_ms", "eyeriss_energy_uj", "latency_ms", "energy_uj", "area_mm2"} <= set(names)
    assert env.objective.modes == {"eyeriss_latency_ms": "at_most"}
    big = env.evaluate([uniform_cell("conv3x3")])[0]
    k = ARCHS.index(arch_string(uniform_cell("conv3x3")))
    assert big.metrics["eyeriss_latency_ms"] == 100.0 * HW_DEVICE_METRICS.index("eyeriss_latency") + k
    assert big.metrics["latency_ms"] > 0  # the accelerator model's estimate is still there


def test_bad_inputs(hw_file, tmp_path):
    with pytest.raises(ValueError, match="hwnasbench:<device>"):
        parse_hardware("hwnasbench:tpu")
    with pytest.raises(ValueError, match="hwnasbench:<device>"):
        parse_hardware("measured")
    assert parse_hardware(True) == (True, None) and parse_hardware("hwnasbench:fpga") == (True, "fpga")
    with pytest.raises(ValueError, match="hwnasbench_path"):
        make_nas_env(hardware="hwnasbench:fpga")
    with pytest.raises(FileNotFoundError, match="nope.pickle"):
        HWNASBenchTable(tmp_path / "nope.pickle")
    (tmp_path / "other.pickle").write_bytes(pickle.dumps({"results": []}))
    with pytest.raises(ValueError, match="not an HW-NAS-Bench file"):
        HWNASBenchTable(tmp_path / "other.pickle")
    with pytest.raises(ValueError, match="cell space"):
        MeasuredHardware(BlockSpace(), "fpga", hw_file)
    with pytest.raises(KeyError, match="not in the HW-NAS-Bench file"):
        small = write_hwnasbench(tmp_path / "small.pickle", ARCHS[:2])
        MeasuredHardware(CellSpace(), "fpga", small)(parse_arch_string(ARCHS[-1]))
