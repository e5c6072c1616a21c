"""`archgym validate`: re-evaluating a dataset's best / Pareto designs with another simulator."""

import numpy as np
import pytest

from archgym.cli.validate import main
from archgym.dataset import load_dataset
from archgym.report import pareto_mask
from archgym.validate import spearman, validate


def test_pareto_mask_and_spearman():
    v = np.array([[1.0, 5.0], [2.0, 2.0], [3.0, 3.0], [5.0, 1.0], [1.0, 5.0]])
    assert pareto_mask(v).tolist() == [True, True, False, True, True]
    assert pareto_mask(v * [-1.0, 1.0]).tolist() == [False, False, False, True, False]  # maximise column 0
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert np.isnan(spearman([1.0], [2.0]))


@pytest.fixture
def accel_run(tmp_path):
    from archgym.envs.accelerator.env import make_accelerator_env
    from archgym.logger import DatasetLogger, RunInfo

    env = make_accelerator_env("alexnet", targets={"latency_ms": 20.0, "energy_uj": 3000.0, "area_mm2": 3.0})
    base = env.unwrapped
    info = RunInfo("r1", base.env_id, base.workload_name, base.simulator.version, "random", 0)
    rng = np.random.default_rng(0)
    with DatasetLogger(tmp_path / "run" / "dataset", info, base.space, base.simulator.metric_names) as log:
        base.add_recorder(log)
        base.evaluate([base.space.from_indices(i) for i in base.space.sample_indices(rng, 40)])
    return tmp_path / "run"


def test_validate_with_the_same_simulator_agrees_and_writes_rows(accel_run, capsys):
    report = validate([accel_run], {"name": "native"}, {"workload": "alexnet"}, top=5, progress=False)
    assert len(report.designs) >= 5 and not any(report.errors)
    by = {c.metric: c for c in report.comparisons}
    assert by["energy_uj"].spearman == pytest.approx(1.0) and by["latency_ms"].ratio_median == pytest.approx(
        1.0
    )
    assert (load_dataset(accel_run)["agent"] == "random").all()  # validation rows only when asked for
    # the fixture's rows record no objective, the validation's do: two objectives, both wanted here
    df = load_dataset(accel_run, include_validation=True, allow_mixed=True)
    assert (df["agent"] == "validate").sum() == len(report.designs) and (df["agent"] == "random").sum() == 40
    # a second validation does not re-select the first one's rows
    assert main([str(accel_run), "--simulator", "native", "--top", "3", "-k", "workload=alexnet"]) == 0
    assert "spearman" in capsys.readouterr().out


def test_validate_errors(accel_run, tmp_path):
    with pytest.raises(FileNotFoundError):
        validate([tmp_path / "nothing"], {"name": "native"})
    with pytest.raises(ValueError, match="-k workload=NAME"):
        validate([accel_run], {"name": "native"}, {"workload": "vgg16"}, progress=False)
