"""load_dataset returns one run set and says what it left out; validate and proxy eval use the
runs' own settings and refuse a workload the proxy was not trained on."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd
import pytest
from conftest import make_test_env

from archgym.dataset import LeftOutWarning, load_dataset
from archgym.logger import DatasetLogger, RunInfo
from archgym.merge import merge_runs
from archgym.objective import objective_spec
from archgym.proxy.cli import eval_workload, rank_interval, small_data_warning
from archgym.proxy.core import ProxyDataError
from archgym.runner import run_experiment
from archgym.validate import recorded_env_kwargs

CFG = {"agent": {"name": "random", "params": {}}, "progress": False, "budget": 8}


def _run(out, env_id="test/Quadratic-v0", seed=0, **env_kw):
    env = make_test_env(**env_kw)
    env.env_id = env_id
    return run_experiment({**CFG, "env": {"id": env_id}, "seed": seed}, out, env=env)


def _validation_rows(run_dir, n=3):
    """What ``archgym validate`` writes beside a run: ``<run>/validation-<name>/part-*.parquet``."""
    from archgym.evaluation import Evaluation

    env = make_test_env()
    objective = objective_spec(env.objective)
    info = RunInfo("validate-x", env.env_id, "w64", "second-sim-1", "validate", 0, objective=objective)
    rows = load_dataset(run_dir).head(n)
    with DatasetLogger(run_dir / "validation-second", info, env.space, ["latency_ms", "power_mw"]) as log:
        for step, (_, r) in enumerate(rows.iterrows(), 1):
            design = {p: r[f"param.{p}"] for p in env.space.names}
            log.log(Evaluation(design, {"latency_ms": 1.0, "power_mw": 1.0}, 0.5, True, False, step=step))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runset")
    _run(root / "a")
    _run(root / "b", seed=1)
    _run(root / "other-env", env_id="test/Other-v0", seed=2)
    _run(root / "other-target", seed=3, targets={"latency_ms": 9.0, "power_mw": 3.0})
    _run(root / "cut", seed=4)
    (root / "cut" / "summary.json").unlink()  # what a kill leaves
    _validation_rows(root / "a")
    return root


def test_one_run_set_by_default_with_a_warning_naming_the_rest(runs):
    with pytest.warns(LeftOutWarning) as caught:
        df = load_dataset(runs)
    msg = str(caught[0].message)
    assert "3 rows of archgym validate (include_validation=True" in msg
    assert f"1 incomplete run(s) ({runs / 'cut'}" in msg
    assert "other envs test/Other-v0 (8 rows), keeping test/Quadratic-v0" in msg
    assert "other objectives" in msg and "(8 rows)" in msg
    assert set(df["run_id"].str.len() > 0) == {True} and df["run_id"].nunique() == 2  # runs a and b
    assert (df["agent"] == "random").all() and df["objective_hash"].nunique() == 1


def test_the_options_bring_back_what_was_left_out(runs):
    one = load_dataset(runs / "a", include_validation=True)  # same env and objective: no warning
    assert (one["agent"] == "validate").sum() == 3 and (one["agent"] == "random").sum() == 8
    with pytest.warns(LeftOutWarning):
        other = load_dataset(runs, env="test/Other-v0")
    assert set(other["env_id"]) == {"test/Other-v0"}
    everything = load_dataset(runs, complete_only=False, include_validation=True, allow_mixed=True)
    assert len(everything) == 5 * 8 + 3
    with (
        pytest.raises(ValueError, match="no rows left.*incomplete.*complete_only=False"),
        pytest.warns(LeftOutWarning),
    ):
        load_dataset(runs / "cut")


def test_merge_leaves_validation_rows_out_and_says_so(runs):
    df, stats = merge_runs([runs / "a", runs / "b"])
    assert stats.validation_rows_dropped == 3 and not stats.incomplete_runs
    assert "3 rows of archgym validate left out" in stats.describe() and len(df) <= 16


def test_validate_takes_the_env_kwargs_the_runs_recorded():
    df = pd.DataFrame({"env_kwargs": [json.dumps({"workload": "stream", "n": 3})] * 2})
    assert recorded_env_kwargs(df, {}) == {"workload": "stream", "n": 3}
    assert recorded_env_kwargs(df, {"n": 5}) == {"workload": "stream", "n": 5}
    two = pd.DataFrame(
        {"env_kwargs": [json.dumps({"workload": "a", "n": 3}), json.dumps({"workload": "b", "n": 3})]}
    )
    assert recorded_env_kwargs(two, None) == {"n": 3}  # only what every run shares


def test_proxy_eval_refuses_a_workload_mismatch_unless_allowed():
    model = SimpleNamespace(env_id="archgym/DRAMController-v0", workload="random")
    data = pd.DataFrame({"env_id": ["archgym/DRAMController-v0"] * 2, "workload": ["stream", "stream"]})
    with pytest.raises(
        ProxyDataError,
        match="trained on workload 'random', the data holds 'stream'.*--allow-workload-mismatch",
    ):
        eval_workload(model, data, None, False)
    assert eval_workload(model, data, None, True) == "stream"
    with pytest.raises(ProxyDataError, match="models archgym/DRAMController-v0; the data holds test/X"):
        eval_workload(model, data.assign(env_id="test/X"), None, True)
    assert eval_workload(model, data.assign(workload="random"), None, False) == "random"


def test_proxy_train_warns_on_few_designs_and_gives_intervals():
    assert small_data_warning(13, 0.2).startswith("only 13 unique designs (10 to train, 3 held out)")
    assert small_data_warning(500, 0.2) is None
    lo, hi = rank_interval(1.0, 3, "kendall")
    assert lo != lo and hi != hi  # NaN: three pairs give no interval
    lo, hi = rank_interval(0.8, 30, "kendall")
    wide = hi - lo
    lo2, hi2 = rank_interval(0.8, 300, "kendall")
    assert lo < 0.8 < hi and lo2 < 0.8 < hi2 and hi2 - lo2 < wide / 2.5  # narrows like 1/sqrt(n)
    # Kendall's tau = 0.5 over n = 50: se = sqrt(0.437 / 46) = 0.0975 in Fisher z
    lo, hi = rank_interval(0.5, 50, "kendall")
    assert lo == pytest.approx(0.3437, abs=1e-3) and hi == pytest.approx(0.6294, abs=1e-3)
