"""Proxy cost models: train each kind, score on a held-out split, save/load, run as a simulator in an env."""

import hashlib
import json
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from conftest import make_test_env

from archgym.dataset import load_dataset
from archgym.generate import generate_dataset
from archgym.proxy import (
    MODELS,
    ProxyDataError,
    ProxyModel,
    ProxySimulator,
    check_compatible,
    score,
    train_proxy,
    training_table,
)
from archgym.registry import ConfigError, make_agent
from archgym.runner import run_experiment
from archgym.simulator import use_simulator

FAST = {
    "rf": {"n_estimators": 30},
    "gbt": {"n_estimators": 100, "ensemble": 3},
    "gp": {"iterations": 30, "max_train": 300},
    "mlp": {"epochs": 60, "hidden": 64, "ensemble": 2},
}


@pytest.fixture(scope="module")
def quad_data(tmp_path_factory):
    out = tmp_path_factory.mktemp("quad") / "gen"
    res = generate_dataset(make_test_env(), out, 400, "sobol", seed=1, progress=False)
    assert res.designs == 400 and res.failed > 0  # units=13 fails in the test simulator
    return out


@pytest.fixture(scope="module")
def rf_file(quad_data, tmp_path_factory):
    model = train_proxy(training_table(load_dataset(quad_data)), "rf", **FAST["rf"])
    return model.save(tmp_path_factory.mktemp("proxy") / "quad-rf.agproxy")


def test_training_table_drops_failures_and_duplicates(quad_data):
    df = load_dataset(quad_data)
    table = training_table(df)
    assert len(table.designs) == int(df["error"].isna().sum())
    assert list(table.designs.columns) == ["mode", "units", "buffer", "freq"]
    assert list(table.targets.columns) == ["latency_ms", "power_mw"]
    with pytest.raises(ProxyDataError, match="unknown metric"):
        training_table(df, metrics=["nosuch"])
    mixed = df.copy()
    mixed.loc[:10, "workload"] = "other"
    with pytest.raises(ProxyDataError, match="--workload"):
        training_table(mixed)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_every_model_trains_scores_and_round_trips(quad_data, tmp_path, kind):
    table = training_table(load_dataset(quad_data))
    model = train_proxy(table, kind, seed=0, **FAST[kind])
    assert set(model.scores) == {"latency_ms", "power_mw"}
    for s in model.scores.values():
        assert set(s) == {"rmse", "rel_rmse", "mape", "spearman", "kendall", "n"} and s["n"] == round(
            0.2 * len(table.designs)
        )
        assert s["spearman"] > 0.8, (kind, model.scores)  # learns the ranking of a smooth model
    path = model.save(tmp_path / f"{kind}.agproxy")
    again = ProxyModel.load(path)
    x = table.designs.iloc[:16]
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-6)
    mean, std, outside = again.predict_dist(x)
    np.testing.assert_allclose(mean, model.predict(x), rtol=1e-6)
    assert std.shape == mean.shape and np.isfinite(std).all() and (std >= 0).all() and std.max() > 0
    assert not outside.any()  # training designs lie inside the training range
    assert again.scores == model.scores and again.env_id == "test/Quadratic-v0"
    prov = again.provenance
    assert prov["training_designs"] == len(table.designs) - round(0.2 * len(table.designs))
    assert (
        prov["held_out_designs"] == round(0.2 * len(table.designs))
        and len(prov["training_data_sha256"]) == 12
    )
    assert again.digest == model.digest  # the file's hash, the same as the model's bytes


