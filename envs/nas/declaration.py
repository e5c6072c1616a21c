"""``archgym/NAS-v0`` and ``archgym/CoDesign-v0`` as ``archgym envs`` lists them (see
:mod:`archgym.declaration`): read from light modules, without torch."""

from __future__ import annotations

from archgym.declaration import EnvDeclaration
from archgym.design_space import DesignSpace
from archgym.envs.accelerator.space import accelerator_design_space

from .cell_ops import cell_design_space
from .joint_space import joint_space


def codesign_default_space() -> DesignSpace:
    """The NAS-Bench-201 cell's knobs (``net.*``) with the accelerator's (``hw.*``)."""
    return joint_space(cell_design_space(), accelerator_design_space())


_NOTE = "space=cell (shown), block or vit; evaluator=proxy (shown), train or nb201"

NAS = EnvDeclaration(
    factory="archgym.envs.nas.env:make_nas_env",
    simulator="archgym-nas: zero-cost proxies on digits, costs on the accelerator template model",
    metrics="archgym.envs.nas.metrics:default_metrics",
    space="archgym.envs.nas.cell_ops:cell_design_space",
    space_note=_NOTE,
)
CODESIGN = EnvDeclaration(
    factory="archgym.envs.nas.codesign:make_codesign_env",
    simulator="archgym-codesign: zero-cost proxies on digits, costs on the accelerator template model",
    metrics="archgym.envs.nas.metrics:default_metrics",
    space="archgym.envs.nas.declaration:codesign_default_space",
    space_note=_NOTE,
)
