"""Bayesian optimisation: valid unique proposals with every optimiser, infeasible and failed
designs, multi-objective qLogNEHVI, device option, real-env target. Tiny settings throughout."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _agent_fixtures import real_env, toy_env, toy_space
from conftest import make_test_env

from archgym.agents.bayesopt import BayesianOptimization

TINY = dict(n_initial=4, fit_maxiter=10, num_restarts=2, raw_samples=32, mc_samples=32, num_threads=1)
EASY_TARGETS = {"latency_ms": 6.0, "energy_uj": 10000.0, "area_mm2": 3.0}


def run_recording(env, agent, budget):
    seen = []
    env.add_recorder(lambda ev: seen.append(ev))
    agent.run(env, budget)
    return seen


@pytest.mark.parametrize("optimizer", ["enumerate", "alternating", "local_search"])
def test_every_optimizer_proposes_valid_unseen_designs(optimizer):
    env = toy_env(small=True)
    agent = BayesianOptimization(env.space, seed=0, optimizer=optimizer, q=2, **TINY)
    seen = run_recording(env, agent, 8)
    keys = [tuple(ev.design.values()) for ev in seen]
    assert len(keys) == 8 and len(set(keys)) == 8
    assert not any(ev.cached for ev in seen)


def test_mixed_space_with_a_real_parameter(real_space):
    """Reals go through L-BFGS in the alternating optimiser (proposals off the 64-point index
    grid), proposals decode to valid designs, and the model's proposals beat the initial ones."""
    agent = BayesianOptimization(real_space, seed=0, **TINY)
    from archgym.evaluation import Evaluation

    grid = {real_space["x"].from_index(i) for i in range(real_space["x"].n)}
    best_per_round, model_xs = [], []
    for round_ in range(4):
        designs = agent.ask()
        for d in designs:
            assert real_space.validate(d) == d
        if round_ > 0:
            model_xs += [d["x"] for d in designs]
        rewards = [1.0 / (1.0 + (d["x"] - 3.0) ** 2 + d["n"]) for d in designs]  # optimum x=3, n=0
        best_per_round.append(max(rewards))
        agent.tell(designs, [Evaluation(d, {}, r, True, False) for d, r in zip(designs, rewards)])
    assert any(x not in grid for x in model_xs), "the real parameter is optimised continuously"
    assert max(best_per_round[1:]) > best_per_round[0] + 0.2


def test_failed_designs_are_imputed_not_fatal():
    env = make_test_env()  # the quadratic test simulator raises for units == 13
    agent = BayesianOptimization(env.space, seed=0, q=3, **TINY)
    seen = run_recording(env, agent, 10)
    assert len(seen) == 10
    y = agent._training_data()[1]
    assert torch.isfinite(y).all()


def test_multi_objective_bo_uses_metric_directions():
    env = toy_env(small=True)
    agent = BayesianOptimization(env.space, seed=0, multi_objective=True, mo_acquisition="nehvi", q=2, **TINY)
    seen = run_recording(env, agent, 6)
    assert len(seen) == 6
    X, Y, _ = agent._training_data()
    assert Y.shape == (6, 2)  # latency (minimised: negated) and throughput (maximised)
    lat = torch.tensor([ev.metrics["latency"] for ev in seen], dtype=Y.dtype)
    assert torch.allclose(Y[:, 0], -torch.log(lat))


def test_multi_objective_needs_the_env_for_directions():
    agent = BayesianOptimization(toy_space(), seed=0, multi_objective=True, n_initial=2)
    designs = agent.ask()
    from archgym.evaluation import Evaluation

    agent.tell(
        designs, [Evaluation(d, {"latency": 1.0, "throughput": 2.0}, 0.5, True, False) for d in designs]
    )
    with pytest.raises(RuntimeError, match="bind"):
        agent.ask()
    with pytest.raises(ValueError, match="at least 2 metrics"):
        BayesianOptimization(toy_space(), multi_objective=True, metrics=["latency"])


def test_enumerate_refuses_a_large_space():
    with pytest.raises(ValueError, match="max_enumerate"):
        BayesianOptimization(toy_space(), optimizer="enumerate", max_enumerate=100)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU error")
