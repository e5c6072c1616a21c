"""A MobileNetV2 / Once-for-All-style block search space and its network builder.

Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", CVPR 2018;
Cai et al., "Once-for-All: Train One Network and Specialize it for Efficient Deployment",
ICLR 2020.

The network is a stack of inverted-residual (MBConv) blocks: a 1x1 expansion conv, a
``k x k`` depthwise conv (stride 2 in a stage's first block, where the stage downsamples),
and a linear 1x1 projection, each followed by BatchNorm (ReLU6 after the first two); a
block with stride 1 and equal input/output width adds its input (residual). As in
Once-for-All the searched dimensions are elastic **depth**, **kernel size** and **expand
ratio**, here chosen per stage, plus a global **width multiplier** and the **input
resolution**:

==================  ==================  =====================================================
parameter           default choices     meaning
==================  ==================  =====================================================
``stage<s>_depth``  1, 2, 3             MBConv blocks in stage ``s`` (OFA: 2, 3, 4)
``stage<s>_kernel`` 3, 5, 7             depthwise kernel size of the stage's blocks
``stage<s>_expand`` 3, 4, 6             expansion ratio of the stage's blocks
``width_mult``      0.5, 0.75, 1.0      multiplies every channel count (rounded to ``divisor``)
``resolution``      8, 12, 16           input side in pixels
==================  ==================  =====================================================

Macro skeleton: 3x3 conv stem (stride 1), an MBConv block with expand ratio 1 and kernel 3
(MobileNetV2's first bottleneck), the searched stages, a 1x1 conv to ``head_channels``,
global average pooling and a linear classifier. The defaults are sized for 8x8 digits (OFA
uses 224-pixel ImageNet with a stride-2 stem, five stages and widths 16..160; the widths
here, 8..32 before the multiplier, keep CPU training of the largest design near a minute):
the network resizes its
8x8 input to ``resolution`` with bilinear interpolation as its first operation, so every
design consumes the same data and the traced layers see the searched resolution.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from archgym.design_space import DesignSpace, Ordinal

from .search_space import NetworkSpace


def make_divisible(value: float, divisor: int) -> int:
    """Round ``value`` to a multiple of ``divisor`` (never below it, never 10 % below ``value``)."""
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new


def conv_bn(
    c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1, act: bool = True
) -> nn.Sequential:
    """Conv (no bias) + BatchNorm (+ ReLU6)."""
    layers: list[nn.Module] = [
        nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
    ]
    if act:
        layers.append(nn.ReLU6(inplace=False))
    return nn.Sequential(*layers)


class MBConv(nn.Module):
    """Inverted residual block (MobileNetV2): expand 1x1, depthwise k x k, project 1x1."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = c_in * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(conv_bn(c_in, hidden, 1))
        layers.append(conv_bn(hidden, hidden, kernel, stride, groups=hidden))
        layers.append(conv_bn(hidden, c_out, 1, act=False))
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