def test_feature_encoder_levels_and_vectorised_transform():
    import pandas as pd

    from archgym.proxy.features import FeatureEncoder

    frame = pd.DataFrame({"mode": ["a", "b", "c", "a"], "size": [1, 2, 4, 8], "gain": [0.5, 1.5, 1.5, 0.5]})
    enc = FeatureEncoder.fit(frame)
    kinds = {f.name: (f.kind, f.levels) for f in enc.features}
    assert kinds == {
        "mode": ("onehot", []),
        "size": ("log2", [1, 2, 4, 8]),
        "gain": ("linear", []),
    }  # 2 levels: no block
    assert enc.width == 3 + 5 + 1
    x = enc.transform(frame)
    np.testing.assert_array_equal(x, enc.transform(frame.to_dict("records")))  # frame == list of dicts
    np.testing.assert_array_equal(x[:, 4:8], np.eye(4))  # one level each
    np.testing.assert_allclose(x[:, 3], (np.log2([1, 2, 4, 8]) - 1.5) / np.std(np.log2([1, 2, 4, 8])))
    new = enc.transform(
        [{"mode": "zz", "size": 3, "gain": 1.0}]
    )  # unseen category and level: zeros, numeric kept
    assert not new[0, :3].any() and not new[0, 4:8].any() and new[0, 3] != 0
    assert FeatureEncoder.from_dict(enc.to_dict()).transform(frame).tolist() == x.tolist()
    with pytest.raises(KeyError, match="lack parameter.*gain"):
        enc.transform([{"mode": "a", "size": 1}])


def test_mlp_early_stopping_and_ensemble(quad_data):
    table = training_table(load_dataset(quad_data))
    model = train_proxy(table, "mlp", seed=0, epochs=40, hidden=64, layers=2, ensemble=3)
    reg = model.regressor
    assert len(reg.nets) == 3 and all(0 <= e < 40 for e in reg.best_epochs)
    x = model.encoder.transform(table.designs.iloc[:8])
    import torch

    with torch.no_grad():  # the batched forward pass is the mean of the members
        members = np.mean([net(torch.as_tensor(x, dtype=torch.float32)).numpy() for net in reg.nets], axis=0)
    np.testing.assert_allclose(reg.predict(x), members, rtol=1e-4, atol=1e-5)
    assert all(s["spearman"] > 0.8 for s in model.scores.values()), model.scores


def test_score_is_exact_on_perfect_predictions():
    y = np.array([[1.0, 10.0], [2.0, 30.0], [3.0, 20.0]])
    s = score(y, y, ["a", "b"])
    assert s["a"]["rmse"] == 0 and s["a"]["rel_rmse"] == 0 and s["b"]["spearman"] == pytest.approx(1.0)
    s = score(y, y * 1.1, ["a", "b"])
    assert s["a"]["rel_rmse"] == pytest.approx(0.1 * np.sqrt(np.mean(y[:, 0] ** 2)) / 2.0)


def test_proxy_runs_as_the_env_simulator_with_any_agent(rf_file, tmp_path):
    env = make_test_env()
    use_simulator(env, {"name": "proxy", "path": str(rf_file)})
    assert isinstance(env.simulator, ProxySimulator) and env.simulator.version == "proxy-rf[quadratic-test-1]"
    assert env.simulator.source == f"proxy:rf:{hashlib.sha256(rf_file.read_bytes()).hexdigest()[:12]}"
    assert [m.unit for m in env.simulator.metrics] == ["ms", "mW"]  # the env's metric definitions are kept
    obs, _ = env.reset(seed=0)
    obs, reward, *_, info = env.step(env.action_space.sample())
    assert np.isfinite(obs).all() and 0 < reward <= 1 and info["metrics"]["latency_ms"] > 0
    result = make_agent("rw", env.space, seed=0).run(env, budget=20)
    assert result.evaluations == 20 and result.best is not None
    # vectorised batch == one by one
    designs = [env.space.sample(np.random.default_rng(i)) for i in range(8)]
    batch = env.simulator.evaluate_many(designs, env.workload)
    single = [env.simulator.evaluate(d, env.workload) for d in designs]
    for b, o in zip(batch, single):
        assert b == pytest.approx(o)


