"""Technology figures of the SoC model, with their sources, and scaling to other nodes.

Processing elements use FARSI's database (Project_FARSI@ce59c9681c6f,
``specs/database_data/parsing/misc_database - Block Characteristics.csv``):

* reference core "A53": 1 GHz, Dhrystone IPC 2, 47,019,607,843 instructions per joule
  (21.3 pJ per instruction, 42.5 mW while busy), 6.5e-7 m^2 (0.65 mm^2);
* accelerators ("IP") and interconnect ("LMEM_ic"): 100 MHz; buses 4 to 128 bytes wide
  (``BitWidth`` 4..128 of the ``LMEM_ic_*`` rows); per-task accelerator figures are in the
  workload files.

Memories and wires use published 45 nm figures, because FARSI's own memory figures come from
CACTI at run time (``settings/config.py``: ``use_cacti``) and its spreadsheet placeholders
(``Byte_per_joul`` 200 for SRAM) are not physical:

* SRAM read/write energy per 64-bit access: 10 pJ (8 KB), 20 pJ (32 KB), 100 pJ (1 MB):
  M. Horowitz, "Computing's energy problem", ISSCC 2014, 45 nm, 0.9 V. Fitted as
  ``E(size) = 1.25 pJ/B * (size / 8 KiB) ** 0.4746`` (exact at 8 KB and 1 MB, 19.3 pJ at 32 KB).
* DRAM access: 1.3-2.6 nJ per 64-bit access (same source); the midpoint 1.95 nJ / 8 B =
  243.75 pJ per byte. Off-chip: not scaled with the node, not counted in SoC area.
  Peak bandwidth capped at 6.4 GB/s, one LPDDR4-3200 x16 channel (JEDEC JESD209-4).
* SRAM area: 0.346 um^2 6T bit cell (Intel 45 nm, Mistry et al., IEDM 2007) at an assumed
  70 % array efficiency: 0.494 um^2 per bit. Capacity is rounded up to a power of two
  (at least 8 KiB) and capped at ``sram_max_bytes``.
* Bus wires: 310 pJ to move 256 bits 10 mm on chip at 40 nm (S. W. Keckler et al., "GPUs and
  the future of parallel computing", IEEE Micro 2011): 0.121 pJ/bit/mm = 0.969 pJ per byte per
  mm; one bus hop is ``hop_length_mm`` (assumed 1 mm) of wire. Bus area: ``2 x 8 x width``
  wires (request and response) at an assumed 0.2 um effective pitch over one hop length.

Scaling from the 45 nm reference to ``node_nm`` (first order, Dennard-style, documented as
such): area x (node/45)^2; logic and SRAM dynamic energy x (node/45) x (V/V45)^2 (capacitance
with feature size, energy with supply squared); wire energy per mm x (V/V45)^2; DRAM unchanged;
clock frequencies unchanged (they are design choices of the database). FARSI's database does
not state a node; its figures are taken as the 45 nm reference (an assumption).
Nominal supplies: 45 nm 1.0 V, 32 nm 0.9 V, 22 nm 0.8 V, 16 nm 0.75 V, 7 nm 0.7 V.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

#: a float or an array of them: the per-task figures are computed for all tasks at once
Num = TypeVar("Num", float, np.ndarray)

REFERENCE_NODE_NM = 45
SUPPLY_V = {45: 1.0, 32: 0.9, 22: 0.8, 16: 0.75, 7: 0.7}


@dataclass(frozen=True)
class Technology:
    """Every physical figure the simulator uses, at one technology node (see module doc)."""

    node_nm: int = REFERENCE_NODE_NM
    # reference core (FARSI "A53")
    gpp_freq_hz: float = 1.0e9
    gpp_ipc: float = 2.0
    gpp_instr_per_joule: float = 47_019_607_843.0
    gpp_area_mm2: float = 0.65
    # accelerators and interconnect (FARSI "IP", "LMEM_ic")
    ip_freq_hz: float = 100e6
    bus_freq_hz: float = 100e6
    # memories (Horowitz ISSCC 2014; Mistry IEDM 2007; JESD209-4)
    sram_pj_per_byte_8k: float = 1.25
    sram_energy_exponent: float = math.log(10.0) / math.log(128.0)
    sram_um2_per_bit: float = 0.346 / 0.70
    sram_min_bytes: int = 8 * 1024
    sram_max_bytes: int = 4 * 1024 * 1024
    dram_pj_per_byte: float = 1950.0 / 8.0
    dram_peak_bytes_per_s: float = 6.4e9
    dram_capacity_bytes: int = 2 * 1024**3
    # wires (Keckler et al. IEEE Micro 2011)
    wire_pj_per_byte_mm: float = 310.0 / 256.0 / 10.0 * 8.0
    hop_length_mm: float = 1.0
    wire_pitch_um: float = 0.2

    def __post_init__(self) -> None:
        if self.node_nm not in SUPPLY_V:
            raise ValueError(
                f"technology node {self.node_nm} nm is not modelled; allowed: {', '.join(map(str, SUPPLY_V))}"
            )

    # ------------------------------------------------------------------ scaling
    @property
    def area_scale(self) -> float:
        return (self.node_nm / REFERENCE_NODE_NM) ** 2

    @property
    def logic_energy_scale(self) -> float:
        v = SUPPLY_V[self.node_nm] / SUPPLY_V[REFERENCE_NODE_NM]
        return (self.node_nm / REFERENCE_NODE_NM) * v * v

    @property
    def wire_energy_scale(self) -> float:
        v = SUPPLY_V[self.node_nm] / SUPPLY_V[REFERENCE_NODE_NM]
        return v * v

    # -------------------------------------------------------------- processing
    def gpp_time_s(self, gpp_cycles: Num) -> Num:
        """A task's run time on the core: its reference cycles at the core clock."""
        return gpp_cycles / self.gpp_freq_hz

    def gpp_energy_j(self, gpp_cycles: Num) -> Num:
        """Instructions (cycles x IPC, as FARSI derives work) over instructions per joule."""
        return gpp_cycles * self.gpp_ipc / self.gpp_instr_per_joule * self.logic_energy_scale

    @property
    def gpp_area(self) -> float:
        return self.gpp_area_mm2 * self.area_scale

    def ip_time_s(self, ip_cycles: Num, unroll: Num | int) -> Num:
        """Accelerator time with its main loop unrolled ``unroll`` times (FARSI's ip_spawn)."""
        return ip_cycles / (unroll * self.ip_freq_hz)

    def ip_energy_j(self, ip_energy_fj: Num, unroll: Num | int) -> Num:
        """FARSI scales an unrolled IP's energy per run by the unroll factor."""
        return ip_energy_fj * 1e-15 * unroll * self.logic_energy_scale

    def ip_area(self, ip_area_um2: Num, unroll: Num | int) -> Num:
        return ip_area_um2 * 1e-6 * unroll * self.area_scale

    # ---------------------------------------------------------------- memories
    def sram_size_bytes(self, content_bytes: float) -> int:
        """The SRAM macro that holds ``content_bytes``: a power of two >= the minimum."""
        need = max(float(content_bytes), float(self.sram_min_bytes))
        return int(2 ** math.ceil(math.log2(need)))

    def sram_pj_per_byte(self, size_bytes: int) -> float:
        return (
            self.sram_pj_per_byte_8k
            * (size_bytes / 8192.0) ** self.sram_energy_exponent
            * self.logic_energy_scale
        )

    def sram_area(self, size_bytes: int) -> float:
        return size_bytes * 8 * self.sram_um2_per_bit * 1e-6 * self.area_scale

    # ------------------------------------------------------------------- buses
    def bus_bytes_per_s(self, width_bytes: int) -> float:
        return width_bytes * self.bus_freq_hz

    @property
    def bus_pj_per_byte_hop(self) -> float:
        return self.wire_pj_per_byte_mm * self.hop_length_mm * self.wire_energy_scale

    def bus_area(self, width_bytes: int) -> float:
        wires = 2 * 8 * width_bytes
        return wires * self.wire_pitch_um * self.hop_length_mm * 1e-3 * self.area_scale
