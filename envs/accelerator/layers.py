"""DNN layers as seven-dimensional loop nests, and their struct-of-arrays form.

Every layer the accelerator model understands is a (grouped) convolution in the notation of
Chen et al. (ISCA 2016) and Timeloop (Parashar et al., ISPASS 2019):

* ``N`` batch, ``K`` output channels, ``C`` input channels (both totals over all groups),
* ``R x S`` filter, ``P x Q`` output feature map, ``stride``, ``groups``,
* ``padding`` (top, bottom, left, right) and the real input extents ``in_hw``: padding is
  never fetched, and a strided layer fetches only the input rows and columns it uses.

A fully connected layer or a GEMM ``(M x C) @ (C x K)`` is a 1x1 convolution with ``P = M``
(tokens or rows) and ``Q = 1``; a depthwise convolution has ``groups = C = K``; a batch of
independent matrix products (attention heads) is a grouped GEMM with ``groups = heads``, so
each head has its own "weight" operand (the other activation matrix).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

LayerKind = Literal["conv", "dwconv", "gemm"]
KINDS: tuple[str, ...] = ("conv", "dwconv", "gemm")


@dataclass(frozen=True)
class Layer:
    """One layer: shapes of the loop nest ``N K C R S P Q`` plus stride and groups.

    ``C`` and ``K`` are totals over all groups; per group there are ``C // groups`` input
    and ``K // groups`` output channels.
    """

    name: str
    kind: LayerKind
    N: int
    K: int
    C: int
    R: int
    S: int
    P: int
    Q: int
    stride: int = 1
    groups: int = 1
    padding: tuple[int, int, int, int] = (0, 0, 0, 0)  # top, bottom, left, right
    in_hw: tuple[int, int] | None = None  # real input height, width (default: what the outputs need)
    meta: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"layer {self.name!r}: kind must be one of {', '.join(KINDS)}, got {self.kind!r}"
            )
        for dim in ("N", "K", "C", "R", "S", "P", "Q", "stride", "groups"):
            v = getattr(self, dim)
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"layer {self.name!r}: {dim} must be a positive integer, got {v!r}")
        if len(self.padding) != 4 or any(int(v) < 0 for v in self.padding):
            raise ValueError(
                f"layer {self.name!r}: padding must be 4 non-negative integers, got {self.padding!r}"
            )
        if self.in_hw is not None and (len(self.in_hw) != 2 or min(self.in_hw) < 1):
            raise ValueError(f"layer {self.name!r}: in_hw must be two positive integers, got {self.in_hw!r}")
        if self.C % self.groups or self.K % self.groups:
            raise ValueError(
                f"layer {self.name!r}: C={self.C} and K={self.K} must be divisible by groups={self.groups}"
            )

    @property
    def c_per_group(self) -> int:
        return self.C // self.groups

    @property
    def k_per_group(self) -> int:
        return self.K // self.groups

    @property
    def in_h(self) -> int:
        """Real (unpadded) input height."""
        if self.in_hw is not None:
            return int(self.in_hw[0])
        return max(1, (self.P - 1) * self.stride + self.R - self.padding[0] - self.padding[1])

    @property
    def in_w(self) -> int:
        """Real (unpadded) input width."""
        if self.in_hw is not None:
            return int(self.in_hw[1])
        return max(1, (self.Q - 1) * self.stride + self.S - self.padding[2] - self.padding[3])

    @staticmethod
    def _used(out: int, k: int, stride: int, pads: int, real: int) -> int:
        # rows a sliding window touches: disjoint windows when the stride skips rows
        span = out * k if stride >= k else (out - 1) * stride + k
        return max(1, min(real, span - pads))

    @property
    def H(self) -> int:
        """Input rows actually fetched: no padding rows, and no rows a stride skips."""
        return self._used(self.P, self.R, self.stride, self.padding[0] + self.padding[1], self.in_h)

    @property
    def W(self) -> int:
        """Input columns actually fetched (as :attr:`H`)."""
        return self._used(self.Q, self.S, self.stride, self.padding[2] + self.padding[3], self.in_w)

    @property
    def macs(self) -> int:
        """Multiply-accumulates: ``N * K * (C / groups) * R * S * P * Q``."""
        return self.N * self.K * self.c_per_group * self.R * self.S * self.P * self.Q

    @property
    def weight_count(self) -> int:
        return self.K * self.c_per_group * self.R * self.S

    @property
    def input_count(self) -> int:
        return self.N * self.C * self.H * self.W

    @property
    def output_count(self) -> int:
        return self.N * self.K * self.P * self.Q

    @property
    def shape_key(self) -> tuple:
        """Everything that sets the layer's cost but not its name: the loop extents, stride,
        groups, padding and real input extents (layers with equal keys cost the same)."""
        return (self.N, self.K, self.C, self.R, self.S, self.P, self.Q, self.stride, self.groups,
                tuple(self.padding), self.in_hw)  # fmt: skip

    def with_batch(self, n: int) -> Layer:
        """The same layer at batch size ``n`` (GEMM layers whose rows are tokens keep ``P``)."""
        return Layer(
            self.name,
            self.kind,
            int(n),
            self.K,
            self.C,
            self.R,
            self.S,
            self.P,
            self.Q,
            self.stride,
            self.groups,
            self.padding,
            self.in_hw,
            dict(self.meta),
        )


#: field order of the struct-of-arrays form
SOA_FIELDS: tuple[str, ...] = ("N", "G", "K", "C", "R", "S", "P", "Q", "stride", "H", "W", "macs")


@dataclass(frozen=True)
class LayerArrays:
    """Struct-of-arrays view of a list of layers, for vectorised models.

    ``K`` and ``C`` are **per group** here (``G`` is the group count), ``H``/``W`` the input
    extents read, ``macs`` the MAC count; all float64 arrays of shape ``(L,)``.
    """

    names: tuple[str, ...]
    N: np.ndarray
    G: np.ndarray
    K: np.ndarray
    C: np.ndarray
    R: np.ndarray
    S: np.ndarray
    P: np.ndarray
    Q: np.ndarray
    stride: np.ndarray
    H: np.ndarray
    W: np.ndarray
    macs: np.ndarray

    def __len__(self) -> int:
        return len(self.names)

    def matrix(self) -> np.ndarray:
        """All fields stacked as a ``(len(SOA_FIELDS), L)`` float64 matrix."""
        return np.stack([getattr(self, f) for f in SOA_FIELDS])


def to_arrays(layers: Sequence[Layer]) -> LayerArrays:
    """Convert layers to a :class:`LayerArrays` (per-group channel counts)."""
    if not layers:
        raise ValueError("a workload needs at least one layer")

    def col(fn) -> np.ndarray:
        return np.array([float(fn(l)) for l in layers], dtype=np.float64)

    return LayerArrays(
        names=tuple(l.name for l in layers),
        N=col(lambda l: l.N),
        G=col(lambda l: l.groups),
        K=col(lambda l: l.k_per_group),
        C=col(lambda l: l.c_per_group),
        R=col(lambda l: l.R),
        S=col(lambda l: l.S),
        P=col(lambda l: l.P),
        Q=col(lambda l: l.Q),
        stride=col(lambda l: l.stride),
        H=col(lambda l: l.H),
        W=col(lambda l: l.W),
        macs=col(lambda l: l.macs),
    )


def total_macs(layers: Sequence[Layer]) -> int:
    return int(sum(l.macs for l in layers))