def test_incompatible_or_missing_proxy_gives_clear_errors(rf_file, tmp_path):
    with pytest.raises(ConfigError, match="env.simulator.path: no proxy file at .*missing.agproxy"):
        use_simulator(make_test_env(), {"name": "proxy", "path": str(tmp_path / "missing.agproxy")})
    with pytest.raises(ConfigError, match="env.simulator.path: missing"):
        use_simulator(make_test_env(), {"name": "proxy", "path": "???"})
    with pytest.raises(ConfigError, match="unknown simulator 'nosuch'"):
        use_simulator(make_test_env(), {"name": "nosuch"})
    model = ProxyModel.load(rf_file)
    other = make_test_env()
    other.workload_name = "w128"
    with pytest.raises(ValueError, match="workload 'w128'"):
        check_compatible(model, other)
    check_compatible(model, other, check_workload=False)
    (tmp_path / "junk.agproxy").write_text("not a proxy")
    with pytest.raises(ConfigError, match="not an archgym proxy file"):
        use_simulator(make_test_env(), {"name": "proxy", "path": str(tmp_path / "junk.agproxy")})


def test_a_crafted_pickle_is_refused_without_running_it(rf_file, tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:  # unpickling this would create the marker file
        def __reduce__(self):
            return (open, (str(marker), "w"))

    for name, data in {
        "plain.agproxy": pickle.dumps(Exploit()),
        "protocol0.agproxy": pickle.dumps(Exploit(), protocol=0),
    }.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match="archgym proxy"):
            ProxyModel.load(tmp_path / name)
        assert not marker.exists()
    assert "pickle/joblib file: refusing" in _error(tmp_path / "plain.agproxy")
    # a proxy archive with a pickle smuggled in beside the expected members is refused too
    smuggled = tmp_path / "smuggled.agproxy"
    with zipfile.ZipFile(rf_file) as src, zipfile.ZipFile(smuggled, "w") as dst:
        for item in src.namelist():
            dst.writestr(item, src.read(item))
        dst.writestr("model.pkl", pickle.dumps(Exploit()))
    with pytest.raises(ValueError, match="unexpected member.*model.pkl"):
        ProxyModel.load(smuggled)
    assert not marker.exists()
    damaged = tmp_path / "damaged.agproxy"
    damaged.write_bytes(rf_file.read_bytes()[:-300])  # a truncated download
    with pytest.raises(ValueError, match="damaged.agproxy is not .*archgym proxy"):
        ProxyModel.load(damaged)


def _error(path) -> str:
    try:
        ProxyModel.load(path)
    except ValueError as exc:
        return str(exc)
    return ""


def test_std_and_out_of_range_are_logged_beside_the_metrics(rf_file, tmp_path):
    env = make_test_env()
    use_simulator(env, {"name": "proxy", "path": str(rf_file)})
    sim = env.simulator
    inside = {"mode": "a", "units": 8, "buffer": 64, "freq": 1.0}
    outside = {**inside, "units": 40}  # the space stops at 16: never in the training data
    unseen = {**inside, "mode": "zz"}
    a, b, c = sim.evaluate_many([inside, outside, unseen], None)
    assert (a["out_of_range"], b["out_of_range"], c["out_of_range"]) == (0.0, 1.0, 1.0)
    assert a["latency_ms_std"] > 0 and a["power_mw_std"] > 0
    result = make_agent("random", env.space, seed=0).run(env, budget=10)
    assert result.evaluations == 10
    ev = result.best
    assert set(ev.extra) == {"latency_ms_std", "power_mw_std", "out_of_range"}


@pytest.fixture(scope="module")
def accel_proxy(tmp_path_factory):
    root = tmp_path_factory.mktemp("accel")
    generate_dataset("archgym/Accelerator-v0", root / "gen", 150, "random", progress=False)
    model = train_proxy(training_table(load_dataset(root / "gen")), "rf", n_estimators=20)
    return model.save(root / "accel-rf.agproxy")


def test_runner_uses_proxy_from_config(accel_proxy, tmp_path):
    cfg = {
        "env": {
            "id": "archgym/Accelerator-v0",
            "kwargs": {"workload": "resnet18"},
            "simulator": {"name": "proxy", "path": str(accel_proxy)},
        },
        "agent": {"name": "random", "params": {}},
        "budget": 12,
        "seed": 0,
        "progress": False,
    }
    summary = run_experiment(cfg, tmp_path / "run")
    df = load_dataset(tmp_path / "run")
    assert summary.complete and len(df) == 12
    assert df["simulator_version"].str.startswith("proxy-rf[").all()
    metrics = [c[len("metric.") :] for c in df.columns if c.startswith("metric.")]
    for m in metrics:  # the predictive std of each metric is logged beside it
        # (zero for a metric the training data holds constant: energy_noc_pj, which the
        # hierarchy model does not separate from the memories' access energy)
        spread = df[f"metric.{m}"].nunique() > 1
        assert ((df[f"extra.{m}_std"] > 0) == spread).all(), m
    assert set(df["extra.out_of_range"]) <= {0.0, 1.0}
    # a proxy trained on another workload is refused unless asked
    cfg["env"]["kwargs"]["workload"] = "vgg16"
    with pytest.raises(ConfigError, match="runs workload 'vgg16"):
        run_experiment(cfg, tmp_path / "run2")


