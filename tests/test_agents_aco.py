"""Ant colony optimisation: pheromone bookkeeping, greediness, real-env target."""

from __future__ import annotations

import numpy as np
from _agent_fixtures import real_env, toy_space

from archgym.agents.ant_colony import AntColony
from archgym.evaluation import Evaluation

EASY_TARGETS = {"latency_ms": 6.0, "energy_uj": 10000.0, "area_mm2": 3.0}


def evals(designs, rewards, feasible=True):
    return [
        Evaluation(design=d, metrics={}, reward=r, feasible=feasible, success=False)
        for d, r in zip(designs, rewards)
    ]


def test_infeasible_colony_only_evaporates_to_the_floor():
    aco = AntColony(toy_space(), seed=0, n_ants=4, evaporation=0.5, tau_min=0.3)
    ants = aco.ask()
    assert len(ants) == 4
    aco.tell(ants, evals(ants, [0.0] * 4, feasible=False))
    for tau in aco.pheromone.values():
        assert np.allclose(tau, 0.5)
    aco.tell(ants, evals(ants, [0.0] * 4, feasible=False))
    for tau in aco.pheromone.values():
        assert np.allclose(tau, 0.3)  # floored at tau_min


def test_best_design_gets_the_most_pheromone():
    space = toy_space()
    aco = AntColony(space, seed=0, n_ants=8)
    ants = aco.ask()
    rewards = np.linspace(0.1, 0.9, 8)
    aco.tell(ants, evals(ants, rewards))
    best = space.to_indices(ants[-1])
    for j, tau in enumerate(aco.pheromone.values()):
        assert tau[best[j]] == tau.max()


def test_full_greediness_exploits_the_trails_but_proposes_no_duplicates():
    space = toy_space()
    aco = AntColony(space, seed=0, n_ants=6, greediness=1.0, beta=0.0)
    for _ in range(4):
        ants = aco.ask()
        aco.tell(ants, evals(ants, np.arange(len(ants), dtype=float)))
    keys = [tuple(d.values()) for d in aco.ask()]
    assert len(set(keys)) == len(keys)


def test_pheromone_is_a_copy():
    aco = AntColony(toy_space(), seed=0)
    aco.pheromone["x1"][:] = 99.0
    assert aco.pheromone["x1"].max() == 1.0


def test_reaches_the_target_on_the_accelerator_env():
    env = real_env(workload="resnet18", targets=EASY_TARGETS)
    result = AntColony(env.unwrapped.space, seed=0).run(env, 300, stop_on_success=True)
    assert result.success, f"best reward {result.best.reward:.3f}"
