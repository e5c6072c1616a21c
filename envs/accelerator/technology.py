"""Per-access energies and per-component areas (45 nm), each figure with its source.

Energy
------
* **MAC** -- Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC
  2014, 45 nm, 0.9 V: 8-bit integer multiply 0.2 pJ, 32-bit 3.1 pJ; 8-bit add 0.03 pJ,
  32-bit 0.1 pJ. We interpolate as power laws in the bit width (multiply ~ b^1.98, add ~
  b^0.87, exponents fitted to those two points); a ``b``-bit MAC is a ``b``-bit multiply
  plus a ``2b``-bit accumulate: 0.255 pJ at 8 bits, 0.89 pJ at 16 bits.
* **Storage and network**, relative to a 16-bit MAC -- Chen, Emer, Sze, "Eyeriss: A Spatial
  Architecture for Energy-Efficient Dataflow for Convolutional Neural Networks", ISCA 2016,
  Table IV (normalised energy per 16-bit access, from a 65 nm process): RF (0.5 kB) 1x,
  PE-to-PE / array NoC 2x, global buffer (>100 kB) 6x, DRAM 200x. We anchor them to the
  16-bit MAC above and scale linearly with the word width.
* **Capacity scaling** of SRAM/RF access energy ~ sqrt(capacity): Horowitz (ISSCC 2014)
  gives 64-bit reads of 10 pJ (8 kB), 20 pJ (32 kB) and 100 pJ (1 MB), i.e. x2 per x4 and
  ~x5.7 per x32. References: RF 512 B (Eyeriss's 0.5 kB per PE), GLB 108 kB (the Eyeriss
  chip's global buffer, Chen et al., JSSC 2017).

Area (45 nm)
------------
* **Multiplier / adder** -- Horowitz (ISSCC 2014): 8-bit multiply 282 um^2, 32-bit 3495 um^2;
  8-bit add 36 um^2, 32-bit 137 um^2 (power-law interpolation as for energy).
* **Register file** -- flip-flop storage: NanGate FreePDK45 Open Cell Library, DFF_X1 =
  4.522 um^2 per bit.
* **Global buffer** -- 6T SRAM cell 0.346 um^2 (Intel 45 nm, Mistry et al., IEDM 2007) at an
  array efficiency of 50 % (periphery, as typical of CACTI-sized macros), i.e. 5.67e-3 mm^2
  per KiB.
* **NoC** -- one word-wide pipeline register per operand per PE (3 x DFF per bit) plus the
  GLB-to-array buses: ``noc_bw * 8`` wires of 0.28 um pitch (FreePDK45 intermediate metal)
  running along the array's height and width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def _power_law(b: float, b0: float, v0: float, b1: float, v1: float) -> float:
    k = math.log(v1 / v0) / math.log(b1 / b0)
    return v0 * (b / b0) ** k


@dataclass(frozen=True)
class Technology:
    """Cost figures the model reads; all energies in pJ, areas in um^2 unless noted."""

    name: str = "45nm (Horowitz ISSCC'14 + Eyeriss ISCA'16 ratios)"
    # Horowitz ISSCC 2014, 45 nm integer arithmetic: (bits, pJ) and (bits, um^2) anchors
    mult_pj: tuple[tuple[int, float], tuple[int, float]] = ((8, 0.2), (32, 3.1))
    add_pj: tuple[tuple[int, float], tuple[int, float]] = ((8, 0.03), (32, 0.1))
    mult_um2: tuple[tuple[int, float], tuple[int, float]] = ((8, 282.0), (32, 3495.0))
    add_um2: tuple[tuple[int, float], tuple[int, float]] = ((8, 36.0), (32, 137.0))
    # Eyeriss ISCA 2016 Table IV: energy per 16-bit access relative to a 16-bit MAC
    rf_x: float = 1.0
    noc_x: float = 2.0
    glb_x: float = 6.0
    dram_x: float = 200.0
    ref_bits: int = 16
    rf_ref_bytes: float = 512.0
    glb_ref_kib: float = 108.0
    capacity_exponent: float = 0.5  # sqrt(capacity), fitted to Horowitz's SRAM read energies
    # areas
    dff_um2_per_bit: float = 4.522  # NanGate FreePDK45 DFF_X1
    sram_um2_per_bit: float = 0.346  # Intel 45 nm 6T cell (Mistry et al., IEDM 2007)
    sram_array_efficiency: float = 0.5
    wire_pitch_um: float = 0.28  # FreePDK45 intermediate metal pitch

    # ----------------------------------------------------------------- energy
    def mac_pj(self, bits: float) -> float:
        """Energy of one ``bits``-bit multiply plus a ``2*bits``-bit accumulate."""
        (b0, m0), (b1, m1) = self.mult_pj
        (a0, e0), (a1, e1) = self.add_pj
        return _power_law(bits, b0, m0, b1, m1) + _power_law(2 * bits, a0, e0, a1, e1)

    def word_pj(self, level: str, bits: float) -> float:
        """Energy of one ``bits``-bit access at a reference-sized ``level``."""
        x = {"rf": self.rf_x, "noc": self.noc_x, "glb": self.glb_x, "dram": self.dram_x}[level]
        return x * self.mac_pj(self.ref_bits) * bits / self.ref_bits

    def rf_scale(self, rf_bytes: float) -> float:
        return (rf_bytes / self.rf_ref_bytes) ** self.capacity_exponent

    def glb_scale(self, glb_kib: float) -> float:
        return (glb_kib / self.glb_ref_kib) ** self.capacity_exponent

    # ------------------------------------------------------------------- area
    def mac_um2(self, bits: float) -> float:
        (b0, m0), (b1, m1) = self.mult_um2
        (a0, e0), (a1, e1) = self.add_um2
        return _power_law(bits, b0, m0, b1, m1) + _power_law(2 * bits, a0, e0, a1, e1)

    def rf_um2(self, rf_bytes: float) -> float:
        return rf_bytes * 8 * self.dff_um2_per_bit

    def glb_mm2_per_kib(self) -> float:
        return 8192 * self.sram_um2_per_bit / self.sram_array_efficiency * 1e-6


DEFAULT_TECHNOLOGY = Technology()
