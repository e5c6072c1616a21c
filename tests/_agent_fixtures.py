"""A small analytical simulator over a mixed space, for the agents' mechanics tests.

``ToySimulator`` is Branin-like: two integer knobs on a 16-point grid, a categorical knob
that shifts the landscape and a powers-of-two knob; two metrics (``latency`` lower is
better, ``throughput`` higher is better). It is deterministic and takes microseconds, so
seeding / budget / validity tests run fast. The "reaches the target" tests use the real
accelerator environment instead (see ``real_env`` below).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pytest

from archgym.design_space import Categorical, DesignSpace, Integer
from archgym.env import ArchGymEnv
from archgym.objective import TargetSpec
from archgym.simulator import Metric, Simulator

_OFFSET = {"fifo": 0.0, "lru": 8.0, "random": 20.0}


def toy_space(small: bool = False) -> DesignSpace:
    """5376 designs (``small``: 8 x 8 x 3 x 4 = 768, for the costlier BO tests)."""
    return DesignSpace(
        [
            Integer("x1", 0, 7 if small else 15),
            Integer("x2", 0, 7 if small else 15),
            Categorical("policy", ("fifo", "lru", "random")),
            Integer("buffer", 1, 8 if small else 64, log2=True),
        ]
    )


class ToySimulator(Simulator):
    metrics = (
        Metric("latency", "ns", "lower", scale=10.0),
        Metric("throughput", "GB/s", "higher", scale=10.0),
    )
    version = "toy-branin-1"

    def evaluate(self, design: Mapping[str, Any], workload: Any) -> dict[str, float]:
        x1 = -5.0 + 15.0 * design["x1"] / 15.0
        x2 = 15.0 * design["x2"] / 15.0
        b = 5.1 / (4 * math.pi**2)
        branin = (
            (x2 - b * x1**2 + 5 / math.pi * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10
        )
        buf = math.log2(design["buffer"])
        latency = branin + _OFFSET[design["policy"]] + 0.5 * (buf - 3) ** 2 + 1.0
        throughput = 2.0 + buf + 0.1 * design["x2"]
        return {"latency": latency, "throughput": throughput}


def toy_env(
    target: float = 2.5, tolerance: float = 0.05, episode_length: int = 16, small: bool = False, **kw: Any
) -> ArchGymEnv:
    """Toy env whose objective is a latency target (the optimum latency is about 1.5)."""
    objective = TargetSpec({"latency": target}, tolerance=tolerance, modes={"latency": "at_most"})
    return ArchGymEnv(toy_space(small), ToySimulator(), None, objective, episode_length=episode_length, **kw)


def real_env(**kwargs: Any):
    """The accelerator env on its template model (the fastest real simulator, the one the
    agent tests' targets were calibrated on); skips the test when not importable."""
    pytest.importorskip("archgym.envs.accelerator.env")
    from archgym.registry import make_env

    return make_env("archgym/Accelerator-v0", **{"simulator": "template", **kwargs})
