"""Loading what other packages plug in: entry-point tables and import paths (a leaf module)."""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import entry_points
from typing import Any

#: the entry-point groups: environments, agents, simulators
ENV_GROUP = "archgym.envs"
AGENT_GROUP = "archgym.agents"
SIMULATOR_GROUP = "archgym.simulators"


def entry_point_table(group: str) -> dict[str, str]:
    """Name -> ``"module:attr"`` of every installed entry point of ``group`` (read afresh)."""
    return {ep.name: ep.value for ep in entry_points(group=group)}


def load_object(path: str) -> Any:
    """Import ``"package.module:attr"`` or ``"package.module.attr"`` (``attr`` may be dotted)."""
    module, sep, attr = path.partition(":")
    if not sep:
        module, _, attr = path.rpartition(".")
    if not module or not attr:
        raise ImportError(f"{path!r} is not an import path like 'package.module:Name'")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def factory_keywords(factory: Any) -> list[str]:
    """The named keyword arguments of a callable (not ``**kwargs``), in order."""
    params = inspect.signature(factory).parameters.values()
    return [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
