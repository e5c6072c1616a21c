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

Scaling from the 45 nm reference to ``node_nm`` (:data:`NODE_SCALING`). The 7 nm row is
FARSI's own: every FARSI study script (``data_collection/collection_utils/sim_run/
simple_sim_run.py``, ``what_ifs/FARSI_what_ifs.py``) evaluates SoCs with ``tech_node_SF`` =
energy x 0.064 and area x 0.0374 for accelerators and interconnect, area x 0.079 for memories,
and leaves the A53 unscaled (its figures are already a modern core's); its budgets were set for
that setting. The 32, 22 and 16 nm rows are first order (Dennard-style): area x (node/45)^2,
dynamic energy x (node/45) x (V/V45)^2 with nominal supplies 1.0, 0.9, 0.8, 0.75 V. Wire energy
per mm scales with V^2 only (0.7 V at 7 nm). The A53, DRAM and all clocks are not scaled.
FARSI's database does not state the node of its accelerator figures; they are taken as 45 nm,
as FARSI's scaling factors imply.

``figures="farsi"`` replaces the published memory and wire figures by the placeholders of
FARSI's own database, the figures its simulator uses with CACTI off (``use_cacti = False``):
``Byte_per_joul`` 200 (SRAM, ``LMEM_*``), 1 (DRAM, ``GMEM_*``) and 1 (bus, ``LMEM_ic_*``) bytes
per joule, ``Byte_per_m`` 1 (SRAM) and 2 (DRAM) bytes per m^2, memories sized in
``memory_block_size`` (1 MiB, ``misc_database - Common Hardware.csv``) blocks, DRAM counted in
area and buses of no area (FARSI's ``zero_sized_blocks``), all scaled by ``tech_node_SF`` like its
accelerators. Those figures are not physical (a 4 MB SRAM of 0.3 km^2); they exist so that
the cross-check with FARSI (``benchmarks/soc_farsi_crosscheck.py``) compares energy, power and
area bookkeeping like for like.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from archgym.errors import ConfigError

#: a float or an array of them: the per-task figures are computed for all tasks at once
Num = TypeVar("Num", float, np.ndarray)

REFERENCE_NODE_NM = 45
SUPPLY_V = {45: 1.0, 32: 0.9, 22: 0.8, 16: 0.75, 7: 0.7}


@dataclass(frozen=True)
class NodeScaling:
    """Factors from the 45 nm reference to one node (see the module docstring)."""

    energy: float  # accelerator and SRAM dynamic energy
    logic_area: float  # accelerators and bus wires
    memory_area: float  # SRAM
    wire_energy: float  # bus energy per byte per mm
    source: str


def _first_order(node_nm: int) -> NodeScaling:
    s, v = node_nm / REFERENCE_NODE_NM, SUPPLY_V[node_nm] / SUPPLY_V[REFERENCE_NODE_NM]
    return NodeScaling(s * v * v, s * s, s * s, v * v, "first order (Dennard-style)")


#: node (nm) -> scaling from 45 nm; 7 nm is FARSI's tech_node_SF
NODE_SCALING: dict[int, NodeScaling] = {
    45: NodeScaling(1.0, 1.0, 1.0, 1.0, "reference"),
    32: _first_order(32),
    22: _first_order(22),
    16: _first_order(16),
    7: NodeScaling(0.064, 0.0374, 0.079, 0.7**2, "FARSI tech_node_SF (simple_sim_run.py, FARSI_what_ifs.py)"),
}
DEFAULT_NODE_NM = 7
#: memory and wire figures: published ones, or the placeholders of FARSI's database (see module doc)
FIGURES = ("published", "farsi")
#: FARSI's database placeholders (``misc_database - Block Characteristics.csv``): bytes per joule
FARSI_BYTES_PER_J = {"sram": 200.0, "dram": 1.0, "bus": 1.0}
#: same file: bytes per m^2 (memories); ``memory_block_size`` of ``Common Hardware.csv``
FARSI_BYTES_PER_M2 = {"sram": 1.0, "dram": 2.0}
FARSI_MEMORY_BLOCK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Technology:
    """Every physical figure the simulator uses, at one technology node (see module doc)."""

    node_nm: int = DEFAULT_NODE_NM
    figures: str = "published"
    # reference core (FARSI "A53")
    gpp_freq_hz: float = 1.0e9
    gpp_ipc: float = 2.0
    gpp_instr_per_joule: float = 47_019_607_843.0
    gpp_area_mm2: float = 0.65
    # accelerators and interconnect (FARSI "IP", "LMEM_ic")
    ip_freq_hz: float = 100e6
    bus_freq_hz: float = 100e6
    mem_freq_hz: float = 100e6  # FARSI's LMEM_* and GMEM_* rows: one ``BitWidth`` per cycle
    # memories (Horowitz ISSCC 2014; Mistry IEDM 2007; JESD209-4)
    sram_pj_per_byte_8k: float = 1.25
    sram_energy_exponent: float = math.log(10.0) / math.log(128.0)
    sram_um2_per_bit: float = 0.346 / 0.70
    sram_min_bytes: int = 8 * 1024
    sram_max_bytes: int = 64 * 1024 * 1024
    dram_pj_per_byte: float = 1950.0 / 8.0
    dram_peak_bytes_per_s: float = 6.4e9
    dram_capacity_bytes: int = 2 * 1024**3
    # wires (Keckler et al. IEEE Micro 2011)
    wire_pj_per_byte_mm: float = 310.0 / 256.0 / 10.0 * 8.0
    hop_length_mm: float = 1.0
    wire_pitch_um: float = 0.2

    def __post_init__(self) -> None:
        if self.node_nm not in NODE_SCALING:
            raise ConfigError(
                f"technology node {self.node_nm} nm is not modelled; allowed: "
                + ", ".join(map(str, NODE_SCALING))
            )
        if self.figures not in FIGURES:
            raise ConfigError(f"figures must be one of {', '.join(FIGURES)}, got {self.figures!r}")

    # ------------------------------------------------------------------ scaling
    @property
    def scaling(self) -> NodeScaling:
        return NODE_SCALING[self.node_nm]

    # -------------------------------------------------------------- processing
    def gpp_time_s(self, gpp_cycles: Num) -> Num:
        """A task's run time on the core: its reference cycles at the core clock."""
        return gpp_cycles / self.gpp_freq_hz

    def gpp_energy_j(self, gpp_cycles: Num) -> Num:
        """Instructions (cycles x IPC, as FARSI derives work) over instructions per joule."""
        return gpp_cycles * self.gpp_ipc / self.gpp_instr_per_joule

    @property
    def gpp_area(self) -> float:
        return self.gpp_area_mm2

    def ip_time_s(self, ip_cycles: Num, unroll: Num | int, clock_hz: Num | float | None = None) -> Num:
        """Accelerator time with its main loop unrolled ``unroll`` times at ``clock_hz`` (default the
        database's 100 MHz): FARSI's ``ip_spawn`` multiplies an IP's work rate by both."""
        return ip_cycles / (unroll * (self.ip_freq_hz if clock_hz is None else clock_hz))

    def ip_energy_j(self, ip_energy_fj: Num, unroll: Num | int) -> Num:
        """FARSI scales an unrolled IP's energy per run by the unroll factor (its clock leaves the
        energy per run unchanged: ``ip_freq`` scales only the work rate in FARSI's library)."""
        return ip_energy_fj * 1e-15 * unroll * self.scaling.energy

    def ip_area(self, ip_area_um2: Num, unroll: Num | int) -> Num:
        return ip_area_um2 * 1e-6 * unroll * self.scaling.logic_area

    # ---------------------------------------------------------------- memories
    @property
    def farsi(self) -> bool:
        return self.figures == "farsi"

    def sram_size_bytes(self, content_bytes: float) -> int:
        """The SRAM macro that holds ``content_bytes``: a power of two >= the minimum (FARSI's
        figures: whole ``memory_block_size`` blocks)."""
        if self.farsi:
            return math.ceil(content_bytes / FARSI_MEMORY_BLOCK_BYTES) * FARSI_MEMORY_BLOCK_BYTES
        need = max(float(content_bytes), float(self.sram_min_bytes))
        return int(2 ** math.ceil(math.log2(need)))

    def sram_pj_per_byte(self, size_bytes: int) -> float:
        if self.farsi:
            return 1e12 / FARSI_BYTES_PER_J["sram"] * self.scaling.energy
        return (
            self.sram_pj_per_byte_8k
            * (size_bytes / 8192.0) ** self.sram_energy_exponent
            * self.scaling.energy
        )

    @property
    def dram_pj_per_byte_scaled(self) -> float:
        """DRAM energy per byte: off chip and not scaled; FARSI's placeholder scales it."""
        if self.farsi:
            return 1e12 / FARSI_BYTES_PER_J["dram"] * self.scaling.energy
        return self.dram_pj_per_byte

    def sram_area(self, size_bytes: int) -> float:
        if self.farsi:
            return size_bytes / FARSI_BYTES_PER_M2["sram"] * 1e6 * self.scaling.memory_area
        return size_bytes * 8 * self.sram_um2_per_bit * 1e-6 * self.scaling.memory_area

    def dram_area(self, content_bytes: float) -> float:
        """Off chip: no SoC area; FARSI counts its DRAM blocks (whole memory blocks)."""
        if not self.farsi:
            return 0.0
        size = math.ceil(content_bytes / FARSI_MEMORY_BLOCK_BYTES) * FARSI_MEMORY_BLOCK_BYTES
        return size / FARSI_BYTES_PER_M2["dram"] * 1e6 * self.scaling.memory_area

    def mem_bytes_per_s(self, width_bytes: int) -> float:
        """A memory's bandwidth per channel: its width per memory cycle (FARSI's LMEM/GMEM rows)."""
        return width_bytes * self.mem_freq_hz

    # ------------------------------------------------------------------- buses
    def bus_bytes_per_s(self, width_bytes: int) -> float:
        return width_bytes * self.bus_freq_hz

    @property
    def bus_pj_per_byte_hop(self) -> float:
        if self.farsi:
            return 1e12 / FARSI_BYTES_PER_J["bus"] * self.scaling.energy
        return self.wire_pj_per_byte_mm * self.hop_length_mm * self.scaling.wire_energy

    def bus_area(self, width_bytes: int) -> float:
        if self.farsi:
            return 0.0
        wires = 2 * 8 * width_bytes
        return wires * self.wire_pitch_um * self.hop_length_mm * 1e-3 * self.scaling.logic_area
