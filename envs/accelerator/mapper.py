"""The built-in mapper: the DRAM <-> global-buffer tiling of each layer.

What it searches
----------------
A layer's three outer loops -- output channels ``K`` (over all groups), input channels per
group ``C`` and output positions ``X = N x P x Q`` -- are tiled so that one tile of each
tensor fits the global buffer together (no double buffering)::

    weights  Kt * Ct * R * S
    inputs   ceil(Kt / Kg) * Ct * Nt * ((Pt - 1) * stride + R) * W      (row tiles with halo)
    outputs  Kt * Nt * Pt * Q

Candidates: ``Kt = ceil(K / 2^i)``, ``Ct = ceil(C / 2^j)`` (down to 1), and position tiles
that are either ``ceil(N / 2^m)`` whole images or ``ceil(P / 2^m)`` output rows of one image
(``Q`` is never split). For each candidate all 6 orders of the three tile loops are scored
with the standard reuse rule (Timeloop, Parashar et al. ISPASS 2019): a tensor is re-read
from DRAM once per iteration of its one irrelevant loop (``X`` for weights, ``K`` for
inputs, ``C`` for outputs) whenever a relevant loop with more than one iteration runs inside
it. Partial sums that leave the chip are written and read back: ``(2 a_O - 1) x outputs``.

Objective: minimum DRAM words (DRAM access energy is 200x a MAC and DRAM traffic bounds
latency), ties broken toward the largest tile (more on-chip reuse). The candidate set does
not depend on the buffer size, so a larger buffer can never increase DRAM traffic.

The tiling depends only on the layer and the buffer capacity in words, so it is computed
once per distinct (layer shape, capacity) pair in a batch and shared by all designs.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch

_ORDERS = tuple(itertools.permutations(range(3)))  # loop orders over (K, C, X), outer -> inner


@dataclass(frozen=True)
class Tiling:
    """Mapper output, each a ``(U, L)`` tensor (capacities x layers)."""

    dram_w: torch.Tensor  # DRAM words read for weights
    dram_i: torch.Tensor  # DRAM words read for inputs (with halo and re-reads)
    dram_o: torch.Tensor  # DRAM words for outputs (psum spills written and read back)
    a_w: torch.Tensor  # refetch factors (times each tensor is streamed from DRAM)
    a_i: torch.Tensor
    a_o: torch.Tensor
    kt: torch.Tensor  # tile sizes: output channels (over groups), input channels per group,
    ct: torch.Tensor
    xt: torch.Tensor  # output positions per tile (Nt * Pt * Q)
    feasible: torch.Tensor  # bool: some candidate fits the buffer

    @property
    def dram_words(self) -> torch.Tensor:
        return self.dram_w + self.dram_i + self.dram_o


def _inner_busy(trips: tuple[torch.Tensor, ...], order: tuple[int, ...], dim: int) -> torch.Tensor:
    """Whether any loop inside ``dim`` (in loop ``order``, outer -> inner) runs more than once."""
    pos = {d: order.index(d) for d in range(3)}
    busy = torch.zeros_like(trips[0], dtype=torch.bool)
    for d in range(3):
        if pos[d] > pos[dim]:
            busy = busy | (trips[d] > 1)
    return busy


def _levels(extent_max: float) -> int:
    return int(math.ceil(math.log2(max(extent_max, 1.0)))) + 1


def search_tiling(layers: torch.Tensor, glb_words: torch.Tensor) -> Tiling:
    """Best tiling for every (capacity, layer) pair.

    Args:
        layers: ``(12, L)`` float64 matrix in :data:`~.layers.SOA_FIELDS` order.
        glb_words: ``(U,)`` global-buffer capacities in words.
    """
    N, G, K, C, R, S, P, Q, st, H, W, _macs = layers
    dev, dt = layers.device, layers.dtype
    ktot = G * K
    jk, jc = _levels(float(ktot.max())), _levels(float(C.max()))
    jn, jp = _levels(float(N.max())), _levels(float(P.max())) - 1
    pw = lambda n: torch.pow(2.0, torch.arange(n, device=dev, dtype=dt))  # noqa: E731

    kt = torch.clamp(torch.ceil(ktot[:, None] / pw(jk)), min=1)  # (L, jk)
    ct = torch.clamp(torch.ceil(C[:, None] / pw(jc)), min=1)  # (L, jc)
    nt = torch.cat(
        [torch.clamp(torch.ceil(N[:, None] / pw(jn)), min=1), torch.ones(len(N), jp, device=dev, dtype=dt)], 1
    )
    pt = torch.cat(
        [P[:, None].expand(-1, jn), torch.clamp(torch.ceil(P[:, None] / pw(jp + 1)[1:]), min=1)], 1
    )
    # broadcast to (L, jk, jc, jx)
    kt, ct = kt[:, :, None, None], ct[:, None, :, None]
    nt, pt = nt[:, None, None, :], pt[:, None, None, :]
    e = lambda v: v[:, None, None, None]  # noqa: E731
    Kg, Cg, Rr, Ss, Pp, Qq, Nn, s, Wd, Hd, Gg = map(e, (K, C, R, S, P, Q, N, st, W, H, G))

    n_k = torch.ceil(e(ktot) / kt)
    n_c = torch.ceil(Cg / ct)
    n_x = torch.ceil(Nn / nt) * torch.ceil(Pp / pt)
    n_k_irr = torch.ceil(Kg / torch.minimum(kt, Kg))  # K iterations that re-use the same inputs
    rows_in = (pt - 1) * s + Rr
    halo = torch.ceil(Pp / pt) * rows_in / Hd  # >= 1: overlapping input rows re-read per row tile
    groups_in_tile = torch.ceil(kt / Kg)
    foot = kt * ct * Rr * Ss + groups_in_tile * ct * nt * rows_in * Wd + kt * nt * pt * Qq

    w_sz = e(ktot) * Cg * Rr * Ss
    i_sz = Nn * Gg * Cg * Hd * Wd
    o_sz = Nn * e(ktot) * Pp * Qq
    trips = (n_k, n_c, n_x)
    best: list[torch.Tensor] = []
    for order in _ORDERS:
        a_w = torch.where(_inner_busy(trips, order, 2), n_x, torch.ones_like(n_x))
        a_i = torch.where(_inner_busy(trips, order, 0), n_k_irr, torch.ones_like(n_k))
        a_o = torch.where(_inner_busy(trips, order, 1), n_c, torch.ones_like(n_c))
        cost = w_sz * a_w + i_sz * halo * a_i + o_sz * (2 * a_o - 1)
        if not best:
            best = [cost, a_w, a_i, a_o]
        else:
            better = cost < best[0]
            best = [torch.where(better, new, old) for new, old in zip((cost, a_w, a_i, a_o), best)]
    assert best is not None  # _ORDERS is not empty
    cost, a_w, a_i, a_o = best  # (L, jk, jc, jx)

    L = layers.shape[1]
    shape4 = cost.shape
    flat = lambda v: v.expand(shape4).reshape(L, -1)  # noqa: E731
    cost, a_w, a_i, a_o = map(flat, (cost, a_w, a_i, a_o))
    foot_f, kt_f, ct_f = flat(foot), flat(kt), flat(ct)
    xt_f = flat(nt * pt * Qq)
    halo_f = flat(halo)

    fits = foot_f[None] <= glb_words[:, None, None]  # (U, L, T)
    inf = torch.tensor(float("inf"), device=dev, dtype=dt)
    c = torch.where(fits, cost[None], inf)
    cmin = c.min(-1, keepdim=True).values
    tie = fits & (c <= cmin * (1 + 1e-9))
    pick = torch.where(tie, foot_f[None], torch.full_like(c, -1.0)).argmax(-1, keepdim=True)  # (U, L, 1)
    g = lambda v: torch.gather(v[None].expand(c.shape), -1, pick).squeeze(-1)  # noqa: E731
    aw, ai, ao, hl = g(a_w), g(a_i), g(a_o), g(halo_f)
    feasible = torch.isfinite(cmin.squeeze(-1))
    wsz = (ktot * C * R * S)[None]
    isz = (N * G * C * H * W)[None]
    osz = (N * ktot * P * Q)[None]
    return Tiling(
        dram_w=wsz * aw,
        dram_i=isz * hl * ai,
        dram_o=osz * (2 * ao - 1),
        a_w=aw,
        a_i=ai * hl,
        a_o=ao,
        kt=g(kt_f),
        ct=g(ct_f),
        xt=g(xt_f),
        feasible=feasible,
    )
