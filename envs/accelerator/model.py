"""The vectorised analytical model: a batch of designs x the layers of a workload.

For each design and layer:

1. **Tiling** -- the mapper (:mod:`.mapper`) picks the buffer tile and loop order with the
   least DRAM traffic; it yields the DRAM refetch factors ``a`` per tensor.
2. **Spatial mapping and reuse** -- the dataflow template (:mod:`.dataflows`) gives the PE
   unrolling, the multicast/reduction fan-out ``c`` and register-file reuse ``d``.
3. **Access counts** (words), with ``u = MACs / tensor size`` uses per datum and
   ``b = u / (a c d)`` (Eyeriss analysis framework, Chen et al. ISCA 2016, Sec. VI-A)::

       weights, inputs:  DRAM a*size   GLB MACs/(c d)   NoC MACs/d   RF MACs
       partial sums:     DRAM (2a-1)*outputs   GLB 2(MACs/(c d) - a*outputs)
                         NoC MACs/d * (1 - 1/c)   RF 2 MACs (1 - 1/d)

4. **Energy** = accesses x per-access energy (:mod:`.technology`) + MACs x MAC energy.
5. **Latency** (cycles) = max(compute, NoC, DRAM) + on-loading: compute = prod over dims
   of ``ceil(D / unroll)``; NoC = GLB<->array words x bytes / ``noc_bw``; DRAM = DRAM bytes
   / (``dram_bw`` / clock); on-loading = the first buffer tile of weights and inputs over
   the DRAM bandwidth, before compute can start. Later tiles are double-buffered.
   With ``rf_port_stalls`` the compute term becomes the array's pace under its register
   files' one read and one write port (:meth:`AcceleratorModel._array_cycles`), the stall
   the hierarchy model and ZigZag find for this template.
6. **Area** = PEs x (MAC + RF + NoC register) + GLB SRAM + NoC buses.

Layers run one after another; network latency and energy are sums over layers.
Everything is torch float64, so the same code runs on a GPU with ``device="cuda"``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from archgym.errors import SimulationError

from .dataflows import DATAFLOWS, reuse
from .layers import SOA_FIELDS, LayerArrays
from .mapper import search_tiling
from .technology import DEFAULT_TECHNOLOGY, Technology

#: design fields in the order of :func:`design_matrix` columns
DESIGN_FIELDS: tuple[str, ...] = (
    "dataflow",
    "pe_rows",
    "pe_cols",
    "rf_bytes",
    "glb_kib",
    "noc_bw",
    "dram_bw",
    "clock_mhz",
    "precision_bits",
)
LEVELS: tuple[str, ...] = ("dram", "glb", "noc", "rf", "mac")


class InfeasibleDesignError(SimulationError, ValueError):
    """No tiling of some layer fits the design's global buffer."""


