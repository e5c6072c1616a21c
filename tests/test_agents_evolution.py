"""Genetic algorithm and aging evolution: operators, population bookkeeping, real-env target."""

from __future__ import annotations

import numpy as np
import pytest
from _agent_fixtures import real_env, toy_env, toy_space

from archgym.agents.evolution import AgingEvolution, GeneticAlgorithm
from archgym.evaluation import Evaluation

EASY_TARGETS = {"latency_ms": 6.0, "energy_uj": 10000.0, "area_mm2": 3.0}  # ~1.2 % of random designs


def fake_evals(designs, rewards):
    return [
        Evaluation(design=d, metrics={}, reward=r, feasible=True, success=False)
        for d, r in zip(designs, rewards)
    ]


def test_ga_first_generation_is_distinct_random_designs():
    ga = GeneticAlgorithm(toy_space(), seed=0, population_size=12)
    first = ga.ask()
    assert len(first) == 12
    assert len({tuple(d.values()) for d in first}) == 12


@pytest.mark.parametrize("selection", ["tournament", "elitist"])
def test_ga_keeps_the_best_design(selection):
    ga = GeneticAlgorithm(toy_space(), seed=0, population_size=8, selection=selection, elite_size=2)
    pop = ga.ask()
    ga.tell(pop, fake_evals(pop, range(8)))
    children = ga.ask()
    assert len(children) == (6 if selection == "tournament" else 8)
    ga.tell(children, fake_evals(children, [-1.0] * len(children)))  # all worse
    kept = [f for _, f in ga.population]
    assert 7 in kept and 6 in kept
    if selection == "elitist":  # (mu + lambda): the 8 best of parents and offspring = all parents
        assert sorted(kept) == list(range(8))


def test_ga_without_variation_copies_parents():
    ga = GeneticAlgorithm(
        toy_space(), seed=3, population_size=6, crossover_prob=0.0, mutation_prob=0.0, avoid_duplicates=False
    )
    pop = ga.ask()
    ga.tell(pop, fake_evals(pop, range(6)))
    parents = {tuple(d.values()) for d in pop}
    assert all(tuple(c.values()) in parents for c in ga.ask())


def test_ga_one_point_crossover_mixes_parent_genes():
    space = toy_space()
    ga = GeneticAlgorithm(space, seed=0, crossover="one_point", crossover_prob=1.0)
    a, b = np.zeros(4, dtype=np.int64), np.array([5, 5, 2, 6])
    for _ in range(20):
        c = ga._recombine(a, b)
        cut = int(np.argmax(c != a)) if (c != a).any() else 4
        assert (c[:cut] == a[:cut]).all() and (c[cut:] == b[cut:]).all()


def test_ga_avoids_duplicates_in_a_run():
    env = toy_env()
    seen = []
    env.add_recorder(lambda ev: seen.append(tuple(ev.design.values())))
    GeneticAlgorithm(env.space, seed=0, population_size=8).run(env, 200)
    assert len(set(seen)) >= 195  # the space has 5376 designs: re-mutation avoids nearly all repeats


def test_aging_evolution_population_is_first_in_first_out():
    ae = AgingEvolution(toy_space(), seed=0, population_size=5, sample_size=2, batch_size=2)
    told = []
    while len(told) < 12:
        batch = ae.ask()
        ae.tell(batch, fake_evals(batch, [float(len(told) + i) for i in range(len(batch))]))
        told += batch
    fits = [f for _, f in ae._population]
    assert fits == [float(i) for i in range(len(told) - 5, len(told))]  # the oldest left first


def test_aging_child_differs_from_its_parent_in_at_least_one_parameter():
    ae = AgingEvolution(toy_space(), seed=1, population_size=4, sample_size=4, avoid_duplicates=False)
    pop = []
    while len(pop) < 4:
        batch = ae.ask()
        ae.tell(batch, fake_evals(batch, [1.0] * len(batch)))
        pop += batch
    best = max(ae._population, key=lambda p: p[1])[0]
    (child,) = ae.ask()
    assert (toy_space().to_indices(child) != best).sum() >= 1


@pytest.mark.parametrize("seed", range(4))
def test_evolution_works_on_spaces_with_real_parameters(real_space, seed):
    """Reals evolve in the index encoding: every proposal is a valid design on the parameter's
    grid (seed 1 once proposed x = 10.000000000000007, outside [0.1, 10]), and 100
    evaluations find the optimum's neighbourhood (reward > 0.9, x = 3 and n = 0 give 1)."""
    grid = {real_space["x"].from_index(i) for i in range(real_space["x"].n)}
    for cls in (GeneticAlgorithm, AgingEvolution):
        agent = cls(real_space, seed=seed)
        rewards: list[float] = []
        while len(rewards) < 100:
            designs = agent.ask()
            for d in designs:
                assert real_space.validate(d) == d and d["x"] in grid
            told = [1.0 / (1.0 + (d["x"] - 3.0) ** 2 + d["n"]) for d in designs]
            rewards += told
            agent.tell(designs, fake_evals(designs, told))
        assert max(rewards) > 0.9 > max(rewards[:16]), cls.__name__


@pytest.mark.parametrize(
    "cls, kw", [(GeneticAlgorithm, {}), (GeneticAlgorithm, {"selection": "elitist"}), (AgingEvolution, {})]
)
def test_reaches_the_target_on_the_accelerator_env(cls, kw):
    env = real_env(workload="resnet18", targets=EASY_TARGETS)
    result = cls(env.unwrapped.space, seed=0, **kw).run(env, 300, stop_on_success=True)
    assert result.success, f"best reward {result.best.reward:.3f}"
