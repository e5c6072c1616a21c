"""NAS-Bench-201's cell search space and its network builder.

Dong & Yang, "NAS-Bench-201: Extending the Scope of Reproducible Neural Architecture
Search", ICLR 2020. A *cell* is a directed acyclic graph of 4 nodes; node 0 is the cell
input, node ``j`` sums one operation applied to every earlier node ``i < j`` (6 edges), and
node 3 is the cell output. Every edge takes one of five operations:

=============  ===================================================  ==================
choice         operation                                            NAS-Bench-201 name
=============  ===================================================  ==================
``none``       zero (the edge is absent)                            ``none``
``skip``       identity                                             ``skip_connect``
``conv1x1``    ReLU - 1x1 conv - BatchNorm                          ``nor_conv_1x1``
``conv3x3``    ReLU - 3x3 conv - BatchNorm                          ``nor_conv_3x3``
``avgpool3x3`` 3x3 average pooling, stride 1                        ``avg_pool_3x3``
=============  ===================================================  ==================

so the space holds ``5**6 = 15,625`` cells. The macro skeleton is NAS-Bench-201's: a 3x3
conv stem with BatchNorm, three stages of ``cells_per_stage`` identical cells with
``channels``, ``2*channels`` and ``4*channels`` channels, separated by ResNet basic blocks
with stride 2 (the reductions), then BatchNorm-ReLU, global average pooling and a linear
classifier. NAS-Bench-201 uses ``channels=16, cells_per_stage=5`` on 32x32 images; the
defaults here (``channels=8, cells_per_stage=1``) size it for 8x8 digits, so the three
stages see 8x8, 4x4 and 2x2 feature maps.

Parameters are named ``edge_<i>_<j>`` (the edge from node ``i`` into node ``j``) and the
architecture key is NAS-Bench-201's string, e.g.
``|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from archgym.design_space import DesignSpace

from .cell_ops import EDGES, NB201_NAMES, NUM_NODES, OPS, cell_design_space, edge_name
from .search_space import NetworkSpace


def arch_string(design: Mapping[str, Any]) -> str:
    """NAS-Bench-201's architecture string of a cell design."""
    groups = []
    for j in range(1, NUM_NODES):
        groups.append("|" + "|".join(f"{NB201_NAMES[design[edge_name(i, j)]]}~{i}" for i in range(j)) + "|")
    return "+".join(groups)


def parse_arch_string(arch: str) -> dict[str, str]:
    """The design of a NAS-Bench-201 architecture string (inverse of :func:`arch_string`)."""
    by_nb = {v: k for k, v in NB201_NAMES.items()}
    groups = arch.split("+")
    if len(groups) != NUM_NODES - 1:
        raise ValueError(f"{arch!r}: a NAS-Bench-201 string has {NUM_NODES - 1} '+'-separated node groups")
    design: dict[str, str] = {}
    for j, group in enumerate(groups, start=1):
        items = [t for t in group.split("|") if t]
        if len(items) != j:
            raise ValueError(f"{arch!r}: node {j} needs {j} incoming edges, got {len(items)}")
        for item in items:
            op, _, src = item.partition("~")
            if op not in by_nb or not src.isdigit() or int(src) >= j:
                raise ValueError(f"{arch!r}: bad edge {item!r}; ops are {', '.join(by_nb)}")
            design[edge_name(int(src), j)] = by_nb[op]
    return design


def uniform_cell(op: str) -> dict[str, str]:
    """The design with every edge set to ``op`` (e.g. ``"conv3x3"`` or the degenerate ``"none"``)."""
    if op not in OPS:
        raise ValueError(f"unknown op {op!r}; allowed: {', '.join(OPS)}")
    return {edge_name(i, j): op for i, j in EDGES}


