"""Extract a network's compute layers from any ``torch.nn.Module`` with forward hooks.

:func:`trace_layers` runs one forward pass (on the ``meta`` device when the module lives
there, so no memory is allocated and no arithmetic is done) and records, in call order,
every

* ``nn.Conv2d`` -> ``conv`` (or ``dwconv`` when ``groups == in_channels > 1``),
* ``nn.Conv1d`` -> ``conv`` with ``R = P = 1``,
* ``nn.Linear`` -> ``gemm``: for an input ``(B, ..., in)`` the rows ``prod(...)`` become
  ``P`` (tokens) and ``B`` the batch ``N``,
* :class:`MatMul` -> ``gemm`` with one group per independent product (attention heads).

Element-wise layers (activations, normalisation, pooling, residual adds) are not recorded:
they carry no multiply-accumulates for the accelerator's array. The module has no
dependency on the accelerator model, so other environments (e.g. NAS) can reuse it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from archgym.errors import InputFormatError

from .layers import Layer, LayerKind


class MatMul(nn.Module):
    """``a @ b`` as a module, so that tracing sees activation-activation products.

    ``a``: ``(..., M, D)``, ``b``: ``(..., D, N)``; the leading dimensions index independent
    products (batch x heads).
    """

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b)


class TracingError(InputFormatError):
    """The module could not be traced with the given inputs."""


def _pair(v: Any) -> tuple[int, int]:
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def _conv2d(name: str, m: nn.Conv2d, x: torch.Tensor, y: torch.Tensor) -> Layer:
    n, c = int(x.shape[0]), int(x.shape[1])
    k, p, q = int(y.shape[1]), int(y.shape[2]), int(y.shape[3])
    r, s = _pair(m.kernel_size)
    stride = max(_pair(m.stride))
    g = int(m.groups)
    kind: LayerKind = "dwconv" if g > 1 and g == c else "conv"
    ph, pw = (0, 0) if isinstance(m.padding, str) else _pair(m.padding)
    if isinstance(m.padding, str) and m.padding == "same":  # total padding that keeps the size
        ph, pw = (
            max(0, (p - 1) * stride + r - int(x.shape[2])),
            max(0, (q - 1) * stride + s - int(x.shape[3])),
        )
        pad = (ph // 2, ph - ph // 2, pw // 2, pw - pw // 2)
    else:
        pad = (ph, ph, pw, pw)
    return Layer(name, kind, n, k, c, r, s, p, q, stride, g, pad, (int(x.shape[2]), int(x.shape[3])))


def _conv1d(name: str, m: nn.Conv1d, x: torch.Tensor, y: torch.Tensor) -> Layer:
    n, c = int(x.shape[0]), int(x.shape[1])
    k, q = int(y.shape[1]), int(y.shape[2])
    g = int(m.groups)
    kind: LayerKind = "dwconv" if g > 1 and g == c else "conv"
    pw = 0 if isinstance(m.padding, str) else int(_pair(m.padding)[0])
    return Layer(
        name,
        kind,
        n,
        k,
        c,
        1,
        int(m.kernel_size[0]),
        1,
        q,
        int(m.stride[0]),
        g,
        (0, 0, pw, pw),
        (1, int(x.shape[2])),
    )


def _linear(name: str, m: nn.Linear, x: torch.Tensor, y: torch.Tensor) -> Layer:
    shape = tuple(int(d) for d in x.shape)
    if len(shape) == 1:
        n, rows = 1, 1
    else:
        n, rows = shape[0], math.prod(shape[1:-1])
    return Layer(name, "gemm", n, int(m.out_features), int(m.in_features), 1, 1, rows, 1)


def _matmul(name: str, a: torch.Tensor, b: torch.Tensor) -> Layer:
    if a.dim() < 2 or b.dim() < 2:
        raise TracingError(
            f"{name}: MatMul needs operands with >= 2 dimensions, got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    batch = torch.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    groups = math.prod(int(d) for d in batch) if len(batch) else 1
    m_rows, d, cols = int(a.shape[-2]), int(a.shape[-1]), int(b.shape[-1])
    # each independent product is one group with its own second operand ("weights")
    return Layer(name, "gemm", 1, groups * cols, groups * d, 1, 1, m_rows, 1, 1, groups)


def trace_layers(
    module: nn.Module,
    input_shape: Sequence[int] | None = None,
    *,
    example_inputs: Sequence[Any] | Any = None,
    dtype: torch.dtype = torch.float32,
) -> list[Layer]:
    """Run ``module`` once and return its compute layers in execution order.

    Args:
        module: any ``torch.nn.Module``; it is put in eval mode for the pass and restored.
        input_shape: shape of a single input tensor, e.g. ``(1, 3, 224, 224)``; a zero
            tensor of that shape is created on the module's device (``meta`` if its
            parameters live there).
        example_inputs: instead of ``input_shape``, the positional input(s) to call with.
        dtype: dtype of the created input.

    Returns:
        One :class:`Layer` per call of a Conv1d/Conv2d/Linear/:class:`MatMul`; a module
        called several times gets ``name#2``, ``name#3``...

    Raises:
        TracingError: no inputs given, the forward pass failed, or no layer was found.
    """
    if (input_shape is None) == (example_inputs is None):
        raise TracingError("give exactly one of input_shape=(N, C, H, W) or example_inputs=...")
    if input_shape is not None:
        params = list(module.parameters()) + list(module.buffers())
        device = params[0].device if params else torch.device("cpu")
        example_inputs = (torch.zeros(tuple(int(d) for d in input_shape), dtype=dtype, device=device),)
    elif isinstance(example_inputs, torch.Tensor):
        example_inputs = (example_inputs,)

    names = {m: n or type(module).__name__ for n, m in module.named_modules()}
    calls: dict[str, int] = {}
    layers: list[Layer] = []

    def hook(mod: nn.Module, args: tuple, out: Any) -> None:
        base = names.get(mod, type(mod).__name__)
        calls[base] = calls.get(base, 0) + 1
        name = base if calls[base] == 1 else f"{base}#{calls[base]}"
        if isinstance(mod, MatMul):
            layers.append(_matmul(name, args[0], args[1]))
        elif isinstance(mod, nn.Conv2d):
            layers.append(_conv2d(name, mod, args[0], out))
        elif isinstance(mod, nn.Conv1d):
            layers.append(_conv1d(name, mod, args[0], out))
        elif isinstance(mod, nn.Linear):
            layers.append(_linear(name, mod, args[0], out))

    handles = [
        m.register_forward_hook(hook)
        for m in module.modules()
        if isinstance(m, (nn.Conv2d, nn.Conv1d, nn.Linear, MatMul))
    ]
    was_training = module.training
    try:
        module.eval()
        with torch.no_grad():
            module(*example_inputs)
    except TracingError:
        raise
    except Exception as exc:
        raise TracingError(f"forward pass of {type(module).__name__} failed while tracing: {exc}") from exc
    finally:
        for h in handles:
            h.remove()
        module.train(was_training)
    if not layers:
        raise TracingError(f"{type(module).__name__} has no Conv1d/Conv2d/Linear/MatMul layer to trace")
    return layers
