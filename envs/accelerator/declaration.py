"""``archgym/Accelerator-v0`` and ``archgym/AcceleratorMapping-v0`` as ``archgym envs`` lists
them (see :mod:`archgym.declaration`): read from :mod:`.space` and :mod:`.metrics`, which load
neither torch nor the compiled models."""

from __future__ import annotations

from archgym.declaration import EnvDeclaration

ACCELERATOR = EnvDeclaration(
    factory="archgym.envs.accelerator.env:make_accelerator_env",
    simulator="hierarchy: archgym-accelerator hierarchy model (compiled loop-order mapper, port stalls; "
    "ZigZag-validated); env.simulator=template|zigzag",
    metrics="archgym.envs.accelerator.metrics:METRICS",
    space="archgym.envs.accelerator.space:accelerator_design_space",
    space_note="space=extended gives the 26-knob Timeloop-sized space",
)
ACCELERATOR_MAPPING = EnvDeclaration(
    factory="archgym.envs.accelerator.mapping_env:make_accelerator_mapping_env",
    simulator="mapping: archgym-accelerator mapping cost (hierarchy model on a given mapping)",
    metrics="archgym.envs.accelerator.metrics:MAPPING_METRICS",
    space_note="depend on the hardware and the layer: sp.<array dim>.dim/f spatial unrolling, "
    "t.<dim>.<level> tiling, o.<dim>.<level> loop order, a.<operand>.<level> allocation",
)
