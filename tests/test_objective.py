import math

import pytest

from archgym.objective import Constraint, ObjectiveError, TargetSpec, WeightedSum, build_objective
from archgym.simulator import Metric


def test_target_reward_is_one_on_target_and_bounded():
    obj = TargetSpec({"lat": 10.0, "pow": 100.0}, tolerance=0.05)
    s = obj({"lat": 10.0, "pow": 100.0})
    assert s.reward == 1.0 and s.success and s.feasible
    # d = (0.5, 0) -> loss = 0.25/2 -> reward = 1/1.125
    assert math.isclose(obj({"lat": 15.0, "pow": 100.0}).reward, 1 / 1.125)
    far = obj({"lat": 1e9, "pow": 100.0}).reward
    assert 0 < far < 1e-12


def test_reward_decreases_monotonically_with_distance():
    obj = TargetSpec({"lat": 10.0})
    rewards = [obj({"lat": 10.0 + k}).reward for k in range(0, 50)]
    assert all(a > b for a, b in zip(rewards, rewards[1:]))


def test_tolerance_boundary():
    obj = TargetSpec({"lat": 10.0, "pow": 100.0}, tolerance=0.1)
    assert obj({"lat": 11.0, "pow": 90.0}).success
    assert not obj({"lat": 11.01, "pow": 100.0}).success


def test_one_sided_modes():
    obj = TargetSpec({"lat": 10.0, "acc": 0.9}, modes={"lat": "at_most", "acc": "at_least"}, tolerance=0.0)
    s = obj({"lat": 2.0, "acc": 0.95})
    assert s.reward == 1.0 and s.success
    assert not obj({"lat": 12.0, "acc": 0.95}).success
    assert not obj({"lat": 2.0, "acc": 0.5}).success


def test_constraints_make_designs_infeasible():
    obj = TargetSpec({"lat": 10.0}, constraints=["area<=5", {"metric": "lat", "op": ">=", "bound": 1}])
    ok = obj({"lat": 10.0, "area": 5.0})
    assert ok.feasible and ok.success
    bad = obj({"lat": 10.0, "area": 5.1})
    assert not bad.feasible and not bad.success and bad.reward == 0.0
    assert not obj({"lat": 0.5, "area": 1.0}).feasible


def test_failed_simulation_scores_infeasible():
    s = TargetSpec({"lat": 1.0})(None)
    assert not s.feasible and not s.success
    assert not TargetSpec({"lat": 1.0})({"lat": float("nan")}).feasible


def test_weighted_sum_signs():
    obj = WeightedSum({"lat": 1.0, "acc": -10.0}, scales={"lat": 2.0})
    assert obj({"lat": 4.0, "acc": 0.5}).reward == pytest.approx(-(4.0 / 2.0) + 5.0)
    assert WeightedSum({"lat": 1.0}, success_threshold=-1.0)({"lat": 1.0}).success


def test_unknown_metric_error_names_allowed():
    obj = TargetSpec({"latency": 1.0}, constraints=["area<=3"])
    with pytest.raises(ObjectiveError, match="unknown metric 'latency' in objective; allowed: lat, area"):
        obj.check_metrics([Metric("lat", "ns"), Metric("area", "mm^2")])


def test_bad_settings():
    with pytest.raises(ObjectiveError):
        TargetSpec({})
    with pytest.raises(ObjectiveError):
        TargetSpec({"a": 0.0})
    with pytest.raises(ObjectiveError):
        TargetSpec({"a": 1.0}, modes={"a": "sideways"})
    with pytest.raises(ObjectiveError):
        Constraint.parse("area = 3")
    with pytest.raises(ObjectiveError):
        build_objective({})


def test_build_objective_dispatch():
    assert isinstance(build_objective({"targets": {"a": 1.0}}), TargetSpec)
    assert isinstance(build_objective({"weights": {"a": 1.0}}), WeightedSum)
