"""objective_from_config: the one place every env builds its objective from config keys."""

import pytest

from archgym.objective import (
    Constraint,
    ObjectiveError,
    TargetSpec,
    WeightedSum,
    objective_from_config,
)
from archgym.simulator import Metric

METRICS = (
    Metric("latency_ms", "ms", "lower"),
    Metric("area_mm2", "mm2", "lower"),
    Metric("accuracy", "1", "higher"),
)


def no_defaults():
    raise AssertionError("default targets must not be derived when targets are given")


def test_modes_follow_metric_direction_unless_set():
    obj = objective_from_config(METRICS, targets={"latency_ms": 2.0, "accuracy": 0.9}, tolerance=0.1)
    assert isinstance(obj, TargetSpec)
    assert obj.modes == {"latency_ms": "at_most", "accuracy": "at_least"} and obj.tolerance == 0.1
    assert obj({"latency_ms": 1.0, "area_mm2": 1.0, "accuracy": 0.95}).success  # both one-sided
    fixed = objective_from_config(
        METRICS,
        targets={"latency_ms": 2.0, "accuracy": 0.9},
        default_mode="at_most",
        modes={"accuracy": "exact"},
    )
    assert fixed.modes == {"latency_ms": "at_most", "accuracy": "exact"}


def test_default_targets_are_derived_only_when_needed():
    calls = []
    obj = objective_from_config(METRICS, default_targets=lambda: calls.append(1) or {"latency_ms": 3.0})
    assert calls == [1] and obj.targets == {"latency_ms": 3.0}
    objective_from_config(METRICS, targets={"latency_ms": 1.0}, default_targets=no_defaults)
    objective_from_config(METRICS, objective={"weights": {"latency_ms": 1.0}}, default_targets=no_defaults)
    with pytest.raises(ObjectiveError, match="targets: missing"):
        objective_from_config(METRICS)


def test_budgets_and_constraints_become_hard_limits():
    obj = objective_from_config(
        METRICS,
        targets={"latency_ms": 2.0},
        constraints=["accuracy>=0.5"],
        budgets={"area_mm2": 4.0, "latency_ms": None},
    )
    assert set(obj.constraints) == {Constraint("accuracy", ">=", 0.5), Constraint("area_mm2", "<=", 4.0)}
    assert not obj({"latency_ms": 1.0, "area_mm2": 5.0, "accuracy": 0.9}).feasible
    assert obj({"latency_ms": 1.0, "area_mm2": 3.0, "accuracy": 0.9}).success


def test_full_objective_spec_gets_the_budgets_too():
    obj = objective_from_config(
        METRICS,
        objective={"weights": {"latency_ms": 1.0}},
        targets={"accuracy": 0.9},
        budgets={"area_mm2": 2},
    )
    assert isinstance(obj, WeightedSum) and obj.constraints == (Constraint("area_mm2", "<=", 2.0),)
    given = TargetSpec({"latency_ms": 1.0})
    assert objective_from_config(METRICS, objective=given) is given
    with pytest.raises(ObjectiveError, match="cannot be added to an Objective instance"):
        objective_from_config(METRICS, objective=given, budgets={"area_mm2": 2})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"targets": {"power_mw": 1.0}}, "unknown metric 'power_mw' in objective; allowed: latency_ms"),
        ({"targets": {"latency_ms": 1.0}, "modes": {"latency_ms": "below"}}, "mode for 'latency_ms'"),
        ({"targets": {"latency_ms": 1.0}, "constraints": ["power_mw<=3"]}, "unknown metric 'power_mw'"),
        ({"objective": {"weights": {"bogus": 1.0}}}, "unknown metric 'bogus'"),
    ],
)
def test_bad_config_names_the_key(kwargs, message):
    with pytest.raises(ObjectiveError, match=message):
        objective_from_config(METRICS, **kwargs)


def test_every_env_builds_its_objective_here():
    """No env constructs TargetSpec/WeightedSum itself any more (one home for the logic)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "envs"
    for env_file in [p for env in ("dram", "accelerator", "nas") for p in (root / env).glob("*.py")]:
        text = env_file.read_text()
        assert "TargetSpec(" not in text and "WeightedSum(" not in text, env_file
    for factory in ("dram/env.py", "accelerator/env.py", "nas/env.py", "nas/codesign.py"):
        assert "objective_from_config(" in (root / factory).read_text(), factory
