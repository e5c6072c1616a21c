"""Simulator in the loop: an agent searches on a proxy, the real simulator checks its best designs."""

import pytest
from conftest import make_test_env

from archgym.dataset import load_dataset
from archgym.proxy.in_loop import ProxyInLoopAgent
from archgym.registry import ConfigError, make_agent
from archgym.runner import run_experiment
from archgym.simulator import resolve_simulator


def wrap_agent(agent, env, spec):
    """What `archgym run` does with env.simulator=proxy_in_loop."""
    wrap = resolve_simulator(env, spec).wrap_agent
    assert wrap is not None
    return wrap(agent)


FAST = {"kind": "gbt", "params": {"n_estimators": 40, "ensemble": 2}}


class CountingEnv:
    """Counts real simulator calls of a test env (the budget must count exactly these)."""

    def __init__(self):
        self.env = make_test_env()
        self.real_designs = []
        self.env.unwrapped.add_recorder(lambda ev: self.real_designs.append(ev))


def test_budget_counts_real_simulations_and_top_k_plus_uncertain_are_checked():
    counted = CountingEnv()
    env = counted.env
    inner = make_agent("random", env.space, seed=0)
    agent = ProxyInLoopAgent(inner, env, seed=0, every=40, top_k=3, uncertain=1, warmup=12, **FAST)
    result = agent.run(env, budget=32)
    assert result.evaluations == 32 == len(counted.real_designs) == env.n_evaluations
    # warm-up, then rounds of top_k + uncertain real simulations, each after `every` proxy proposals
    assert agent.rounds == (32 - 12) // 4
    keys = [tuple(ev.design.values()) for ev in counted.real_designs]
    assert len(set(keys)) == len(keys)  # never the same design twice on the real simulator
    # the last proxy was trained on every real row that simulated fine before the last round
    assert agent.model is not None
    assert agent.model.n_train == sum(ev.error is None for ev in counted.real_designs[:28])
    assert all(ev.extra == {} for ev in counted.real_designs)  # real rows: no proxy columns


def test_the_proxy_guided_search_beats_its_warm_up():
    env = make_test_env(targets={"latency_ms": 1.0, "power_mw": 1.0})
    agent = ProxyInLoopAgent(make_agent("ga", env.space, seed=1), env, seed=1, every=60, warmup=16, **FAST)
    result = agent.run(env, budget=40)
    warm = max(result.best_so_far[:16])
    assert result.best_so_far[-1] > warm  # the proxy's picks improved on the Sobol warm-up


def test_runner_config_and_clear_errors(tmp_path):
    cfg = {
        "env": {
            "id": "archgym/Accelerator-v0",
            "kwargs": {"workload": "resnet18"},
            "simulator": {"name": "proxy_in_loop", "every": 30, "warmup": 8, "params": {"n_estimators": 30}},
        },
        "agent": {"name": "random", "params": {}},
        "budget": 14,
        "seed": 0,
        "progress": False,
    }
    summary = run_experiment(cfg, tmp_path / "run")
    df = load_dataset(tmp_path / "run")
    assert summary.complete and summary.evaluations == len(df) == 14
    assert not df["simulator_version"].str.startswith("proxy").any()  # every row is a real simulation
    assert summary.agent_params["inner"] == "random" and summary.agent_params["every"] == 30
    env = make_test_env()
    agent = make_agent("random", env.space)
    with pytest.raises(ConfigError, match="unknown proxy_in_loop setting.*evry"):
        wrap_agent(agent, env, {"name": "proxy_in_loop", "evry": 3})
    with pytest.raises(ConfigError, match="env.simulator.kind: unknown proxy model 'xgb'"):
        wrap_agent(agent, env, {"name": "proxy_in_loop", "kind": "xgb"})
    with pytest.raises(ConfigError, match="top_k must be >= 1"):
        wrap_agent(agent, env, {"name": "proxy_in_loop", "top_k": 0})