def test_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="device 'cuda'"):
        BayesianOptimization(toy_space(), device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_runs_on_the_gpu():
    env = toy_env(small=True)
    agent = BayesianOptimization(env.space, seed=0, device="cuda", **TINY)
    assert len(run_recording(env, agent, 8)) == 8


REAL_SETTINGS = dict(n_initial=8, q=4, fit_maxiter=30, num_restarts=2, raw_samples=64, num_threads=1)


@pytest.mark.slow  # up to a minute on a loaded 2-core CI machine; fast counterpart below
def test_reaches_the_target_on_the_accelerator_env():
    env = real_env(workload="resnet18", targets=EASY_TARGETS)
    agent = BayesianOptimization(env.unwrapped.space, seed=0, **REAL_SETTINGS)
    result = agent.run(env, 40, stop_on_success=True)
    assert result.success, f"best reward {result.best.reward:.3f}"


def test_first_model_batch_beats_the_initial_designs_on_the_accelerator_env():
    """Fast counterpart of the test above: one GP fit; its batch of 4 improves on the 8
    initial (Sobol) designs (0.996 vs 0.75 with seed 0)."""
    env = real_env(workload="resnet18", targets=EASY_TARGETS)
    rewards: list[float] = []
    env.unwrapped.add_recorder(lambda ev: rewards.append(ev.reward))
    BayesianOptimization(env.unwrapped.space, seed=0, **REAL_SETTINGS).run(env, 12)
    assert len(rewards) == 12 and max(rewards[8:]) > max(rewards[:8])


def _told(agent, space, n, seed=0):
    from archgym.evaluation import Evaluation

    rng = np.random.default_rng(seed)
    designs = [space.sample(rng) for _ in range(n)]
    rewards = [1.0 / (1.0 + (d["x1"] - 5) ** 2 + (d["x2"] - 2) ** 2) for d in designs]
    metrics = [{"latency": 1.0 / r, "throughput": float(d["buffer"])} for d, r in zip(designs, rewards)]
    agent._n_initial_proposed = agent.n_initial
    agent.tell(designs, [Evaluation(d, m, r, True, False) for d, m, r in zip(designs, metrics, rewards)])
    return designs, rewards


def test_trust_region_models_the_points_nearest_the_incumbent_and_proposes_inside_their_box():
    space = toy_space()
    agent = BayesianOptimization(space, seed=0, max_model_points=12, q=2, **TINY)
    designs, rewards = _told(agent, space, 40)
    X, Y, box = agent._training_data()
    assert X.shape[0] == 12 and float(Y.max()) == max(rewards)  # the incumbent is modelled
    lo, hi = box
    units = np.array([space.to_unit(d) for d in designs])
    dist = agent._distances(units, units[int(np.argmax(rewards))])
    assert np.sort(dist)[11] >= agent._distances(X.numpy(), units[int(np.argmax(rewards))]).max() - 1e-12
    for d in agent.ask():
        u = space.to_unit(d)
        ordered = [j for j, p in enumerate(space.params) if not p.is_categorical]
        assert ((u[ordered] >= lo[ordered] - 1e-9) & (u[ordered] <= hi[ordered] + 1e-9)).all()


def test_without_a_trust_region_every_observation_is_modelled():
    space = toy_space()
    agent = BayesianOptimization(space, seed=0, max_model_points=0, **TINY)
    _told(agent, space, 40)
    data = agent._training_data()
    assert data.X.shape[0] == 40 and data.box is None
    with pytest.raises(ValueError, match="max_model_points"):
        BayesianOptimization(space, max_model_points=1)


@pytest.mark.parametrize("acq", ["nehvi"])
def test_multi_objective_models_the_points_nearest_the_pareto_front(acq):
    from botorch.utils.multi_objective.pareto import is_non_dominated

    env = toy_env()
    agent = BayesianOptimization(
        env.space, seed=0, multi_objective=True, max_model_points=10, mo_acquisition=acq, **TINY
    )
    agent.bind(env)
    _told(agent, env.space, 40)
    X, Y, _ = agent._training_data()
    assert X.shape[0] == 10
    rows = [r for r in agent._metric_rows]
    full = torch.tensor([[-np.log(r["latency"]), np.log(r["throughput"])] for r in rows])
    front = full[is_non_dominated(full)]
    for p in front:  # every Pareto-optimal observation is among the modelled ones
        assert torch.isclose(Y, p).all(dim=1).any()
    assert len(agent.ask()) == 1


def test_parego_scalarisation_respects_pareto_dominance():
    """Augmented Chebyshev with positive weights: a design that dominates another scores higher."""
    env = toy_env()
    agent = BayesianOptimization(env.space, seed=0, multi_objective=True, max_model_points=0, **TINY)
    agent.bind(env)
    _told(agent, env.space, 40)
    X, s, _ = agent._training_data()
    assert s.shape == (40, 1)
    Y = torch.tensor([[-np.log(r["latency"]), np.log(r["throughput"])] for r in agent._metric_rows])
    for a in range(40):
        for b in range(40):
            if (Y[a] >= Y[b]).all() and (Y[a] > Y[b]).any():
                assert s[a, 0] > s[b, 0]
    first = s.clone()
    agent._training_data()  # new weights per proposal
    assert not torch.equal(agent._training_data()[1], first)
    assert len(agent.ask()) == 1


def test_the_trust_region_changes_nothing_until_there_are_more_observations_than_max_model_points():
    """So BO's search at budgets up to max_model_points (128 by default) is the full-GP search."""

    def designs(max_model_points):
        env = toy_env(small=True)
        agent = BayesianOptimization(env.space, seed=0, q=2, max_model_points=max_model_points, **TINY)
        return [tuple(ev.design.values()) for ev in run_recording(env, agent, 16)]

    full, local = designs(0), designs(8)
    assert full[:10] == local[:10]  # asks made with at most 8 observations are identical
    assert full != local
