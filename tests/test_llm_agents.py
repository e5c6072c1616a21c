"""Every registered agent runs on both LLM envs, and a proxy trains on their datasets."""

import numpy as np
import pytest
import yaml
from test_agents_common import AGENTS, FAST
from test_agents_lottery import CONF, grid_points, load

from archgym.dataset import load_dataset
from archgym.envs.llm.env import make_llm_serving_env, make_llm_training_env
from archgym.generate import generate_dataset
from archgym.proxy import train_proxy, training_table
from archgym.registry import agent_entry_points, make_agent, make_env

N_DESIGNS = 1200
ENVS = {
    "training": lambda: make_llm_training_env("gpt-1.7b", gpus=8, global_batch=64, max_cp=1),
    "serving": lambda: make_llm_serving_env(
        "llama3-8b", gpus=4, gpu="a100-80gb", prompt_len=512, output_len=128
    ),
}


@pytest.mark.parametrize("env_name", sorted(ENVS))
@pytest.mark.parametrize("agent", AGENTS)
def test_every_agent_runs(agent, env_name):
    if agent == "grid":
        pytest.skip("grid search refuses spaces this large (by design)")
    env = ENVS[env_name]()
    seen = []
    env.add_recorder(lambda ev: seen.append(ev))
    result = make_agent(agent, env.space, seed=0, **FAST.get(agent, {})).run(env, 10)
    assert len(seen) == 10 and result is not None
    assert all(env.space.validate(ev.design) == ev.design for ev in seen)


@pytest.mark.parametrize(
    ("env_name", "metric"),
    [pytest.param("training", "step_time_s", marks=pytest.mark.slow), ("serving", "tpot_s")],  # ~15 s / ~7 s
)
def test_a_proxy_learns_the_env(tmp_path, env_name, metric):
    res = generate_dataset(ENVS[env_name](), tmp_path / "gen", N_DESIGNS, "random", seed=0, progress=False)
    table = training_table(load_dataset(tmp_path / "gen"))
    assert res.designs == N_DESIGNS and len(table.designs) > 60  # infeasible rows are left out
    model = train_proxy(table, "gbt", n_estimators=150, ensemble=1)
    assert model.scores[metric]["spearman"] > 0.8, model.scores[metric]
    assert np.isfinite(model.scores[metric]["mape"])


@pytest.mark.parametrize("name", ["lottery_llm_training", "lottery_llm_serving"])
def test_lottery_presets_cover_every_agent_but_grid_and_build_on_their_env(name):
    preset = load(name)
    points = grid_points(preset)
    agents = {
        yaml.safe_load((CONF / "lottery" / f"{p}.yaml").read_text())["defaults"][0]["override /agent"]
        for p in points
    }
    assert agents == set(agent_entry_points()) - {"grid"}  # a grid over these spaces is refused
    text = (CONF / "experiment" / f"{name}.yaml").read_text()
    assert "benchmarks/lottery_targets.py" in text and preset["hydra"]["sweep"]["dir"] == f"multirun/{name}"
    env_name = preset["defaults"][0]["override /env"]
    env_cfg = yaml.safe_load((CONF / "env" / f"{env_name}.yaml").read_text())
    env = make_env(env_cfg["id"], **{**env_cfg["kwargs"], **preset["env"]["kwargs"]})
    assert set(env.unwrapped.objective.reference_scales()) == set(preset["env"]["kwargs"]["targets"])
