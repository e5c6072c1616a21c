"""Names -> environments and agents, open to other packages.

**Environments** are gymnasium environments: ``make_env`` (and ``archgym run env.id=...``)
accepts any id in gymnasium's registry. Packages register theirs through the entry-point
group ``archgym.envs`` (name: the gymnasium id, value: ``"module:factory"``, or
``"module:DECLARATION"``, an :class:`~archgym.declaration.EnvDeclaration` that names the
factory and declares the default space and metrics so ``archgym envs`` lists the env without
building it; archgym's own envs are registered that way, in archgym's ``pyproject.toml``)::

    [project.entry-points."archgym.envs"]
    "mylab/MyChip-v0" = "mylab.env:make_my_chip_env"

:func:`register_envs` (run on ``import archgym``) registers every entry point with
gymnasium, so ``gymnasium.make("archgym/DRAMController-v0")`` works too. An env registered
by other means (a package calling ``gymnasium.register`` on import) works as well; the id
``"package:Id-v0"`` imports the package first (gymnasium's own convention).

**Agents** are :class:`~archgym.agent.Agent` subclasses named by the entry-point group
``archgym.agents`` (name: the config name, value: ``"module:Class"``), which holds the nine
built-ins, or given by import path: ``"package.module:Class"`` or ``"package.module.Class"``
(an agent config's Hydra-style ``_target_``). Entry points are resolved only when used, so
importing ``archgym`` stays light.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import gymnasium

from archgym.errors import ConfigError as ConfigError
from archgym.plugins import AGENT_GROUP, ENV_GROUP, entry_point_table, factory_keywords
from archgym.plugins import load_object as load_object

if TYPE_CHECKING:
    from archgym.agent import Agent
    from archgym.declaration import EnvDeclaration


def env_entry_points() -> dict[str, str]:
    """gymnasium id -> ``"module:factory"`` of every installed ``archgym.envs`` entry point."""
    return entry_point_table(ENV_GROUP)


def agent_entry_points() -> dict[str, str]:
    """Config name -> ``"module:Class"`` of every installed ``archgym.agents`` entry point."""
    return entry_point_table(AGENT_GROUP)


def __getattr__(name: str) -> Mapping[str, str]:
    # the tables as module attributes, read afresh (so packages installed later show up)
    if name == "ENV_ENTRY_POINTS":
        return env_entry_points()
    if name == "AGENT_ENTRY_POINTS":
        return agent_entry_points()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def register_envs() -> None:
    """Register every ``archgym.envs`` entry point with gymnasium (idempotent).

    Each env also gets a ``vector_entry_point`` (:func:`archgym.vector.make_vector_env`), so
    ``gymnasium.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")`` evaluates
    the ``N`` designs of a step as one batch in one process.
    """
    for env_id, entry in env_entry_points().items():
        if env_id not in gymnasium.registry:
            vector = functools.partial(_make_vector_env, entry_point=entry)
            gymnasium.register(id=env_id, entry_point=entry, vector_entry_point=vector)


def _make_vector_env(num_envs: int = 1, **kwargs: Any) -> Any:
    from archgym.vector import make_vector_env  # light import of archgym: the vector env loads on use

    return make_vector_env(num_envs, **kwargs)


def env_ids() -> list[str]:
    """Ids of the envs registered through the ``archgym.envs`` entry points (built-ins first)."""
    ids = list(env_entry_points())
    return sorted(ids, key=lambda i: (not i.startswith("archgym/"), i))


def env_declaration(env_id: str) -> EnvDeclaration | None:
    """The :class:`~archgym.declaration.EnvDeclaration` an ``archgym.envs`` entry point names
    (None when it names a plain factory or the id has no entry point); imports only the
    declaration's module."""
    from archgym.declaration import EnvDeclaration

    entry = env_entry_points().get(env_id)
    obj = load_object(entry) if entry else None
    return obj if isinstance(obj, EnvDeclaration) else None


#: keywords ``gymnasium.make`` takes itself
_GYMNASIUM_MAKE_KEYWORDS = ("max_episode_steps", "disable_env_checker", "render_mode")