def design_matrix(designs: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Designs (dicts) -> ``(B, 9)`` float64 matrix; the dataflow becomes its index in DATAFLOWS."""
    out = np.empty((len(designs), len(DESIGN_FIELDS)), dtype=np.float64)
    for i, d in enumerate(designs):
        df = d["dataflow"]
        if df not in DATAFLOWS:
            raise ValueError(f"design {i}: unknown dataflow {df!r}; allowed: {', '.join(DATAFLOWS)}")
        out[i, 0] = DATAFLOWS.index(df)
        for j, k in enumerate(DESIGN_FIELDS[1:], 1):
            out[i, j] = float(d[k])
    if np.any(out[:, 1:] <= 0):
        raise ValueError("all numeric design parameters must be > 0")
    return out


def _total(tensors: Iterable[torch.Tensor]) -> torch.Tensor:
    """Elementwise sum of same-shaped tensors (in order, like the built-in ``sum``)."""
    it = iter(tensors)
    total = next(it)
    for t in it:
        total = total + t
    return total


@dataclass
class ModelResult:
    """Per-layer ``(B, L)`` and per-network ``(B,)`` results (torch tensors)."""

    layer_cycles: torch.Tensor
    layer_compute_cycles: torch.Tensor
    layer_array_cycles: torch.Tensor  # compute plus register-file port stalls (rf_port_stalls)
    layer_noc_cycles: torch.Tensor
    layer_dram_cycles: torch.Tensor
    layer_energy: dict[str, torch.Tensor]  # level -> pJ, (B, L)
    layer_accesses: dict[str, torch.Tensor]  # level -> words accessed (MACs for "mac"), (B, L)
    layer_dram_bytes: torch.Tensor
    layer_macs: torch.Tensor  # (L,)
    layer_utilization: torch.Tensor
    area_mm2: torch.Tensor  # (B,)
    area_breakdown: dict[str, torch.Tensor]
    clock_mhz: torch.Tensor  # (B,)
    pes: torch.Tensor  # (B,)

    @property
    def cycles(self) -> torch.Tensor:
        return self.layer_cycles.sum(1)

    @property
    def latency_ms(self) -> torch.Tensor:
        return self.cycles / (self.clock_mhz * 1e3)

    @property
    def layer_latency_ms(self) -> torch.Tensor:
        """``(B, L)`` latency of each layer; sums over layers to :attr:`latency_ms`."""
        return self.layer_cycles / (self.clock_mhz[:, None] * 1e3)

    @property
    def layer_energy_pj(self) -> torch.Tensor:
        """``(B, L)`` total energy of each layer (all levels); sums over layers to :attr:`energy_pj`."""
        return _total(self.layer_energy.values())

    @property
    def energy(self) -> dict[str, torch.Tensor]:
        return {k: v.sum(1) for k, v in self.layer_energy.items()}

    @property
    def energy_pj(self) -> torch.Tensor:
        return _total(self.energy.values())

    @property
    def utilization(self) -> torch.Tensor:
        return self.layer_macs.sum() / (self.cycles * self.pes)

    def network_metrics(self) -> dict[str, np.ndarray]:
        """Per-design network totals as numpy arrays, keyed by metric name."""
        e = self.energy
        e_tot = self.energy_pj
        out = {
            "latency_ms": self.latency_ms,
            "latency_cycles": self.cycles,
            "energy_uj": e_tot * 1e-6,
            "edp": e_tot * 1e-6 * self.latency_ms,
            "area_mm2": self.area_mm2,
            "utilization": self.utilization,
            "dram_mb": self.layer_dram_bytes.sum(1) / 1e6,
            **{f"energy_{k}_pj": e[k] for k in LEVELS},
        }
        return {k: v.detach().cpu().numpy() for k, v in out.items()}


class AcceleratorModel:
    """Evaluates design matrices on layer arrays; caches mapper results per (workload, capacity)."""

    #: workloads whose mapper results are kept (least recently used ones are dropped)
    max_cached_workloads: int = 256

    def __init__(
        self,
        technology: Technology = DEFAULT_TECHNOLOGY,
        device: str | torch.device = "cpu",
        ws_im2col: bool = True,
        rf_port_stalls: bool = False,
    ) -> None:
        self.tech = technology
        self.im2col = ws_im2col
        self.rf_port_stalls = rf_port_stalls
        self.device = torch.device(device)
        self._tiling_cache: OrderedDict[str, dict[float, Any]] = OrderedDict()

    # ------------------------------------------------------------------ mapper
    def _tilings(self, key: str, layers: torch.Tensor, glb_words: torch.Tensor):
        """Mapper results for ``(B,)`` capacities, gathered as ``(B, L)`` tensors (cached)."""
        uniq, inv = torch.unique(glb_words, return_inverse=True)
        cache = self._tiling_cache.setdefault(key, {})
        self._tiling_cache.move_to_end(key)
        while len(self._tiling_cache) > self.max_cached_workloads:
            self._tiling_cache.popitem(last=False)  # bounded: a long NAS search sees many workloads
        missing = [float(u) for u in uniq.tolist() if float(u) not in cache]
        if missing:
            t = search_tiling(layers, torch.tensor(missing, dtype=layers.dtype, device=self.device))
            for i, u in enumerate(missing):
                cache[u] = {
                    k: getattr(t, k)[i]
                    for k in ("dram_w", "dram_i", "dram_o", "a_w", "a_i", "a_o", "kt", "ct", "xt", "feasible")
                }
        rows = [cache[float(u)] for u in uniq.tolist()]
        stacked = {k: torch.stack([r[k] for r in rows]) for k in rows[0]}
        return {k: v[inv] for k, v in stacked.items()}

    # ------------------------------------------------------------------- model
    def evaluate(self, designs: np.ndarray, arrays: LayerArrays, key: str | None = None) -> ModelResult:
        """Evaluate a ``(B, 9)`` design matrix (see :func:`design_matrix`) on a workload."""
        dev, dt = self.device, torch.float64
        tech = self.tech
        D = torch.as_tensor(designs, dtype=dt, device=dev)
        lay = torch.as_tensor(arrays.matrix(), dtype=dt, device=dev)
        key = key or repr(arrays.names) + repr(arrays.matrix().tobytes())
        df, rows, cols, rf_b, glb_kib, noc_bw, dram_bw, clock, bits = D.T
        B, L = D.shape[0], lay.shape[1]
        wbytes = bits / 8
        glb_words = torch.floor(glb_kib * 1024 / wbytes)
        rf_words = torch.floor(rf_b / wbytes)
        til = self._tilings(key, lay, glb_words)
        if not bool(til["feasible"].all()):
            bad = (~til["feasible"]).nonzero()[0].tolist()
            raise InfeasibleDesignError(
                f"design {bad[0]}: layer {arrays.names[bad[1]]!r} has no tiling that fits a "
                f"{float(glb_kib[bad[0]]):g} KiB global buffer"
            )

        f = dict(zip(SOA_FIELDS, lay))
        macs = f["macs"]
        dims = {k: f[k][None].expand(B, L) for k in ("N", "G", "K", "C", "R", "S", "P", "Q", "stride")}
        w_sz = f["G"] * f["K"] * f["C"] * f["R"] * f["S"]
        i_sz = f["N"] * f["G"] * f["C"] * f["H"] * f["W"]
        o_sz = f["N"] * f["G"] * f["K"] * f["P"] * f["Q"]
        z = torch.zeros(B, L, dtype=dt, device=dev)
        c_w, c_i, c_o, d_w, d_i, d_o, comp, red = (z.clone() for _ in range(8))
        for code, name in enumerate(DATAFLOWS):
            idx = (df == code).nonzero().squeeze(1)
            if idx.numel() == 0:
                continue
            sub = {k: v[idx] for k, v in dims.items()}
            r = reuse(
                name,
                sub,
                rows[idx, None],
                cols[idx, None],
                rf_words[idx, None],
                til["kt"][idx],
                til["ct"][idx],
                til["xt"][idx],
                self.im2col,
            )
            cyc = torch.ones_like(sub["N"])
            red_t = torch.ones_like(sub["N"])  # temporal reduction steps per output
            for k, fk in r.f.items():
                steps = torch.ceil(sub[k] / fk)
                cyc = cyc * steps
                if k in ("C", "R", "S"):
                    red_t = red_t * steps
            for dst, src in (
                (c_w, r.c_w),
                (c_i, r.c_i),
                (c_o, r.c_o),
                (d_w, r.d_w),
                (d_i, r.d_i),
                (d_o, r.d_o),
                (comp, cyc),
                (red, red_t),
            ):
                dst[idx] = src.expand(len(idx), L)

        # reuse bookkeeping: clamp so that a*c*d <= uses (b >= 1)
        def clamp_cd(u, a, c, d):
            c = torch.clamp(torch.minimum(c, u / a), min=1.0)
            d = torch.clamp(torch.minimum(d, u / (a * c)), min=1.0)
            return c, d

        u_w, u_i, u_o = macs / w_sz, macs / i_sz, macs / o_sz
        c_w, d_w = clamp_cd(u_w, til["a_w"], c_w, d_w)
        c_i, d_i = clamp_cd(u_i, til["a_i"], c_i, d_i)
        c_o, d_o = clamp_cd(u_o, til["a_o"], c_o, d_o)

        glb_w, glb_i = macs / (c_w * d_w), macs / (c_i * d_i)
        glb_o = 2 * torch.clamp(macs / (c_o * d_o) - til["a_o"] * o_sz, min=0.0)
        noc = macs / d_w + macs / d_i + macs / d_o * (1 - 1 / c_o)
        rf = 2 * macs + 2 * macs * (1 - 1 / d_o)
        dram_words = til["dram_w"] + til["dram_i"] + til["dram_o"]

        word = lambda level: tech.word_pj(level, 1.0) * bits[:, None]  # noqa: E731  pJ per word, (B, 1)
        rf_scale = ((rf_b / tech.rf_ref_bytes) ** tech.capacity_exponent)[:, None]
        glb_scale = ((glb_kib / tech.glb_ref_kib) ** tech.capacity_exponent)[:, None]
        mac_pj = self._mac_pj(bits)
        energy = {
            "dram": dram_words * word("dram"),
            "glb": (glb_w + glb_i + glb_o) * word("glb") * glb_scale,
            "noc": noc * word("noc"),
            "rf": rf * word("rf") * rf_scale,
            "mac": macs[None] * mac_pj[:, None],
        }

        bytes_pc = (dram_bw * 1e3 / clock)[:, None]  # GB/s / MHz -> bytes per cycle
        dram_bytes = dram_words * wbytes[:, None]
        t_dram = dram_bytes / bytes_pc
        t_noc = (glb_w + glb_i + glb_o) * wbytes[:, None] / noc_bw[:, None]
        # on-loading: the first buffer tile (weights + inputs) arrives before compute starts
        # (ZigZag's data on-loading); later tiles are double-buffered behind the roofline
        x_all = f["N"] * f["P"] * f["Q"]
        g_tile = torch.minimum(torch.ceil(til["kt"] / f["K"]), f["G"])
        w_tile = til["kt"] * til["ct"] * f["R"] * f["S"]
        i_tile = (f["N"] * f["C"] * f["H"] * f["W"]) * (til["ct"] / f["C"]) * (til["xt"] / x_all) * g_tile
        t_load = (w_tile + i_tile) * wbytes[:, None] / bytes_pc
        t_array = self._array_cycles(comp, red, d_w, d_i) if self.rf_port_stalls else comp
        cycles = torch.maximum(t_array, torch.maximum(t_noc, t_dram)) + t_load
        pes = rows * cols
        util = macs[None] / (cycles * pes[:, None])
        area, parts = self._area(rows, cols, rf_b, glb_kib, noc_bw, bits)
        accesses = {
            "dram": dram_words,
            "glb": glb_w + glb_i + glb_o,
            "noc": noc,
            "rf": rf.expand(B, L),
            "mac": macs[None].expand(B, L),
        }
        return ModelResult(
            cycles,
            comp,
            t_array,
            t_noc,
            t_dram,
            energy,
            accesses,
            dram_bytes,
            macs,
            util,
            area,
            parts,
            clock,
            pes,
        )

    @staticmethod
    def _array_cycles(
        comp: torch.Tensor, red: torch.Tensor, d_w: torch.Tensor, d_i: torch.Tensor
    ) -> torch.Tensor:
        """Cycles of the array when each PE's one register file has one read and one write port.

        The physics of the hierarchy model (:mod:`.hierarchy_model`, ZigZag's port model) for
        the 9-knob template, whose RF holds all three operands: a transfer narrower than a
        port still takes a whole access (a cycle). Per PE and compute step:

        * read port: one of W, I, O can stay in the MAC across the innermost loop; the other
          two are read, except that a partial sum is not read back on the first of the
          ``red`` temporal reduction steps: ``comp (2 - 1/red)``;
        * write port: a partial sum every step, plus every word the NoC delivers to the PE
          (``comp (1/d_W + 1/d_I)``, the RF reuse of the dataflow template).

        The slower port sets the array's pace; the fill cannot overlap with the MAC's own
        RF traffic because the RF is too small to double-buffer all three operands.
        """
        t_read = comp * (2 - 1 / red)
        t_write = comp * (1 + 1 / d_w + 1 / d_i)
        return torch.maximum(t_read, t_write)

    def _mac_pj(self, bits: torch.Tensor) -> torch.Tensor:
        u, inv = torch.unique(bits, return_inverse=True)
        vals = torch.tensor(
            [self.tech.mac_pj(float(b)) for b in u.tolist()], dtype=bits.dtype, device=bits.device
        )
        return vals[inv]

    def area_mm2(self, designs: np.ndarray) -> np.ndarray:
        """Area (mm^2, 45 nm) of each row of a ``(B, 9)`` design matrix (see :func:`design_matrix`)."""
        D = torch.as_tensor(designs, dtype=torch.float64, device=self.device)
        _, rows, cols, rf_b, glb_kib, noc_bw, _, _, bits = D.T
        total, _ = self._area(rows, cols, rf_b, glb_kib, noc_bw, bits)
        return total.detach().cpu().numpy()

    def _area(self, rows, cols, rf_b, glb_kib, noc_bw, bits):
        tech = self.tech
        u, inv = torch.unique(bits, return_inverse=True)
        mac_um2 = torch.tensor(
            [tech.mac_um2(float(b)) for b in u.tolist()], dtype=bits.dtype, device=bits.device
        )[inv]
        pes = rows * cols
        rf_um2 = rf_b * 8 * tech.dff_um2_per_bit
        reg_um2 = 3 * bits * tech.dff_um2_per_bit  # NoC pipeline register per operand
        pe_side = torch.sqrt(mac_um2 + rf_um2 + reg_um2)
        bus_um2 = noc_bw * 8 * tech.wire_pitch_um * (rows + cols) * pe_side
        parts = {
            "mac": pes * mac_um2 * 1e-6,
            "rf": pes * rf_um2 * 1e-6,
            "noc": (pes * reg_um2 + bus_um2) * 1e-6,
            "glb": glb_kib * tech.glb_mm2_per_kib(),
        }
        return sum(parts.values()), parts