# ----------------------------------------------------------------- operations
class ReLUConvBN(nn.Sequential):
    """ReLU, convolution (no bias), BatchNorm: NAS-Bench-201's ``nor_conv`` operations."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )


class Zero(nn.Module):
    """The ``none`` operation: an all-zero output of the input's shape."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_op(op: str, channels: int) -> nn.Module:
    """Module of one cell edge (stride 1, same channel count in and out)."""
    if op == "none":
        return Zero()
    if op == "skip":
        return nn.Identity()
    if op == "conv1x1":
        return ReLUConvBN(channels, channels, 1)
    if op == "conv3x3":
        return ReLUConvBN(channels, channels, 3)
    if op == "avgpool3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown op {op!r}; allowed: {', '.join(OPS)}")


class Cell(nn.Module):
    """One NAS-Bench-201 cell: node ``j`` = sum of ``op_ij(node i)`` over ``i < j``."""

    def __init__(self, design: Mapping[str, str], channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleDict(
            {edge_name(i, j): make_op(design[edge_name(i, j)], channels) for i, j in EDGES}
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for j in range(1, NUM_NODES):
            nodes.append(sum(self.edges[edge_name(i, j)](nodes[i]) for i in range(j)))
        return nodes[-1]


class ResNetReduction(nn.Module):
    """NAS-Bench-201's reduction: a ResNet basic block with stride 2 and a pooled 1x1 shortcut."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, stride=2), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class CellNetwork(nn.Module):
    """Stem, three stages of cells with two reductions, BN-ReLU, global pooling, classifier."""

    def __init__(
        self,
        design: Mapping[str, str],
        in_channels: int,
        num_classes: int,
        channels: int,
        cells_per_stage: int,
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels)
        )
        layers: list[nn.Module] = []
        c = channels
        for stage in range(3):
            if stage > 0:
                layers.append(ResNetReduction(c, 2 * c))
                c *= 2
            layers.extend(Cell(design, c) for _ in range(cells_per_stage))
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=False))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.lastact(self.cells(self.stem(x)))
        return self.classifier(torch.flatten(self.pool(x), 1))


# ---------------------------------------------------------------- the space
@dataclass(frozen=True)
class CellSpaceConfig:
    """Fixed macro settings of the cell network (not searched).

    Attributes:
        channels: channels of the first stage (doubled at each reduction); NAS-Bench-201: 16.
        cells_per_stage: cells stacked per stage; NAS-Bench-201: 5.
    """

    channels: int = 8
    cells_per_stage: int = 1

    def __post_init__(self) -> None:
        if self.channels < 1 or self.cells_per_stage < 1:
            raise ValueError(
                f"channels and cells_per_stage must be >= 1, got {self.channels}, {self.cells_per_stage}"
            )


class CellSpace(NetworkSpace):
    """NAS-Bench-201's cell space (see the module docstring)."""

    name = "cell"

    def __init__(
        self,
        input_shape: tuple[int, int, int] = (1, 8, 8),
        num_classes: int = 10,
        config: CellSpaceConfig | None = None,
        **config_kwargs: int,
    ) -> None:
        if config is not None and config_kwargs:
            raise ValueError("give either config= or its fields as keyword arguments, not both")
        self.config = config or CellSpaceConfig(**config_kwargs)
        super().__init__(input_shape, num_classes)

    def _make_space(self) -> DesignSpace:
        return cell_design_space()

    def build(self, design: Mapping[str, Any]) -> nn.Module:
        d = self.space.validate(design)
        return CellNetwork(
            d, self.input_shape[0], self.num_classes, self.config.channels, self.config.cells_per_stage
        )

    def arch_key(self, design: Mapping[str, Any]) -> str:
        return arch_string(self.space.validate(design))

    def reference_design(self) -> dict[str, Any]:
        """Every edge a 3x3 conv (the largest cell)."""
        return uniform_cell("conv3x3")

    def config_key(self) -> str:
        c, h, w = self.input_shape
        return f"C{self.config.channels}-N{self.config.cells_per_stage}-in{c}x{h}x{w}-cls{self.num_classes}"


__all__ = [
    "EDGES",
    "NB201_NAMES",
    "OPS",
    "Cell",
    "CellNetwork",
    "CellSpace",
    "CellSpaceConfig",
    "arch_string",
    "edge_name",
    "parse_arch_string",
    "uniform_cell",
]
