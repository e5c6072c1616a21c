"""A vision-transformer search space (ViT / DeiT with AutoFormer-style per-layer choices).

Dosovitskiy et al., "An Image is Worth 16x16 Words: Transformers for Image Recognition at
Scale", ICLR 2021 (ViT); Touvron et al., "Training data-efficient image transformers", ICML
2021 (DeiT); Chen et al., "AutoFormer: Searching Transformers for Visual Recognition", ICCV
2021, whose space searches the embedding dimension and depth globally and the number of
heads and the MLP ratio per layer. The searched parameters here:

==================  ==================  ======================================================
parameter           default choices     meaning
==================  ==================  ======================================================
``patch_size``      2, 4                side of the square patches (tokens = (H/p) * (W/p))
``embed_dim``       16, 24, 32          token width D (AutoFormer-T: 192, 216, 240)
``depth``           1, 2, 3, 4          encoder blocks (AutoFormer-T: 12, 13, 14)
``layer<i>_heads``  1, 2, 4             attention heads of block ``i`` (AutoFormer-T: 3, 4)
``layer<i>_mlp``    1, 2, 4             MLP hidden width / D of block ``i`` (AutoFormer: 3.5, 4)
==================  ==================  ======================================================

Per-layer choices of blocks beyond ``depth`` are unused, as in AutoFormer's supernet; the
architecture key drops them, so designs differing only there share one evaluation. The
defaults are sized for 8x8 digits and CPU training (44,280 distinct networks; every choice
list is a :class:`ViTSpaceConfig` field, e.g. ``patch_sizes=(4, 8)`` for 32x32 CIFAR).

The network (DeiT's layout, pre-norm): a ``p x p`` stride-``p`` convolution embeds the
patches, a class token is prepended and a learned position embedding added; each block is
``x + Attn(LN(x))`` then ``x + MLP(LN(x))`` with GELU; a final LayerNorm and a linear head
read the class token. Trained with the same seeded SGD recipe as the other spaces
(:mod:`.training`). Attention computes ``Q K^T`` and ``softmax(.) V`` through
:class:`archgym.envs.accelerator.MatMul`, so the accelerator tracer records them as GEMMs
(one group per head), exactly as it does for the BERT workload; the ``qkv``, projection and
MLP layers are ``nn.Linear`` GEMMs over the tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from archgym.design_space import DesignSpace, Ordinal
from archgym.envs.accelerator import MatMul

from .search_space import NetworkSpace


class MultiHeadAttention(nn.Module):
    """Multi-head self-attention; ``qkv`` and ``proj`` are linear layers, the products are :class:`MatMul`."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"embedding dim {dim} must be divisible by heads {heads}")
        self.heads, self.head_dim = heads, dim // heads
        self.scale = self.head_dim**-0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.scores, self.context = MatMul(), MatMul()
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = torch.softmax(self.scores(q, k.transpose(-2, -1)) * self.scale, dim=-1)
        return self.proj(self.context(attn, v).transpose(1, 2).reshape(b, t, d))


class MLP(nn.Module):
    """Linear - GELU - Linear (the transformer's feed-forward block)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class EncoderBlock(nn.Module):
    """Pre-norm transformer block: ``x + Attn(LN(x))``, then ``x + MLP(LN(x))``."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim), MultiHeadAttention(dim, heads)
        self.norm2, self.mlp = nn.LayerNorm(dim), MLP(dim, max(1, int(round(dim * mlp_ratio))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    """Patch embedding, class token, position embedding, encoder blocks, LayerNorm, linear head."""

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        num_classes: int,
        patch: int,
        dim: int,
        blocks: list[tuple[int, float]],
    ) -> None:
        super().__init__()
        c, h, w = image_shape
        self.patch_embed = nn.Conv2d(c, dim, patch, stride=patch)
        tokens = (h // patch) * (w // patch) + 1
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens, dim))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.blocks = nn.Sequential(*(EncoderBlock(dim, heads, ratio) for heads, ratio in blocks))
        self.norm = nn.LayerNorm(dim)
        # linear layers keep PyTorch's default initialisation: DeiT's truncated normal (std
        # 0.02) is tuned for widths of 192+; at widths 16-32 it left every sampled network at
        # chance after 4 SGD epochs on digits, the default init reached 0.89-0.92 (p=4)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x).flatten(2).transpose(1, 2)  # (B, tokens, dim)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        return self.head(self.norm(self.blocks(x))[:, 0])


