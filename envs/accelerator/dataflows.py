"""Spatial mappings of the four dataflow templates and the reuse they give.

Every template unrolls some loop dimensions over the PE array's rows and columns; a list of
dimensions on one axis is filled greedily (the first gets ``min(D, A)`` PEs, the next the
whole multiples that remain), which is how Eyeriss replicates its PE sets (Chen et al.,
ISCA 2016, Sec. V-B). With ``Kg``/``Cg`` the channels per group and ``X`` the output
positions (``Q``, ``P``, ``N``):

=====  ======================================  ===============  ===========================
name   template                                rows             columns
=====  ======================================  ===============  ===========================
ws     weight stationary (TPU / NVDLA-like)    Cg, S, R (im2col) Kg
os     output stationary (ShiDianNao-like)     Q, P, N          Kg, G
rs     row stationary (Eyeriss)                R, Cg, G         P, Kg, N
is     input stationary                        Cg, S, R (im2col) Q, P, N
=====  ======================================  ===============  ===========================

WS/IS/OS are the three systolic variants of SCALE-Sim (Samajdar et al., ISPASS 2020); RS is
Eyeriss's 1-D-convolution-per-PE mapping with diagonal input reuse.

Reuse is expressed with the factors of the Eyeriss energy-analysis framework (Chen et al.,
ISCA 2016, Sec. VI-A): each datum is fetched ``a`` times from DRAM, read ``b`` times from
the global buffer per fetch, multicast to ``c`` PEs (or, for partial sums, reduced over
``c`` PEs), and used ``d`` times from the register file. Here ``c`` and ``d`` come from the
template, ``a`` from the mapper (:mod:`.mapper`), and ``b = uses / (a c d)``.

Register-file use per template (``Wrf`` words, ``B = Wrf - 2`` for the stationary block):

* ws: a weight stays while all ``Xt`` positions of the buffer tile stream by (``d_W = Xt``);
  a PE holds ``min(B, reduction steps)`` weights and accumulates that many products into a
  partial sum before passing it on (``d_O``).
* is: an input stays while the ``Kt`` filters of the tile stream by (``d_I = Kt``);
  ``d_O`` as for ws.
* os: an output accumulates over the whole reduction tile ``Ct R S`` (``d_O``); a PE holds
  ``min(B, channels)`` outputs so that each streamed input is used that often (``d_I``).
* rs: a PE holds ``p`` filter rows of ``q`` channels (``p q S + q S + p <= Wrf``, Eyeriss's
  filter / ifmap / psum scratch pads), giving ``d_W = Q``, ``d_I = p S / stride``,
  ``d_O = q S``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .space import DATAFLOWS

DATAFLOW_NAMES: dict[str, str] = {
    "ws": "weight stationary (TPU/NVDLA-like)",
    "os": "output stationary (ShiDianNao-like)",
    "rs": "row stationary (Eyeriss-like)",
    "is": "input stationary",
}


@dataclass
class Reuse:
    """Spatial factors and per-tensor (c, d) reuse factors, each ``(b, L)``."""

    f: dict[str, torch.Tensor]  # spatial unrolling per dimension
    c_w: torch.Tensor
    c_i: torch.Tensor
    c_o: torch.Tensor
    d_w: torch.Tensor
    d_i: torch.Tensor
    d_o: torch.Tensor


def _fill(size: torch.Tensor, dims: list[torch.Tensor]) -> list[torch.Tensor]:
    """Greedy unrolling of ``dims`` (each ``(b, L)``) onto an axis of ``size`` PEs (``(b, 1)``)."""
    out, room = [], size
    for d in dims:
        f = torch.clamp(torch.minimum(d, room), min=1.0)
        out.append(f)
        room = torch.floor(room / f)
    return out


def _cdiv(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.ceil(a / b)


def reuse(
    df: str,
    dims: dict[str, torch.Tensor],
    rows: torch.Tensor,
    cols: torch.Tensor,
    rf_words: torch.Tensor,
    kt: torch.Tensor,
    ct: torch.Tensor,
    xt: torch.Tensor,
    im2col: bool = True,
) -> Reuse:
    """Spatial mapping and reuse factors of template ``df``.

    Args:
        dims: layer extents ``N G K C R S P Q stride``, each ``(b, L)`` (K, C per group).
        rows, cols, rf_words: ``(b, 1)`` hardware parameters.
        kt, ct, xt: buffer tile (output channels over groups, input channels per group,
            output positions), ``(b, L)``.
        im2col: ws and is fill spare rows with filter dimensions (``S``, ``R``) after the
            input channels; ``False`` unrolls input channels only, as a plain systolic
            array without im2col does (ZigZag's tpu_like mapping).
    """
    N, G, K, C, R, S, P, Q, s = (dims[k] for k in ("N", "G", "K", "C", "R", "S", "P", "Q", "stride"))
    one = torch.ones_like(N)
    f = {k: one for k in ("N", "G", "K", "C", "R", "S", "P", "Q")}
    blk = torch.clamp(rf_words - 2, min=1.0)
    kt_g = torch.minimum(kt, K)
    if df in ("ws", "is"):
        if im2col:
            f["C"], f["S"], f["R"] = _fill(rows, [C, S, R])
        else:
            (f["C"],) = _fill(rows, [C])
        fz = f["C"] * f["S"] * f["R"]
        steps_z = torch.clamp(_cdiv(ct * R * S, fz), min=1.0)
        d_o = torch.minimum(blk, steps_z)
        if df == "ws":
            (f["K"],) = _fill(cols, [K])
            c_w, c_i, c_o = one, f["K"], fz
            d_w, d_i = xt, one
        else:
            f["Q"], f["P"], f["N"] = _fill(cols, [Q, P, N])
            c_w, c_i, c_o = f["Q"] * f["P"] * f["N"], one, fz
            d_w, d_i = one, kt_g
    elif df == "os":
        f["Q"], f["P"], f["N"] = _fill(rows, [Q, P, N])
        f["K"], f["G"] = _fill(cols, [K, G])
        c_w, c_i, c_o = f["Q"] * f["P"] * f["N"], f["K"], one
        d_o = ct * R * S
        d_i = torch.minimum(blk, torch.clamp(_cdiv(kt_g, f["K"]), min=1.0))
        d_w = one
    elif df == "rs":
        f["R"], f["C"], f["G"] = _fill(rows, [R, C, G])
        f["P"], f["K"], f["N"] = _fill(cols, [P, K, N])
        span = (f["P"] - 1) * s + f["R"]  # distinct input rows seen by an R x P PE set
        diag = torch.clamp(f["R"] * f["P"] / torch.minimum(span, f["R"] * f["P"]), min=1.0)
        c_w, c_i, c_o = f["P"] * f["N"], f["K"] * diag, f["R"] * f["C"]
        # scratch pads: p filter rows x q channels of S weights, q input windows, p psums
        x = torch.floor((-(S + 1) + torch.sqrt((S + 1) ** 2 + 4 * S * rf_words)) / (2 * S))
        x = torch.clamp(x, min=1.0)
        window = torch.clamp(torch.minimum(S, torch.floor((rf_words - 1) / 2)), min=1.0)
        p = torch.minimum(x, torch.clamp(_cdiv(kt_g, f["K"]), min=1.0))
        q = torch.minimum(x, torch.clamp(_cdiv(ct, f["C"]), min=1.0))
        d_w = Q
        d_i = p * torch.clamp(window / s, min=1.0)
        d_o = q * window
    else:
        raise ValueError(f"unknown dataflow {df!r}; allowed: {', '.join(DATAFLOWS)}")
    return Reuse(f, c_w, c_i, c_o, d_w, d_i, d_o)
