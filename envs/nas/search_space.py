"""What every NAS search space offers: a :class:`DesignSpace`, a module builder and a key.

A *network space* maps a design (a dict of parameter values, as for every archgym design
space) to a real ``torch.nn.Module`` that classifies images of a fixed input shape. The
:meth:`NetworkSpace.arch_key` is a canonical string naming the architecture; evaluators
cache by it, so two designs that build the same network share one evaluation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

import numpy as np
from torch import nn

from archgym.design_space import DesignSpace


class NetworkSpace(ABC):
    """A family of networks indexed by designs of :attr:`space`."""

    #: short name used in configs and cache keys ("cell", "block")
    name: str = ""

    def __init__(self, input_shape: tuple[int, int, int], num_classes: int) -> None:
        if len(input_shape) != 3 or any(int(d) < 1 for d in input_shape):
            raise ValueError(f"input_shape must be (C, H, W) with positive entries, got {input_shape!r}")
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}")
        self.input_shape = tuple(int(d) for d in input_shape)
        self.num_classes = int(num_classes)
        self._space = self._make_space()

    @property
    def space(self) -> DesignSpace:
        """The design space (parameter names, domains, encodings)."""
        return self._space

    @abstractmethod
    def _make_space(self) -> DesignSpace:
        """Build the design space (called once, in ``__init__``)."""

    @abstractmethod
    def build(self, design: Mapping[str, Any]) -> nn.Module:
        """Build the (freshly initialised) network of ``design``; uses the global torch RNG."""

    @abstractmethod
    def arch_key(self, design: Mapping[str, Any]) -> str:
        """Canonical name of the architecture (equal keys build identical networks)."""

    @abstractmethod
    def config_key(self) -> str:
        """Name of the fixed macro settings (widths, depths); part of every cache key."""

    @abstractmethod
    def reference_design(self) -> dict[str, Any]:
        """A strong, large design of the space; default targets are calibrated on it."""

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """A uniformly random design."""
        return self.space.from_indices(self.space.sample_indices(rng))

    def cache_key(self, design: Mapping[str, Any]) -> str:
        """``config_key/arch_key``: unique across spaces and macro settings."""
        return f"{self.name}[{self.config_key()}]/{self.arch_key(self.space.validate(design))}"


__all__ = ["NetworkSpace"]
