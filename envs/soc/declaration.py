"""``archgym/SoC-v0`` as ``archgym envs`` lists it (see :mod:`archgym.declaration`)."""

from __future__ import annotations

from archgym.declaration import EnvDeclaration, factory_defaults
from archgym.design_space import DesignSpace
from archgym.simulator import Metric


def default_space() -> DesignSpace:
    """The knobs of the factory's default workload and slot counts."""
    from .env import make_soc_env
    from .space import soc_design_space
    from .taskgraph import load_workload

    d = factory_defaults(make_soc_env)
    return soc_design_space(load_workload(d["workload"]), d["n_pe"], d["n_mem"], d["n_bus"])


def default_metrics() -> tuple[Metric, ...]:
    """The metrics of the factory's default slot counts."""
    from .env import make_soc_env
    from .simulator import soc_metrics

    d = factory_defaults(make_soc_env)
    return soc_metrics(d["n_pe"], d["n_bus"])


SOC = EnvDeclaration(
    factory="archgym.envs.soc.env:make_soc_env",
    simulator="archgym-soc: FARSI-style task-graph scheduler with power and area (7 nm by default)",
    metrics="archgym.envs.soc.declaration:default_metrics",
    space="archgym.envs.soc.declaration:default_space",
    space_note="placement, memory and bus knobs follow the workload's task graph (shown: audio_decoder)",
)
