"""Layers from an ONNX file: convolutions (plain, grouped, depthwise), Gemm and MatMul.

Only shapes are read, with the ``onnx`` package (``pip install archgym[zigzag]`` or
``pip install onnx``): ONNX's shape inference fills in every intermediate tensor's shape,
then each compute node becomes one :class:`~.layers.Layer` named after the node:

* ``Conv`` / ``QLinearConv``: weights ``(K, C/groups, R, S)``, input ``(N, C, H, W)``,
  output ``(N, K, P, Q)``; ``pads`` kept as (top, bottom, left, right); ``groups == C``
  makes it ``dwconv``. A 1-D convolution is a ``1 x S`` one.
* ``Gemm``: ``(M x C) @ (C x K)`` with ``transA``/``transB``; a GEMM layer with ``P = M``.
* ``MatMul``: ``(..., M, C) @ (..., C, K)``. A constant second operand is a weight matrix
  (batch dims fold into the rows); two activations give a grouped GEMM, one group per batch
  element (as :func:`~.tracing.trace_layers` does for attention products).

Other nodes (pooling, element-wise, reshapes) do no MACs on the array and are skipped.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from archgym.errors import InputFormatError

from .layers import Layer, LayerKind


class OnnxImportError(InputFormatError):
    """An ONNX file that cannot be read as a list of layers."""


def _onnx() -> Any:
    try:
        import onnx
    except ImportError as exc:
        raise OnnxImportError("reading ONNX files needs the onnx package: pip install onnx") from exc
    return onnx


def _shapes(model: Any) -> dict[str, list[int]]:
    """Every tensor's static shape (inputs, outputs, intermediates and initializers)."""
    out: dict[str, list[int]] = {}
    graph = model.graph
    for vi in list(graph.input) + list(graph.value_info) + list(graph.output):
        dims = vi.type.tensor_type.shape.dim
        out[vi.name] = [int(d.dim_value) if d.HasField("dim_value") else 0 for d in dims]
    for init in graph.initializer:
        out[init.name] = [int(d) for d in init.dims]
    return out


def _attrs(node: Any) -> dict[str, Any]:
    onnx = _onnx()
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _need(shapes: dict[str, list[int]], name: str, node: Any, path: str) -> list[int]:
    shape = shapes.get(name)
    if not shape or any(d <= 0 for d in shape[1:]):
        raise OnnxImportError(
            f"{path}: node {node.name or node.op_type!r} ({node.op_type}): the shape of tensor {name!r} "
            "is unknown after shape inference (export the model with static input shapes)"
        )
    return [max(1, d) for d in shape]


def _conv(node: Any, shapes: dict[str, list[int]], path: str, name: str) -> Layer:
    x = _need(shapes, node.input[0], node, path)
    w = _need(shapes, node.input[3 if node.op_type == "QLinearConv" else 1], node, path)
    y = _need(shapes, node.output[0], node, path)
    a = _attrs(node)
    g = int(a.get("group", 1))
    if len(x) == 3:  # 1-D convolution: a 1 x S kernel over a 1 x W map
        x, w, y = [x[0], x[1], 1, x[2]], [w[0], w[1], 1, w[2]], [y[0], y[1], 1, y[2]]
        pads = list(a.get("pads", [0, 0]))
        pads = [0, pads[0], 0, pads[1]]
        strides = [1, *list(a.get("strides", [1]))]
    elif len(x) == 4:
        pads = list(a.get("pads", [0, 0, 0, 0]))
        strides = list(a.get("strides", [1, 1]))
    else:
        raise OnnxImportError(f"{path}: node {name!r}: only 1-D and 2-D convolutions are supported")
    if any(int(d) != 1 for d in a.get("dilations", [])):
        raise OnnxImportError(f"{path}: node {name!r}: dilated convolutions are not supported")
    # ONNX pads are (begin_h, begin_w, end_h, end_w)
    padding = (int(pads[0]), int(pads[2]), int(pads[1]), int(pads[3]))
    n, c, h, wd = x
    k, _, r, s = w
    kind: LayerKind = "dwconv" if g > 1 and g == c else "conv"
    stride = max(int(v) for v in strides)
    return Layer(name, kind, n, k, c, r, s, y[2], y[3], stride, g, padding, (h, wd))


def _gemm(node: Any, shapes: dict[str, list[int]], path: str, name: str) -> Layer:
    a_shape = _need(shapes, node.input[0], node, path)
    b_shape = _need(shapes, node.input[1], node, path)
    at = _attrs(node)
    m, c = (a_shape[1], a_shape[0]) if at.get("transA", 0) else (a_shape[0], a_shape[1])
    k = b_shape[0] if at.get("transB", 0) else b_shape[1]
    return Layer(name, "gemm", 1, int(k), int(c), 1, 1, int(m), 1)


def _matmul(node: Any, shapes: dict[str, list[int]], consts: set[str], path: str, name: str) -> Layer:
    a = _need(shapes, node.input[0], node, path)
    b = _need(shapes, node.input[1], node, path)
    if len(a) < 2 or len(b) < 2:
        raise OnnxImportError(f"{path}: node {name!r}: MatMul needs operands with >= 2 dimensions")
    m, c, k = a[-2], a[-1], b[-1]
    if node.input[1] in consts and len(b) == 2:  # a weight matrix: batch dims are more rows
        return Layer(name, "gemm", 1, k, c, 1, 1, m * math.prod(a[:-2]), 1)
    batch = math.prod(max(x, y) for x, y in zip(a[:-2][::-1], b[:-2][::-1])) if len(a) > 2 else 1
    batch = max(batch, math.prod(a[:-2]), math.prod(b[:-2]))
    return Layer(name, "gemm", 1, batch * k, batch * c, 1, 1, m, 1, 1, batch)


def load_onnx_layers(path: str | Path) -> tuple[Layer, ...]:
    """The compute layers of the ONNX model at ``path``, in graph order, named after their nodes."""
    onnx = _onnx()
    p = Path(path)
    if not p.is_file():
        raise OnnxImportError(f"ONNX file not found: {p}")
    try:
        model = onnx.shape_inference.infer_shapes(onnx.load(str(p), load_external_data=False))
    except Exception as exc:  # onnx raises DecodeError, ValidationError, ...
        raise OnnxImportError(f"{p}: not a readable ONNX model ({exc})") from exc
    shapes = _shapes(model)
    consts = {i.name for i in model.graph.initializer}
    consts |= {o for n in model.graph.node if n.op_type == "Constant" for o in n.output}
    layers: list[Layer] = []
    seen: dict[str, int] = {}
    for i, node in enumerate(model.graph.node):
        if node.op_type not in ("Conv", "QLinearConv", "Gemm", "MatMul"):
            continue
        base = node.name or f"{node.op_type}_{i}"
        seen[base] = seen.get(base, 0) + 1
        name = base if seen[base] == 1 else f"{base}#{seen[base]}"
        if node.op_type in ("Conv", "QLinearConv"):
            layers.append(_conv(node, shapes, str(p), name))
        elif node.op_type == "Gemm":
            layers.append(_gemm(node, shapes, str(p), name))
        else:
            layers.append(_matmul(node, shapes, consts, str(p), name))
    if not layers:
        raise OnnxImportError(f"{p}: no Conv, Gemm or MatMul node")
    return tuple(layers)