def _env_keywords(env_id: str) -> list[str] | None:
    """The keyword arguments the factory of ``env_id`` accepts, or None when it takes ``**kwargs``
    (archgym's pass them to :class:`~archgym.env.ArchGymEnv`, which names what it accepts)."""
    entry = gymnasium.spec(env_id).entry_point
    factory = load_object(entry) if isinstance(entry, str) else entry
    if not callable(factory):
        return None
    params = inspect.signature(factory).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return [*factory_keywords(factory), *_GYMNASIUM_MAKE_KEYWORDS]


def make_env(
    env_id: str, simulator: str | Mapping[str, Any] | None = None, **kwargs: Any
) -> gymnasium.Env[Any, Any]:
    """``gymnasium.make`` for archgym environments, with one clear error for a bad id or keyword.

    ``simulator`` is an ``env.simulator`` config (a name such as ``"template"``, or
    ``{"name": "proxy", "path": FILE}``), resolved with :func:`~archgym.simulator.resolve_simulator`
    once the env is built; one that wraps the agent (``proxy_in_loop``) is for ``archgym run``.

    Raises:
        ConfigError: the id is not registered (naming the archgym envs installed), names
            a gymnasium env that is not an :class:`~archgym.env.ArchGymEnv`, a keyword the
            env does not take (naming those it does), or a bad ``simulator``.
    """
    from archgym.env import unwrap
    from archgym.simulator import resolve_simulator

    register_envs()
    if ":" not in env_id and env_id not in gymnasium.registry:
        installed = env_ids()
        hint = (
            "(or any id registered with gymnasium; 'package:Id-v0' imports the package first)"
            if installed
            else "(none found: install archgym, e.g. pip install -e ., so its entry points are registered)"
        )
        raise ConfigError(
            f"env.id: unknown environment {env_id!r}; installed archgym envs: {', '.join(installed)} {hint}"
        )
    try:
        allowed = _env_keywords(env_id) if env_id in gymnasium.registry else None
        unknown = [k for k in kwargs if allowed is not None and k not in allowed]
        if unknown:
            raise ConfigError(
                f"env.kwargs ({env_id}): unknown keyword(s) {', '.join(unknown)}; allowed: {', '.join(allowed or [])}"
            )
        env = gymnasium.make(env_id, **kwargs)
    except gymnasium.error.Error as exc:  # e.g. 'package:Id' whose package does not register Id
        raise ConfigError(f"env.id: {exc}") from exc
    try:
        base = unwrap(env)
    except TypeError:
        env.close()
        raise ConfigError(
            f"env.id: {env_id!r} is a gymnasium env but not an archgym one (archgym.env.ArchGymEnv)"
        ) from None
    if simulator is not None:
        choice = resolve_simulator(base, simulator)
        if choice.wrap_agent is not None:
            env.close()
            raise ConfigError(
                f"simulator {simulator!r} wraps the run's agent: use it with archgym run (env.simulator=...)"
            )
        if choice.simulator is not base.simulator:
            base.set_simulator(choice.simulator)
    return env


def agent_class(name: str) -> type[Agent]:
    """The agent class registered as ``name``, or at the import path ``name``."""
    from archgym.agent import Agent

    registered = agent_entry_points()
    path = registered.get(name)
    if path is None and ("." in name or ":" in name):
        path = name
    if path is None:
        raise ConfigError(
            f"agent.name: unknown agent {name!r}; allowed: {', '.join(registered)} "
            "(or an import path such as 'package.module:MyAgent')"
        )
    try:
        cls = load_object(path)
    except (ImportError, AttributeError) as exc:
        if name in registered:  # a registered agent whose dependencies are missing here
            raise
        raise ConfigError(f"agent: cannot import {path!r}: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Agent)):
        raise ConfigError(f"agent: {path!r} is not an archgym.agent.Agent subclass")
    return cls


def make_agent(name: str, space: Any, seed: int = 0, **hyperparameters: Any) -> Any:
    """Build an agent by config name or import path; unknown hyperparameters get an error
    listing the known ones."""
    cls = agent_class(name)
    known = list(cls.hyperparameter_defaults())
    unknown = [k for k in hyperparameters if k not in known]
    if unknown:
        raise ConfigError(
            f"agent {name!r}: unknown hyperparameter(s) {', '.join(unknown)}; allowed: {', '.join(known)}"
        )
    try:
        return cls(space, seed=seed, **hyperparameters)
    except ConfigError as exc:  # the agent's own check of a value; anything else is a bug
        raise ConfigError(f"agent {name!r}: {exc}") from exc