@dataclass(frozen=True)
class ViTSpaceConfig:
    """Choice lists of the ViT space (see the module docstring)."""

    patch_sizes: tuple[int, ...] = (2, 4)
    embed_dims: tuple[int, ...] = (16, 24, 32)
    depths: tuple[int, ...] = (1, 2, 3, 4)
    heads: tuple[int, ...] = (1, 2, 4)
    mlp_ratios: tuple[float, ...] = (1.0, 2.0, 4.0)

    def __post_init__(self) -> None:
        for f in ("patch_sizes", "embed_dims", "depths", "heads", "mlp_ratios"):
            values = tuple(getattr(self, f))
            if not values or min(values) <= 0:
                raise ValueError(f"{f} must be a non-empty list of positive values, got {values}")
            object.__setattr__(self, f, values)
        bad = [(d, h) for d in self.embed_dims for h in self.heads if d % h]
        if bad:
            raise ValueError(f"every embed_dim must be divisible by every head count; not {bad}")

    @property
    def max_depth(self) -> int:
        return max(self.depths)


class ViTSpace(NetworkSpace):
    """ViT / DeiT space with AutoFormer-style per-layer heads and MLP ratios."""

    name = "vit"

    def __init__(
        self,
        input_shape: tuple[int, int, int] = (1, 8, 8),
        num_classes: int = 10,
        config: ViTSpaceConfig | None = None,
        **config_kwargs: Any,
    ) -> None:
        if config is not None and config_kwargs:
            raise ValueError("give either config= or its fields as keyword arguments, not both")
        self.config = config or ViTSpaceConfig(**config_kwargs)
        _, h, w = input_shape
        bad = [p for p in self.config.patch_sizes if h % p or w % p]
        if bad:
            raise ValueError(f"patch sizes {bad} do not divide the {h}x{w} images; set patch_sizes=")
        super().__init__(input_shape, num_classes)

    def _make_space(self) -> DesignSpace:
        cfg = self.config
        params = [
            Ordinal("patch_size", cfg.patch_sizes),
            Ordinal("embed_dim", cfg.embed_dims),
            Ordinal("depth", cfg.depths),
        ]
        for i in range(1, cfg.max_depth + 1):
            params += [Ordinal(f"layer{i}_heads", cfg.heads), Ordinal(f"layer{i}_mlp", cfg.mlp_ratios)]
        return DesignSpace(params)

    def _blocks(self, d: Mapping[str, Any]) -> list[tuple[int, float]]:
        return [(int(d[f"layer{i}_heads"]), float(d[f"layer{i}_mlp"])) for i in range(1, int(d["depth"]) + 1)]

    def build(self, design: Mapping[str, Any]) -> nn.Module:
        d = self.space.validate(design)
        return VisionTransformer(
            self.input_shape,  # type: ignore[arg-type]
            self.num_classes,
            int(d["patch_size"]),
            int(d["embed_dim"]),
            self._blocks(d),
        )

    def arch_key(self, design: Mapping[str, Any]) -> str:
        d = self.space.validate(design)
        layers = "-".join(f"h{h}m{m:g}" for h, m in self._blocks(d))
        return f"p{d['patch_size']}-d{d['embed_dim']}-L{d['depth']}-{layers}"

    def config_key(self) -> str:
        c, h, w = self.input_shape
        return f"in{c}x{h}x{w}-cls{self.num_classes}"

    def reference_design(self) -> dict[str, Any]:
        """The largest network: smallest patches (most tokens), every other choice at its maximum."""
        d = self.space.from_indices(self.space.nvec - 1)
        d["patch_size"] = min(self.config.patch_sizes)
        return d


__all__ = ["MLP", "EncoderBlock", "MultiHeadAttention", "ViTSpace", "ViTSpaceConfig", "VisionTransformer"]