@pytest.mark.slow
def test_cli_train_then_run_with_env_simulator_proxy(tmp_path):
    py = [sys.executable, "-m", "archgym.cli"]
    gen = subprocess.run(
        [
            *py,
            "generate",
            "--env",
            "archgym/Accelerator-v0",
            "-n",
            "60",
            "--sampler",
            "sobol",
            "-o",
            str(tmp_path / "gen"),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert gen.returncode == 0, gen.stderr
    assert "simulated 60 designs" in gen.stdout
    train = subprocess.run(
        [
            *py,
            "proxy",
            "train",
            str(tmp_path / "gen"),
            "-m",
            "gbt",
            "--param",
            "n_estimators=50",
            "-o",
            str(tmp_path / "p.agproxy"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert train.returncode == 0, train.stderr
    assert "rel RMSE" in train.stdout and "latency_ms" in train.stdout and (tmp_path / "p.agproxy").exists()
    for action in ("eval", "info"):
        args = [str(tmp_path / "p.agproxy")] + ([str(tmp_path / "gen")] if action == "eval" else [])
        shown = subprocess.run([*py, "proxy", action, *args], capture_output=True, text=True, timeout=300)
        assert shown.returncode == 0, shown.stderr
        assert all(h in shown.stdout for h in ("RMSE", "rel RMSE", "MAPE", "Kendall")), shown.stdout
    assert "source proxy:gbt:" in shown.stdout and "training_data_sha256" in shown.stdout
    run = subprocess.run(
        [
            *py,
            "run",
            "env=accelerator",
            "agent=random",
            "budget=5",
            "progress=false",
            "env.simulator=proxy",
            f"env.simulator.path={tmp_path / 'p.agproxy'}",
            f"hydra.run.dir={tmp_path / 'run'}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["evaluations"] == 5
    assert load_dataset(tmp_path / "run")["simulator_version"].iloc[0].startswith("proxy-gbt[")
    bad = subprocess.run(
        [
            *py,
            "run",
            "env=accelerator",
            "budget=5",
            "env.simulator=proxy",
            f"env.simulator.path={tmp_path / 'nope.agproxy'}",
            f"hydra.run.dir={tmp_path / 'r2'}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2 and "archgym: error: env.simulator.path: no proxy file at" in bad.stderr
    missing = subprocess.run(
        [*py, "proxy", "info", str(tmp_path / "nope.agproxy")], capture_output=True, text=True
    )
    assert missing.returncode == 2 and "nope.agproxy" in missing.stderr


@pytest.mark.slow
def test_bench_proxy_json_shape(tmp_path):
    from pathlib import Path

    bench = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_proxy.py"
    cmd = [sys.executable, str(bench), "--env", "archgym/Accelerator-v0", "-n", "80", "--models", "gbt,mlp"]
    cmd += ["--param", "gbt.n_estimators=20", "--param", "mlp.epochs=5", "--data", str(tmp_path / "d")]
    cmd.append("--json")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert set(out["models"]) == {"gbt", "mlp"}
    for entry in out["models"].values():
        assert set(entry["speedup"]) == {"batch_1000", "batch_1000_dicts", "single"}
        assert entry["speedup"]["batch_1000"] > 0 and entry["speedup"]["batch_1000_dicts"] > 0
        assert "latency_ms" in entry["metrics"]  # metric names come from the env
        for m in entry["metrics"].values():
            assert {"rel_rmse", "mape", "kendall_tau"} <= set(m)
