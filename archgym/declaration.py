"""Env declarations: what ``archgym envs`` lists about an env without building it.

An ``archgym.envs`` entry point may name an :class:`EnvDeclaration` instead of a bare factory.
The declaration is callable like the factory it names (gymnasium builds the env through it),
and it tells, from light modules only, what the env's default configuration looks like: its
design space, its metrics and its default simulator. Listing the envs then imports no
simulator, workload or model (no torch, no compiled kernels) and runs no target search.
``tests/test_env_declarations.py`` checks every built-in declaration against the env it builds.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from archgym.plugins import load_object

if TYPE_CHECKING:
    from archgym.design_space import DesignSpace
    from archgym.simulator import Metric


@dataclass(frozen=True)
class EnvDeclaration:
    """An env factory plus the declared shape of its default configuration.

    Attributes:
        factory: ``"module:function"`` that builds the env (loaded only when called).
        simulator: the default simulator, as ``archgym envs`` shows it (name and model).
        metrics: ``"module:NAME"`` of the default simulator's metrics (a tuple of
            :class:`~archgym.simulator.Metric`, or a function returning one), from a light module.
        space: ``"module:function"`` returning the default :class:`~archgym.design_space.DesignSpace`,
            from a light module; None where the knobs depend on the workload (see ``space_note``).
        space_note: how the knobs are formed where they depend on the configuration.
    """

    factory: str
    simulator: str
    metrics: str
    space: str | None = None
    space_note: str = ""

    def __call__(self, **kwargs: Any) -> Any:
        return self.load_factory()(**kwargs)

    def load_factory(self) -> Callable[..., Any]:
        """The env factory this declaration names."""
        factory: Callable[..., Any] = load_object(self.factory)
        return factory

    @property
    def __signature__(self) -> inspect.Signature:  # keyword checks see the factory's arguments
        return inspect.signature(self.load_factory())

    def declared_metrics(self) -> tuple[Metric, ...]:
        """The default simulator's metrics."""
        metrics = load_object(self.metrics)
        return tuple(metrics() if callable(metrics) else metrics)

    def declared_space(self) -> DesignSpace | None:
        """The default design space (None where it depends on the workload)."""
        return None if self.space is None else load_object(self.space)()

    def describe(self, env_id: str) -> str:
        """The ``archgym envs`` block for this env."""
        lines = [f"{env_id}  simulator: {self.simulator}"]
        space = self.declared_space()
        if space is not None:
            lines.append(space.describe())
        if self.space_note:
            lines.append(f"  knobs: {self.space_note}")
        lines.append("  metrics: " + metric_list(self.declared_metrics()))
        return "\n".join(lines)


def metric_list(metrics: Sequence[Metric]) -> str:
    """``name [unit, better], ...``: how `archgym envs` shows metrics."""
    return ", ".join(f"{m.name} [{m.unit}, {m.better}]" for m in metrics)


def factory_defaults(factory: Callable[..., Any]) -> dict[str, Any]:
    """The default value of each keyword ``factory`` takes (for declarations that build the
    default space with the factory's own defaults rather than restating them)."""
    params = inspect.signature(factory).parameters.values()
    return {p.name: p.default for p in params if p.default is not p.empty}
