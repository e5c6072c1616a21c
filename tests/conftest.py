"""Shared test fixtures.

``QuadraticSimulator`` is a small closed-form cost model over a mixed design space used to
test the core mechanics (encodings, objectives, logging, agents) independently of the real
simulators, whose own tests live in test_dram_* and test_accelerator_*.
"""

from __future__ import annotations

import math

import pytest

from archgym.design_space import Categorical, DesignSpace, Integer, Ordinal, Real
from archgym.env import ArchGymEnv
from archgym.objective import TargetSpec
from archgym.simulator import Metric, SimulationError, Simulator


def mixed_space() -> DesignSpace:
    return DesignSpace(
        [
            Categorical("mode", ("a", "b", "c")),
            Integer("units", 1, 16),
            Integer("buffer", 1, 128, log2=True),
            Ordinal("freq", (0.5, 1.0, 1.5, 2.0)),
        ]
    )


class QuadraticSimulator(Simulator):
    """latency = work / (units * freq) + penalty(mode) ; power = units * freq^2 + buffer/16.

    ``units == 13`` raises, to exercise per-design error capture.
    """

    metrics = (Metric("latency_ms", "ms", "lower", 10.0), Metric("power_mw", "mW", "lower", 10.0))
    version = "quadratic-test-1"

    def evaluate(self, design, workload):
        if design["units"] == 13:
            raise SimulationError("units=13 is unsupported by this test model")
        work = float(workload)
        penalty = {"a": 0.0, "b": 1.0, "c": 2.0}[design["mode"]]
        latency = work / (design["units"] * design["freq"]) + penalty + 8.0 / math.sqrt(design["buffer"])
        power = design["units"] * design["freq"] ** 2 + design["buffer"] / 16.0
        return {"latency_ms": latency, "power_mw": power}


def make_test_env(**kw) -> ArchGymEnv:
    targets = kw.pop("targets", {"latency_ms": 5.0, "power_mw": 10.0})
    return ArchGymEnv(
        mixed_space(),
        QuadraticSimulator(),
        64.0,
        TargetSpec(targets, tolerance=0.2),
        env_id="test/Quadratic-v0",
        workload_name="w64",
        **kw,
    )


@pytest.fixture
def space() -> DesignSpace:
    return mixed_space()


@pytest.fixture
def test_env() -> ArchGymEnv:
    return make_test_env()


@pytest.fixture
def real_space() -> DesignSpace:
    return DesignSpace([Real("x", 0.1, 10.0, log=True), Integer("n", 0, 5)])
