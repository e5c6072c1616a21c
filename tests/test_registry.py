"""Agents by entry point or import path, the typed unwrap helper, and the NAS factory options."""

import gymnasium
import pytest
from _agent_fixtures import toy_env, toy_space

from archgym.agents.random_search import RandomSearch, RandomWalk
from archgym.env import ArchGymEnv, unwrap
from archgym.registry import ConfigError, agent_class, agent_entry_points, load_object, make_agent
from archgym.runner import RunConfig, build


def test_agents_resolve_by_entry_point_name_or_import_path():
    assert agent_entry_points()["random"] == "archgym.agents.random_search:RandomSearch"
    assert agent_class("random") is RandomSearch
    assert agent_class("archgym.agents.random_search:RandomWalk") is RandomWalk
    assert agent_class("archgym.agents.random_search.RandomWalk") is RandomWalk
    agent = make_agent("archgym.agents.random_search.RandomWalk", toy_space(), seed=3, step_size=2)
    assert isinstance(agent, RandomWalk) and agent.step_size == 2 and agent.seed == 3


@pytest.mark.parametrize(
    "name, message",
    [
        ("nosuch", "unknown agent 'nosuch'; allowed: .*random"),
        ("archgym.agents.random_search.Nope", "cannot import 'archgym.agents.random_search.Nope'"),
        ("archgym.env.ArchGymEnv", "is not an archgym.agent.Agent subclass"),
    ],
)
def test_bad_agent_names_are_config_errors(name, message):
    with pytest.raises(ConfigError, match=message):
        agent_class(name)


def test_load_object_rejects_a_bare_name():
    with pytest.raises(ImportError, match="not an import path"):
        load_object("RandomSearch")


def test_agent_target_builds_the_class_and_name_labels_the_run():
    if "test/Toy-v0" not in gymnasium.registry:  # any gymnasium-registered archgym env will do
        gymnasium.register(id="test/Toy-v0", entry_point=toy_env)
    cfg = RunConfig.from_mapping(
        {
            "env": {"id": "test/Toy-v0", "kwargs": {"target": 3.0}},
            "agent": {"name": "my-walk", "_target_": "archgym.agents.random_search.RandomWalk", "params": {}},
            "budget": 3,
        }
    )
    assert (cfg.agent, cfg.agent_target) == ("my-walk", "archgym.agents.random_search.RandomWalk")
    env, agent = build(cfg)
    assert isinstance(agent, RandomWalk)
    env.close()


def test_unwrap_reaches_the_archgym_env_through_wrappers():
    env = toy_env()
    wrapped = gymnasium.wrappers.TimeLimit(gymnasium.wrappers.RecordEpisodeStatistics(env), 5)
    assert unwrap(wrapped) is env and unwrap(env) is env and isinstance(env, ArchGymEnv)
    with pytest.raises(TypeError, match="expected an archgym environment.*CartPoleEnv"):
        unwrap(gymnasium.make("CartPole-v1"))


def test_nas_options_are_one_dataclass_and_unknown_keys_are_named():
    from archgym.envs.nas.codesign import make_codesign_env
    from archgym.envs.nas.env import NASOptions, make_nas_env

    opts, rest = NASOptions.split({"seed": 3, "proxies": ["naswot"], "render_mode": "ansi"}, space="block")
    assert (opts.space, opts.seed, tuple(opts.proxies), opts.evaluator) == ("block", 3, ("naswot",), "proxy")
    assert rest == {"render_mode": "ansi"}
    with pytest.raises(ConfigError, match="unknown option.*proxy_batchsize.*allowed:.*proxy_batch_size"):
        make_nas_env(proxy_batchsize=8)
    with pytest.raises(ConfigError, match="accelerator does not apply"):
        make_codesign_env(accelerator={"pe_rows": 4})
    with pytest.raises(ConfigError, match="hardware=False does not apply.*hwnasbench:<device>"):
        make_codesign_env(hardware=False)


@pytest.mark.parametrize("name", ["nas", "codesign"])
def test_nas_config_keys_are_factory_options(name):
    """Every ``env.kwargs`` key of the NAS configs is a NASOptions field or a factory keyword."""
    import inspect
    from pathlib import Path

    import yaml

    from archgym.envs.nas.codesign import make_codesign_env
    from archgym.envs.nas.env import NASOptions, make_nas_env

    factory = make_nas_env if name == "nas" else make_codesign_env
    allowed = set(NASOptions.names()) | set(inspect.signature(factory).parameters)
    conf = Path(__file__).resolve().parents[1] / "conf" / "env" / f"{name}.yaml"
    assert set(yaml.safe_load(conf.read_text())["kwargs"]) <= allowed