class Resize(nn.Module):
    """Bilinear resize to ``size x size`` (a no-op when the input already has that size)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = int(size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] == (self.size, self.size):
            return x
        return F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)

    def extra_repr(self) -> str:
        return f"size={self.size}"


@dataclass(frozen=True)
class BlockSpaceConfig:
    """Fixed macro settings and the choice lists of the block space.

    Attributes:
        stem_channels: width of the stem and the first (expand-1) block, before ``width_mult``.
        stage_channels: output width of every searched stage, before ``width_mult``.
        stage_strides: stride of each stage's first block.
        head_channels: width of the final 1x1 conv (not scaled, as in MobileNetV2 for mult <= 1).
        divisor: channel counts are rounded to multiples of this.
        depths, kernels, expands, width_mults, resolutions: the searched choices.
    """

    stem_channels: int = 8
    stage_channels: tuple[int, ...] = (8, 16, 24, 32)
    stage_strides: tuple[int, ...] = (1, 2, 2, 2)
    head_channels: int = 64
    divisor: int = 4
    depths: tuple[int, ...] = (1, 2, 3)
    kernels: tuple[int, ...] = (3, 5, 7)
    expands: tuple[int, ...] = (3, 4, 6)
    width_mults: tuple[float, ...] = (0.5, 0.75, 1.0)
    resolutions: tuple[int, ...] = (8, 12, 16)

    def __post_init__(self) -> None:
        for f in (
            "stage_channels",
            "stage_strides",
            "depths",
            "kernels",
            "expands",
            "width_mults",
            "resolutions",
        ):
            object.__setattr__(self, f, tuple(getattr(self, f)))
        if not self.stage_channels or len(self.stage_channels) != len(self.stage_strides):
            raise ValueError(
                "stage_channels and stage_strides must be non-empty and of equal length, got "
                f"{self.stage_channels} and {self.stage_strides}"
            )
        if any(k % 2 == 0 or k < 1 for k in self.kernels):
            raise ValueError(f"kernel sizes must be odd and positive, got {self.kernels}")
        if any(s not in (1, 2) for s in self.stage_strides):
            raise ValueError(f"stage strides must be 1 or 2, got {self.stage_strides}")
        if (
            min(self.depths) < 1
            or min(self.expands) < 1
            or min(self.width_mults) <= 0
            or min(self.resolutions) < 1
        ):
            raise ValueError("depths, expands, width multipliers and resolutions must be positive")

    @property
    def num_stages(self) -> int:
        return len(self.stage_channels)


class BlockNetwork(nn.Module):
    """Resize, stem, first block, searched MBConv stages, 1x1 head, pooling, classifier."""

    def __init__(
        self, design: Mapping[str, Any], in_channels: int, num_classes: int, cfg: BlockSpaceConfig
    ) -> None:
        super().__init__()
        wm = float(design["width_mult"])
        stem = make_divisible(cfg.stem_channels * wm, cfg.divisor)
        self.resize = Resize(int(design["resolution"]))
        self.stem = conv_bn(in_channels, stem, 3)
        self.first = MBConv(stem, stem, 3, 1, 1)
        blocks: list[nn.Module] = []
        c = stem
        for s, (width, stride) in enumerate(zip(cfg.stage_channels, cfg.stage_strides), start=1):
            c_out = make_divisible(width * wm, cfg.divisor)
            for b in range(int(design[f"stage{s}_depth"])):
                blocks.append(
                    MBConv(
                        c,
                        c_out,
                        int(design[f"stage{s}_kernel"]),
                        stride if b == 0 else 1,
                        int(design[f"stage{s}_expand"]),
                    )
                )
                c = c_out
        self.stages = nn.Sequential(*blocks)
        self.head = conv_bn(c, cfg.head_channels, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(cfg.head_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head(self.stages(self.first(self.stem(self.resize(x)))))
        return self.classifier(torch.flatten(self.pool(x), 1))


class BlockSpace(NetworkSpace):
    """MobileNetV2 / Once-for-All-style space (see the module docstring)."""

    name = "block"

    def __init__(
        self,
        input_shape: tuple[int, int, int] = (1, 8, 8),
        num_classes: int = 10,
        config: BlockSpaceConfig | None = None,
        **config_kwargs: Any,
    ) -> None:
        if config is not None and config_kwargs:
            raise ValueError("give either config= or its fields as keyword arguments, not both")
        self.config = config or BlockSpaceConfig(**config_kwargs)
        super().__init__(input_shape, num_classes)

    def _make_space(self) -> DesignSpace:
        cfg = self.config
        params = []
        for s in range(1, cfg.num_stages + 1):
            params += [
                Ordinal(f"stage{s}_depth", cfg.depths),
                Ordinal(f"stage{s}_kernel", cfg.kernels),
                Ordinal(f"stage{s}_expand", cfg.expands),
            ]
        params += [Ordinal("width_mult", cfg.width_mults), Ordinal("resolution", cfg.resolutions)]
        return DesignSpace(params)

    def build(self, design: Mapping[str, Any]) -> nn.Module:
        return BlockNetwork(self.space.validate(design), self.input_shape[0], self.num_classes, self.config)

    def arch_key(self, design: Mapping[str, Any]) -> str:
        d = self.space.validate(design)
        stages = "-".join(
            f"d{d[f'stage{s}_depth']}k{d[f'stage{s}_kernel']}e{d[f'stage{s}_expand']}"
            for s in range(1, self.config.num_stages + 1)
        )
        return f"r{d['resolution']}-w{d['width_mult']}-{stages}"

    def config_key(self) -> str:
        c, h, w = self.input_shape
        cfg = self.config
        return (
            f"stem{cfg.stem_channels}-ch{'_'.join(map(str, cfg.stage_channels))}"
            f"-st{''.join(map(str, cfg.stage_strides))}-head{cfg.head_channels}-div{cfg.divisor}"
            f"-in{c}x{h}x{w}-cls{self.num_classes}"
        )

    def reference_design(self) -> dict[str, Any]:
        """The largest design (see :meth:`largest`)."""
        return self.largest()

    def largest(self) -> dict[str, Any]:
        """The design with every choice at its maximum (the biggest network)."""
        return self.space.from_indices(self.space.nvec - 1)

    def smallest(self) -> dict[str, Any]:
        """The design with every choice at its minimum (the smallest network)."""
        return self.space.from_indices([0] * len(self.space))


__all__ = ["BlockNetwork", "BlockSpace", "BlockSpaceConfig", "MBConv", "Resize", "make_divisible"]
