"""``archgym/DRAMController-v0`` as ``archgym envs`` lists it (see :mod:`archgym.declaration`)."""

from __future__ import annotations

from archgym.declaration import EnvDeclaration, factory_defaults
from archgym.design_space import DesignSpace


def default_space() -> DesignSpace:
    """The controller knobs with the factory's default encodings and space."""
    from .env import make_dram_env
    from .space import dram_design_space

    d = factory_defaults(make_dram_env)
    return dram_design_space(d["max_active_encoding"], d["buffer_encoding"], d["space"])


DRAM_CONTROLLER = EnvDeclaration(
    factory="archgym.envs.dram.env:make_dram_env",
    simulator="archgym-dram: cycle-level DDR controller (DDR4-2400 by default), validated against Ramulator",
    metrics="archgym.envs.dram.simulator:METRICS",
    space="archgym.envs.dram.declaration:default_space",
)
