"""Names -> environments and agents.

Environments register with gymnasium under the ``archgym/`` namespace (on import of
``archgym``), so ``gymnasium.make("archgym/DRAMController-v0", ...)`` works. Agents are
named by their config name (``agent=random``). Both tables hold import paths, resolved only
when used, so importing ``archgym`` stays light.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from typing import Any

import gymnasium

#: gymnasium id -> entry point ("module:factory")
ENV_ENTRY_POINTS: Mapping[str, str] = {
    "archgym/DRAMController-v0": "archgym.envs.dram.env:make_dram_env",
    "archgym/Accelerator-v0": "archgym.envs.accelerator.env:make_accelerator_env",
    "archgym/NAS-v0": "archgym.envs.nas.env:make_nas_env",
    "archgym/CoDesign-v0": "archgym.envs.nas.codesign:make_codesign_env",
}

#: config name -> agent class ("module:Class")
AGENT_ENTRY_POINTS: Mapping[str, str] = {
    "random": "archgym.agents.random_search:RandomSearch",
    "rw": "archgym.agents.random_search:RandomWalk",
    "ga": "archgym.agents.evolution:GeneticAlgorithm",
    "aging": "archgym.agents.evolution:AgingEvolution",
    "aco": "archgym.agents.ant_colony:AntColony",
    "bo": "archgym.agents.bayesopt:BayesianOptimization",
    "tpe": "archgym.agents.optuna_agents:TPE",
    "cmaes": "archgym.agents.optuna_agents:CMAES",
    "nsga2": "archgym.agents.optuna_agents:NSGA2",
    "qmc": "archgym.agents.optuna_agents:QMC",
    "grid": "archgym.agents.optuna_agents:Grid",
    "ppo": "archgym.agents.rl:PPOAgent",
    "a2c": "archgym.agents.rl:A2CAgent",
    "dqn": "archgym.agents.rl:DQNAgent",
}


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the key and the allowed values."""


def _load(entry_point: str) -> Any:
    module, _, attr = entry_point.partition(":")
    return getattr(importlib.import_module(module), attr)


def register_envs() -> None:
    """Register every archgym environment with gymnasium (idempotent)."""
    for env_id, entry in ENV_ENTRY_POINTS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point=entry)


def env_ids() -> list[str]:
    return list(ENV_ENTRY_POINTS)


def make_env(env_id: str, **kwargs: Any) -> gymnasium.Env:
    """``gymnasium.make`` with a clear error for unknown ids."""
    if env_id not in ENV_ENTRY_POINTS:
        raise ConfigError(f"env.id: unknown environment {env_id!r}; allowed: {', '.join(ENV_ENTRY_POINTS)}")
    register_envs()
    return gymnasium.make(env_id, **kwargs)


def agent_class(name: str) -> type:
    if name not in AGENT_ENTRY_POINTS:
        raise ConfigError(f"agent.name: unknown agent {name!r}; allowed: {', '.join(AGENT_ENTRY_POINTS)}")
    return _load(AGENT_ENTRY_POINTS[name])


def make_agent(name: str, space: Any, seed: int = 0, **hyperparameters: Any) -> Any:
    """Build an agent by config name; unknown hyperparameters get an error listing the known ones."""
    cls = agent_class(name)
    known = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "space", "seed")]
    unknown = [k for k in hyperparameters if k not in known]
    if unknown:
        raise ConfigError(
            f"agent {name!r}: unknown hyperparameter(s) {', '.join(unknown)}; allowed: {', '.join(known)}"
        )
    try:
        return cls(space, seed=seed, **hyperparameters)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"agent {name!r}: {exc}") from None
