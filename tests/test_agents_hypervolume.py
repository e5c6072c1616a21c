"""Hypervolume of the feasible front: known volumes, the reference point an env records,
the per-evaluation curve, the run summary and the report's table and figure."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _agent_fixtures import real_env

from archgym.hypervolume import (
    REFERENCE_FACTOR,
    HypervolumeReference,
    hypervolume,
    hypervolume_curve,
)


def test_known_volumes():
    assert hypervolume(np.array([[1.0, 1.0]])) == pytest.approx(1.0)
    # union of [0,2]x[0,1] and [0,1]x[0,2] = 3; a dominated point adds nothing
    assert hypervolume(np.array([[2.0, 1.0], [1.0, 2.0], [0.5, 0.5]])) == pytest.approx(3.0)
    assert hypervolume(np.array([[1.0, 1.0, 1.0], [2.0, 0.5, 1.0]])) == pytest.approx(1.5)
    assert hypervolume(np.array([[-1.0, 3.0]])) == 0.0  # worse than the reference in one metric
    assert hypervolume(np.empty((0, 2))) == 0.0


def test_reference_point_is_twice_the_target_in_each_metric():
    env = real_env(workload="resnet18", targets={"latency_ms": 3.0, "energy_uj": 7000.0, "area_mm2": 2.0})
    ref = HypervolumeReference.for_env(env)
    assert ref.metrics == ("latency_ms", "energy_uj", "area_mm2")
    assert ref.reference == (6.0, 14000.0, 4.0) and REFERENCE_FACTOR == 2.0
    # a design exactly on target covers (2-1)^3 = 1 normalised unit
    at_target = ref.oriented(np.array([[3.0, 7000.0, 2.0]]))
    assert np.allclose(at_target, 1.0) and hypervolume(at_target) == pytest.approx(1.0)
    assert HypervolumeReference.from_dict(json.loads(json.dumps(ref.to_dict()))) == ref


def test_higher_is_better_metrics_are_oriented_upwards():
    ref = HypervolumeReference(("lat", "thr"), ("lower", "higher"), (1.0, 10.0), (2.0, 5.0))
    y = ref.oriented(np.array([[1.0, 15.0], [3.0, 20.0]]))
    assert np.allclose(y, [[1.0, 1.0], [-1.0, 1.5]])


def test_curve_is_monotone_ignores_infeasible_and_ends_at_the_total():
    rng = np.random.default_rng(0)
    pts = rng.uniform(-0.5, 2.0, size=(60, 3))
    feasible = rng.random(60) < 0.7
    curve = hypervolume_curve(pts, feasible)
    assert (np.diff(curve) >= -1e-12).all()
    assert curve[-1] == pytest.approx(hypervolume(pts[feasible]))
    assert hypervolume(pts) > curve[-1]  # the infeasible points would have added volume


def test_run_summary_and_report_give_the_hypervolume(tmp_path):
    from archgym.report import make_report
    from archgym.runner import run_experiment

    targets = {"latency_ms": 3.0, "energy_uj": 7000.0, "area_mm2": 2.0}
    for agent in ("nsga2", "random"):
        cfg = {
            "env": {
                "id": "archgym/Accelerator-v0",
                "kwargs": {"workload": "resnet18", "targets": targets},
                "simulator": {"name": "template"},
            },
            "agent": {"name": agent, "params": {}},
            "budget": 48,
            "seed": 0,
            "progress": False,
        }
        summary = run_experiment(cfg, tmp_path / "sweep" / agent)
        hv = summary.hypervolume
        assert hv["metrics"] == ["latency_ms", "energy_uj", "area_mm2"]
        assert hv["reference"] == [6.0, 14000.0, 4.0] and hv["value"] > 0
        assert json.loads((tmp_path / "sweep" / agent / "summary.json").read_text())["hypervolume"] == hv
    files = make_report(tmp_path / "sweep", tmp_path / "report")
    assert files["hypervolume.png"].stat().st_size > 0
    table = files["hypervolume.csv"].read_text().splitlines()
    assert table[0] == "agent,runs,median_hypervolume,max_hypervolume" and len(table) == 3
    final = {line.split(",")[0]: float(line.split(",")[2]) for line in table[1:]}
    nsga2 = json.loads((tmp_path / "sweep" / "nsga2" / "summary.json").read_text())["hypervolume"]["value"]
    assert final["nsga2"] == pytest.approx(nsga2)  # the curve from the dataset ends at the summary's value
