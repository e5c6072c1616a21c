"""Layers as ZigZag reads them from ONNX, so that a ZigZag hardware file maps them as ZigZag does.

ZigZag's ONNX parser (zigzag-dse 3.9.1, ``parser/onnx/gemm_parser.py``) reads a ``Gemm`` or
``MatMul`` node ``(..., D, C) x (..., C, K)`` as the loops ``C D K`` plus ``B`` (an ONNX batch
axis) and ``H`` (heads, when both operands are activations) -- not as a convolution. Our
:mod:`.onnx_import` gives the same extents in convolution form: the token axis ``D`` is our
``OY`` (``P``), heads are groups ``G``. The loop extents agree node for node (tested); what
differs is which entries of a mapping file apply: ZigZag skips a spatial unrolling of a
dimension the layer lacks (``OX``, ``OY``, ``FX``, ``FY``, ``G`` on a Gemm), so on, e.g.,
``tesla_npu_like`` (``D2: OX 8``, ``D3: OY 4``) a Gemm uses the ``K`` dimension of the array
only, where our convolution form would unroll its tokens over ``D3``.

:func:`zigzag_view` is an architecture read from ZigZag's files (``Architecture.from_zigzag``)
as ZigZag applies it to one layer; :func:`evaluate_as_zigzag` costs layers that way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .architecture import Architecture
from .hierarchy_model import LayerCost, evaluate_layers
from .layers import Layer

#: a Gemm/MatMul's loop dimensions in ZigZag's names -> the same loops in our convolution form
GEMM_DIMS: dict[str, str] = {"K": "K", "C": "C", "D": "OY", "B": "B", "H": "G"}


def zigzag_view(arch: Architecture, layer: Layer) -> Architecture:
    """``arch`` with the spatial mapping ZigZag applies to ``layer``: unchanged for a
    convolution; for a GEMM only the entries (and hints) on ``K``, ``C``, ``D``, ``B`` and
    ``H`` (in our names ``K C OY B G``) -- the other dimensions are absent from a Gemm."""
    if layer.kind != "gemm":
        return arch
    mapping = {}
    for d, entries in arch.spatial_mapping.items():
        kept = tuple((GEMM_DIMS[ld], f) for ld, f in entries if ld in GEMM_DIMS)
        if kept:
            mapping[d] = kept
    hints = {}
    for d, hinted in arch.spatial_hints.items():
        kept_h = tuple(GEMM_DIMS[ld] for ld in hinted if ld in GEMM_DIMS)
        if kept_h:
            hints[d] = kept_h
    return replace(arch.with_spatial_mapping(mapping), spatial_hints=hints)


def evaluate_as_zigzag(arch: Architecture, layers: Sequence[Layer]) -> list[LayerCost]:
    """Each layer mapped onto ``arch`` as ZigZag maps it (:func:`zigzag_view`), in order."""
    out: dict[int, LayerCost] = {}
    for gemm in (False, True):
        idx = [i for i, layer in enumerate(layers) if (layer.kind == "gemm") == gemm]
        if idx:
            view = zigzag_view(arch, layers[idx[0]])
            out.update(zip(idx, evaluate_layers(view, [layers[i] for i in idx])))
    return [out[i] for i in range(len(layers))]
