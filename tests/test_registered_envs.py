"""Every registered archgym env passes gymnasium's and SB3's env checkers with no warnings."""

import warnings

import gymnasium
import pytest

import archgym
from archgym.registry import env_ids


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


def test_ids_are_namespaced():
    assert all(i.startswith("archgym/") for i in env_ids())
    assert archgym.__version__
