"""The mapping of a layer as a point of a :class:`~archgym.design_space.DesignSpace`.

The knobs (all integers, so every agent can search them), for a layer on an architecture:

* **spatial unrolling** (``sp.<array dim>.dim`` / ``sp.<array dim>.f``): the layer dimension
  each array dimension unrolls and how far: the ``f``-th smallest of the candidate factors
  (the divisors of what is left of that dimension that fit the array dimension, and the
  array size itself when the dimension is larger: a padded unrolling). Unrollings never
  exceed the array's sizes. With ``spatial="fixed"`` the architecture's own spatial mapping
  is used and these knobs are absent.
* **tiling factors** (``t.<dim>.<p>``): each layer dimension's temporal extent is split into
  as many pieces as the deepest operand has memory levels; piece ``p`` is the ``v``-th
  smallest divisor of what is left, the last piece takes the rest. Every factorisation of
  every dimension is reachable (tested).
* **loop order** (``o.<dim>.<p>``): a priority per piece; the temporal loops (the pieces
  larger than 1) run innermost-first in ascending priority (ties: lower piece, then
  ZigZag's dimension order) -- a random-key encoding that reaches every order.
* **memory allocation** (``a.<operand>.<j>``): how many loops operand ``W``, ``I`` or ``O``
  keeps at (or below) its ``j``-th memory level, counted back from the most whose tile
  would fit that memory if the operand had it alone (``0``: fill it; ``v``: ``v`` loops
  fewer, never fewer than the level below). The outermost level holds the rest. Operands
  sharing a memory may keep different numbers of loops there, as in ZigZag's temporal
  mappings; together they may overfill it -- an infeasible mapping. Every allocation that
  fits is reachable.

:func:`decode_mapping` turns a design into a :class:`~.mapping_cost.LayerMapping`. Index
knobs past the end of their (design-dependent) list take its last entry, so every point
of the space decodes to a mapping; the cost model then says whether it fits the hardware.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from archgym.design_space import Categorical, DesignSpace, Integer, Parameter
from archgym.errors import ConfigError

from .architecture import LAYER_DIMS, OPERANDS, Architecture
from .hierarchy_model import layer_dims, spatial_unrolling
from .layers import Layer
from .mapping_cost import LayerMapping, loop_extents, spatial_setup, tile_bits

SPATIAL_MODES: tuple[str, ...] = ("search", "fixed")


def divisors(n: int) -> list[int]:
    """The divisors of ``n``, ascending."""
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return sorted(set(small) | {n // d for d in small})


def spatial_factors(left: int, size: int) -> list[int]:
    """Unrolling factors for a dimension with ``left`` iterations on an array dimension of
    ``size`` units: the divisors of ``left`` up to ``size``, and ``size`` if ``left`` is larger."""
    out = [d for d in divisors(left) if d <= size]
    return out + [size] if left > size and size not in out else out


@dataclass(frozen=True)
class LayerMappingSpace:
    """The mapping knobs of one layer on one architecture (see the module docstring)."""

    arch: Architecture
    layer: Layer
    spatial: str = "search"
    prefix: str = ""

    def __post_init__(self) -> None:
        if self.spatial not in SPATIAL_MODES:
            raise ConfigError(
                f"env.kwargs.spatial must be one of {', '.join(SPATIAL_MODES)}, got {self.spatial!r}"
            )
        if self.spatial == "fixed" and self.arch.spatial_hints:
            raise ConfigError(
                f"architecture {self.arch.name!r} leaves array dimensions to hints "
                f"({', '.join(self.arch.spatial_hints)}): use spatial='search'"
            )

    @property
    def dims(self) -> dict[str, int]:
        return layer_dims(self.layer)

    @property
    def pieces(self) -> int:
        """Tiling pieces per dimension: the deepest operand's number of memory levels."""
        return max(len(self.arch.levels(op)) for op in OPERANDS)

    def _fixed_unrolling(self) -> dict[str, dict[str, int]]:
        return spatial_unrolling(self.arch, self.dims)

    def _searched_dims(self) -> list[str]:
        """Dimensions with more than one iteration left to tile in time (any unrolling)."""
        dims = self.dims
        if self.spatial == "search":
            return [ld for ld in LAYER_DIMS if dims[ld] > 1]
        total = {ld: 1 for ld in LAYER_DIMS}
        for used in self._fixed_unrolling().values():
            for ld, u in used.items():
                total[ld] *= u
        return [ld for ld in LAYER_DIMS if -(-dims[ld] // total[ld]) > 1]

    def parameters(self) -> list[Parameter]:
        """The knobs, in a fixed order; single-valued knobs are left out (they are decoded as 0)."""
        dims, pre = self.dims, self.prefix
        out: list[Parameter] = []
        active = [ld for ld in LAYER_DIMS if dims[ld] > 1]
        if self.spatial == "search" and active:
            for d, size in self.arch.array.dims.items():
                if len(active) > 1:
                    out.append(Categorical(f"{pre}sp.{d}.dim", tuple(active)))
                n = max(len(spatial_factors(dims[ld], size)) for ld in active)
                out.append(Integer(f"{pre}sp.{d}.f", 0, n - 1))
        searched = self._searched_dims()
        for ld in searched:
            n = len(divisors(dims[ld]))
            out += [Integer(f"{pre}t.{ld}.{p}", 0, n - 1) for p in range(self.pieces - 1)]
        n_items = len(searched) * self.pieces
        if n_items > 1:
            out += [
                Integer(f"{pre}o.{ld}.{p}", 0, n_items - 1) for ld in searched for p in range(self.pieces)
            ]
        for op in OPERANDS:
            out += [Integer(f"{pre}a.{op}.{j}", 0, n_items) for j in range(len(self.arch.levels(op)) - 1)]
        return [p for p in out if p.n > 1]

    def decode(self, design: Mapping[str, Any]) -> LayerMapping:
        """The mapping a design (a point of :meth:`parameters`) stands for."""
        pre = self.prefix

        def knob(name: str, default: Any = 0) -> Any:
            return design.get(pre + name, default)

        dims = self.dims
        left = dict(dims)
        spatial: dict[str, tuple[tuple[str, int], ...]] = {}
        if self.spatial == "fixed":
            for d, used in self._fixed_unrolling().items():
                for ld, u in used.items():
                    left[ld] = -(-left[ld] // u)
                if used:
                    spatial[d] = tuple(used.items())
        else:
            active = [ld for ld in LAYER_DIMS if dims[ld] > 1] or ["K"]
            for d, size in self.arch.array.dims.items():
                ld = str(knob(f"sp.{d}.dim", active[0]))
                cands = spatial_factors(left[ld], size)
                f = cands[min(int(knob(f"sp.{d}.f")), len(cands) - 1)]
                if f > 1:
                    spatial[d] = ((ld, f),)
                    left[ld] = -(-left[ld] // f)
        items = []
        for i, ld in enumerate(self._searched_dims()):
            rest = left[ld]
            for p in range(self.pieces):
                if p < self.pieces - 1:
                    divs = divisors(rest)
                    f = divs[min(int(knob(f"t.{ld}.{p}")), len(divs) - 1)]
                else:
                    f = rest
                rest //= f
                if f > 1:
                    items.append((int(knob(f"o.{ld}.{p}")), p, i, ld, f))
        loops = tuple((ld, f) for *_, ld, f in sorted(items))
        levels = self._allocation(spatial, loops, knob)
        return LayerMapping(spatial, loops, levels)

    def _allocation(
        self,
        spatial: Mapping[str, tuple[tuple[str, int], ...]],
        loops: tuple[tuple[str, int], ...],
        knob: Any,
    ) -> dict[str, tuple[int, ...]]:
        """Per operand, the loops at or below each level but the outermost (see the module doc)."""
        arch = self.arch.with_spatial_mapping(spatial)
        setup = spatial_setup(arch, self.layer)
        ld_index = {ld: i for i, ld in enumerate(LAYER_DIMS)}
        cum = loop_extents(
            np.array([ld_index[ld] for ld, _ in loops], np.int64), np.array([f for _, f in loops], np.int64)
        )
        levels = {}
        for op in OPERANDS:
            count, counts = 0, []
            for j, mem in enumerate(arch.levels(op)[:-1]):
                m = arch.memories.index(mem)
                most = count
                while (
                    most < len(loops)
                    and tile_bits(arch, self.layer, setup, m, op, cum[most + 1]) <= mem.size_bits
                ):
                    most += 1
                count = max(count, most - int(knob(f"a.{op}.{j}")))
                counts.append(count)
            levels[op] = tuple(counts)
        return levels


def mapping_design_space(spaces: list[LayerMappingSpace]) -> DesignSpace:
    """One design space over the knobs of several layers (each with its own prefix)."""
    params = [p for s in spaces for p in s.parameters()]
    if not params:
        raise ConfigError("the layer has nothing to map (every dimension is 1)")
    return DesignSpace(params)
