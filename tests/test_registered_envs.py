"""Every registered archgym env passes gymnasium's and SB3's env checkers with no warnings;
registration goes through the entry points; the version has one source."""

import importlib.metadata
import re
import warnings
from pathlib import Path

import gymnasium
import pytest

import archgym
from archgym.registry import ConfigError, env_entry_points, env_ids, make_env

BUILTIN = {
    "archgym/DRAMController-v0",
    "archgym/Accelerator-v0",
    "archgym/AcceleratorMapping-v0",
    "archgym/NAS-v0",
    "archgym/CoDesign-v0",
    "archgym/SoC-v0",
    "archgym/LLMTraining-v0",
    "archgym/LLMServing-v0",
}


@pytest.mark.parametrize("env_id", env_ids())
def test_gymnasium_checker(env_id):
    from gymnasium.utils.env_checker import check_env

    env = gymnasium.make(env_id, render_mode="ansi")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped, skip_render_check=False)


@pytest.mark.parametrize("env_id", env_ids())
def test_sb3_checker(env_id):
    from stable_baselines3.common.env_checker import check_env

    env = gymnasium.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env, warn=True)


def test_builtins_are_registered_through_entry_points_and_namespaced():
    builtin = {i for i, target in env_entry_points().items() if target.startswith("archgym.envs.")}
    assert builtin == BUILTIN
    assert all(i in gymnasium.registry for i in BUILTIN)  # registered on `import archgym`


def test_make_env_errors_name_the_id():
    with pytest.raises(ConfigError, match="unknown environment 'archgym/Nope-v0'.*archgym/NAS-v0"):
        make_env("archgym/Nope-v0")
    with pytest.raises(ConfigError, match="'CartPole-v1' is a gymnasium env but not an archgym one"):
        make_env("CartPole-v1")


def test_version_has_one_source():
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    (declared,) = re.findall(r'^version = "([^"]+)"$', pyproject, re.MULTILINE)
    assert archgym.__version__ == importlib.metadata.version("archgym") == declared
    assert archgym.__version__ != "0+unknown"
