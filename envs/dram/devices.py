"""DRAM device descriptions: data, not code.

A :class:`DRAMDevice` holds the organisation, timing (in clock cycles of the device clock)
and current/voltage parameters of one channel built from identical x8 devices. The
simulator core reads nothing else, so adding a standard means adding one entry here.

Sources (every number below carries its source in the ``citations`` mapping):

* ``[JESD79-4B]`` JEDEC JESD79-4B, *DDR4 SDRAM*, June 2017: speed bin DDR4-2400R
  (Table "DDR4-2400 Speed Bins"), timing parameters by speed bin (tRAS, tRC, tCCD_S/L,
  tRRD_S/L for 1 KB page, tFAW for 1 KB page, tWR, tWTR_S/L, tRTP), refresh parameters
  (tRFC1 for 4 Gb, tREFI for 0..85 C) and the read-to-write turnaround
  ``RL + BL/2 - WL + 2 tCK``.
* ``[MT40A512M8]`` Micron, *4Gb: x4, x8, x16 DDR4 SDRAM* (MT40A512M8, die A) IDD/IPP
  table for DDR4-2400, as tabulated in DRAMSys' memspec ``MICRON_4Gb_DDR4-2400_8bit_A``
  (tukl-msd/DRAMSys, configs/memspec), VDD = 1.2 V, VPP = 2.5 V.
* ``[JESD79-3F]`` JEDEC JESD79-3F, *DDR3 SDRAM*, July 2012: speed bin DDR3-1600K
  (11-11-11), tRAS/tRC, tRRD and tFAW for 1 KB page, tWR, tWTR, tRTP, tRFC for 1 Gb,
  tREFI.
* ``[MT41J128M8]`` Micron, *1Gb: x4, x8, x16 DDR3 SDRAM* (MT41J128M8, die G) IDD table
  for DDR3-1600, as tabulated in DRAMSys' memspec ``MICRON_1Gb_DDR3-1600_8bit_G``,
  VDD = 1.5 V.
* ``[JESD209-4]`` JEDEC JESD209-4B, *LPDDR4*: LPDDR4-3200 timings and the 8 Gb refresh
  parameters (tRFCab = 280 ns, tRFCpb = 140 ns, tREFI 3.904 us, tREFIpb = tREFI / 8), as
  tabulated with the JEDEC currents in DRAMSys' memspec ``JEDEC_8Gb_LPDDR4-3200_16bit``.
* ``[JESD79-5]`` JEDEC JESD79-5, *DDR5*: speed bin DDR5-4800B (40-39-39), tCCD/tRRD/tFAW/tWR/
  tWTR/tRTP/tXP, 16 Gb tRFC1 = 295 ns, same-bank refresh tRFCsb = 130 ns with tREFI2 = 1.95 us.
* ``[MT60B2G8]`` Micron 16Gb DDR5 SDRAM die rev A, DDR5-4800 IDD values as tabulated in gem5's
  ``DDR5_4400_4x8`` (``src/mem/DRAMInterface.py``).

Refresh granularity: DDR5 has same-bank and LPDDR4 per-bank refresh natively
(``native_refresh``). Where a standard lacks one, the ``PerBank`` and ``SameBank`` knobs still
act (as DRAMSys does for the standards that have them): we model tRFCpb = 0.5 x tRFC and
tRFCsb = 0.44 x tRFC from the LPDDR4 and DDR5 ratios above, a full round of units every tREFI
(``REFIpb`` / ``REFIsb`` hold the cycles of one full round).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from archgym.errors import UnknownNameError

#: Timing parameters every device defines (all in device clock cycles).
TIMING_NAMES: tuple[str, ...] = (
    "CL",
    "CWL",
    "RCD",
    "RP",
    "RAS",
    "RC",
    "CCD_S",
    "CCD_L",
    "CCD_L_WR",
    "RRD_S",
    "RRD_L",
    "FAW",
    "WR",
    "WTR_S",
    "WTR_L",
    "RTP",
    "RFC",
    "RFCpb",
    "RFCsb",
    "REFI",
    "REFIpb",
    "REFIsb",
    "RTW_EXTRA",
    "RTRS",
    "XP",
)

#: Currents every device defines (A per device; IPP* on the second rail, 0 where there is none).
CURRENT_NAMES: tuple[str, ...] = (
    "IDD0",
    "IDD2N",
    "IDD3N",
    "IDD2P",
    "IDD3P",
    "IDD4R",
    "IDD4W",
    "IDD5B",
    "IPP0",
    "IPP2N",
    "IPP3N",
)


@dataclass(frozen=True)
class DRAMDevice:
    """One DRAM channel: organisation, timings (cycles) and IDD currents (A) per device.

    Attributes:
        name: e.g. ``"DDR4-2400"``.
        standard: ``"DDR3"``, ``"DDR4"``, ``"DDR5"`` or ``"LPDDR4"``.
        clock_mhz: command clock (data rate is twice this).
        burst_length: BL (beats per column access).
        bus_width_bits: channel data width (64 for a DIMM-style channel).
        device_width_bits: DQ width of one device (x8).
        bank_groups / banks_per_group / rows / columns: per device (= per rank).
        native_refresh: refresh modes the standard defines besides all-bank (``"PerBank"``,
            ``"SameBank"``); the others are modelled (see the module docstring).
        timings: cycles, keys :data:`TIMING_NAMES`.
        vdd, vpp: supply voltages (V); vpp = 0 when the standard has no VPP rail.
        idd: currents in A per device, keys :data:`CURRENT_NAMES` (IDD2P / IDD3P: precharge /
            active power-down).
        default_mapping: address mapping string used when none is given.
        citations: parameter -> source tag (see the module docstring).
    """

    name: str
    standard: str
    clock_mhz: float
    burst_length: int
    bus_width_bits: int
    device_width_bits: int
    bank_groups: int
    banks_per_group: int
    rows: int
    columns: int
    timings: Mapping[str, int]
    vdd: float
    vpp: float
    idd: Mapping[str, float]
    default_mapping: str
    citations: Mapping[str, str] = field(default_factory=dict)
    native_refresh: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        missing = [k for k in TIMING_NAMES if k not in self.timings]
        if missing:
            raise ValueError(f"device {self.name!r} misses timing parameter(s): {', '.join(missing)}")
        for k in CURRENT_NAMES:
            if k not in self.idd:
                raise ValueError(f"device {self.name!r} misses current {k}")
        object.__setattr__(self, "timings", MappingProxyType(dict(self.timings)))
        object.__setattr__(self, "idd", MappingProxyType(dict(self.idd)))
        object.__setattr__(self, "citations", MappingProxyType(dict(self.citations)))

    # ------------------------------------------------------------------ derived
    @property
    def tck_ns(self) -> float:
        """Clock period in ns."""
        return 1000.0 / self.clock_mhz

    @property
    def banks(self) -> int:
        return self.bank_groups * self.banks_per_group

    @property
    def n_devices(self) -> int:
        """Devices side by side on the channel (8 x8 devices on a 64-bit bus)."""
        return self.bus_width_bits // self.device_width_bits

    @property
    def burst_cycles(self) -> int:
        """Data-bus cycles of one burst (BL / 2 at double data rate)."""
        return self.burst_length // 2

    @property
    def access_bytes(self) -> int:
        """Bytes moved by one column command on the channel (64 B for BL8 x 64 bit)."""
        return self.burst_length * self.bus_width_bits // 8

    @property
    def peak_bandwidth_gbps(self) -> float:
        """Channel peak bandwidth in GB/s (10^9 bytes/s): 19.2 for DDR4-2400 x64."""
        return 2.0 * self.clock_mhz * 1e6 * self.bus_width_bits / 8 / 1e9

    @property
    def capacity_bytes(self) -> int:
        return self.banks * self.rows * self.columns * self.bus_width_bits // 8

    @property
    def column_bursts(self) -> int:
        """Burst-aligned column addresses per row (columns / BL)."""
        return self.columns // self.burst_length

    def ns_to_cycles(self, ns: float) -> int:
        """Round a duration in ns up to whole clock cycles (JEDEC rounding)."""
        return int(math.ceil(ns / self.tck_ns - 1e-9))


_DDR4_CITE = {
    "CL/RCD/RP": "JESD79-4B DDR4-2400R speed bin 16-16-16 (13.32 ns)",
    "CWL": "JESD79-4B DDR4-2400 CWL 12 (1 tCK write preamble)",
    "RAS": "JESD79-4B tRAS min 32 ns -> 39 tCK",
    "RC": "JESD79-4B tRC = tRAS + tRP = 45.32 ns -> 55 tCK",
    "CCD_S/CCD_L": "JESD79-4B tCCD_S 4 tCK, tCCD_L max(5 tCK, 5 ns) -> 6 tCK",
    "RRD_S/RRD_L": "JESD79-4B 1KB page: tRRD_S max(4 tCK, 3.3 ns) -> 4, tRRD_L max(4 tCK, 4.9 ns) -> 6",
    "FAW": "JESD79-4B 1KB page tFAW 21 ns -> 26 tCK",
    "WR": "JESD79-4B tWR 15 ns -> 18 tCK",
    "WTR_S/WTR_L": "JESD79-4B tWTR_S max(2 tCK, 2.5 ns) -> 3, tWTR_L max(4 tCK, 7.5 ns) -> 9",
    "RTP": "JESD79-4B tRTP max(4 tCK, 7.5 ns) -> 9",
    "RFC": "JESD79-4B tRFC1 4 Gb = 260 ns -> 312 tCK",
    "REFI": "JESD79-4B tREFI 7.8 us (0..85 C) -> 9360 tCK",
    "RTW_EXTRA": "JESD79-4B read-to-write RL + BL/2 - WL + 2 tCK",
    "XP": "JESD79-4B tXP max(4 tCK, 6 ns) -> 8",
    "RTRS": "rank-to-rank switch 2 tCK (controller parameter; Ramulator DDR4 nRTRS = 2)",
    "CCD_L_WR": "DDR4 has one tCCD_L for reads and writes",
    "REFIpb/REFIsb": "modelled: a full round of per-bank / same-bank refreshes every tREFI",
    "RFCpb": "modelled: 0.5 x tRFC (LPDDR4 tRFCpb/tRFCab, JESD209-4B)",
    "RFCsb": "modelled: 0.44 x tRFC (DDR5 tRFCsb/tRFC1, JESD79-5)",
    "organisation": "MT40A512M8 4Gb x8: 4 bank groups x 4 banks, 32768 rows, 1024 columns",
    "IDD": "MT40A512M8 die A DDR4-2400 IDD/IPP (as tabulated in DRAMSys MICRON_4Gb_DDR4-2400_8bit_A)",
    "IDD2P/IDD3P": "MT40A512M8 IDD2P 17 mA, IDD3P 22.5 mA (DRAMSys MICRON_4Gb_DDR4-2400_8bit_A)",
}

DDR4_2400 = DRAMDevice(
    name="DDR4-2400",
    standard="DDR4",
    clock_mhz=1200.0,
    burst_length=8,
    bus_width_bits=64,
    device_width_bits=8,
    bank_groups=4,
    banks_per_group=4,
    rows=32768,
    columns=1024,
    timings={
        "CL": 16,
        "CWL": 12,
        "RCD": 16,
        "RP": 16,
        "RAS": 39,
        "RC": 55,
        "CCD_S": 4,
        "CCD_L": 6,
        "CCD_L_WR": 6,
        "RRD_S": 4,
        "RRD_L": 6,
        "FAW": 26,
        "WR": 18,
        "WTR_S": 3,
        "WTR_L": 9,
        "RTP": 9,
        "RFC": 312,
        "RFCpb": 156,
        "RFCsb": 138,
        "REFI": 9360,
        "REFIpb": 9360,
        "REFIsb": 9360,
        "RTW_EXTRA": 2,
        "RTRS": 2,
        "XP": 8,
    },
    vdd=1.2,
    vpp=2.5,
    idd={
        "IDD0": 60.75e-3,
        "IDD2N": 38.25e-3,
        "IDD3N": 44.0e-3,
        "IDD2P": 17.0e-3,
        "IDD3P": 22.5e-3,
        "IDD4R": 184.5e-3,
        "IDD4W": 168.75e-3,
        "IDD5B": 118.0e-3,
        "IPP0": 4.05e-3,
        "IPP2N": 0.0,
        "IPP3N": 0.0,
    },
    default_mapping="RoBaCoBg",
    citations=_DDR4_CITE,
)

_DDR3_CITE = {
    "CL/RCD/RP": "JESD79-3F DDR3-1600K speed bin 11-11-11 (13.75 ns)",
    "CWL": "JESD79-3F DDR3-1600 CWL 8",
    "RAS": "JESD79-3F tRAS 35 ns -> 28 tCK",
    "RC": "JESD79-3F tRC 48.75 ns -> 39 tCK",
    "CCD": "JESD79-3F tCCD 4 tCK (no bank groups: _S = _L)",
    "RRD": "JESD79-3F 1KB page tRRD max(4 tCK, 6 ns) -> 5",
    "FAW": "JESD79-3F 1KB page tFAW 30 ns -> 24 tCK",
    "WR": "JESD79-3F tWR 15 ns -> 12 tCK",
    "WTR": "JESD79-3F tWTR max(4 tCK, 7.5 ns) -> 6",
    "RTP": "JESD79-3F tRTP max(4 tCK, 7.5 ns) -> 6",
    "RFC": "JESD79-3F tRFC 1 Gb = 110 ns -> 88 tCK",
    "REFI": "JESD79-3F tREFI 7.8 us -> 6240 tCK",
    "RTW_EXTRA": "JESD79-3F read-to-write RL + tCCD - WL + 2 tCK",
    "XP": "JESD79-3F tXP max(3 tCK, 6 ns) -> 5",
    "RTRS": "rank-to-rank switch 2 tCK (controller parameter; Ramulator DDR3 nRTRS = 2)",
    "REFIpb/REFIsb": "modelled: a full round of per-bank / same-bank refreshes every tREFI",
    "RFCpb": "modelled: 0.5 x tRFC (LPDDR4 tRFCpb/tRFCab, JESD209-4B)",
    "RFCsb": "modelled: 0.44 x tRFC (DDR5 tRFCsb/tRFC1, JESD79-5)",
    "organisation": "MT41J128M8 1Gb x8: 8 banks, 16384 rows, 1024 columns",
    "IDD": "MT41J128M8 die G DDR3-1600 IDD (as tabulated in DRAMSys MICRON_1Gb_DDR3-1600_8bit_G)",
    "IDD2P/IDD3P": "MT41J128M8 IDD2P1 (fast exit) 30 mA, IDD3P 35 mA (DRAMSys MICRON_1Gb_DDR3-1600_8bit_G)",
}

DDR3_1600 = DRAMDevice(
    name="DDR3-1600",
    standard="DDR3",
    clock_mhz=800.0,
    burst_length=8,
    bus_width_bits=64,
    device_width_bits=8,
    bank_groups=1,
    banks_per_group=8,
    rows=16384,
    columns=1024,
    timings={
        "CL": 11,
        "CWL": 8,
        "RCD": 11,
        "RP": 11,
        "RAS": 28,
        "RC": 39,
        "CCD_S": 4,
        "CCD_L": 4,
        "CCD_L_WR": 4,
        "RRD_S": 5,
        "RRD_L": 5,
        "FAW": 24,
        "WR": 12,
        "WTR_S": 6,
        "WTR_L": 6,
        "RTP": 6,
        "RFC": 88,
        "RFCpb": 44,
        "RFCsb": 39,
        "REFI": 6240,
        "REFIpb": 6240,
        "REFIsb": 6240,
        "RTW_EXTRA": 2,
        "RTRS": 2,
        "XP": 5,
    },
    vdd=1.5,
    vpp=0.0,
    idd={
        "IDD0": 70.0e-3,
        "IDD2N": 45.0e-3,
        "IDD3N": 45.0e-3,
        "IDD2P": 30.0e-3,
        "IDD3P": 35.0e-3,
        "IDD4R": 140.0e-3,
        "IDD4W": 145.0e-3,
        "IDD5B": 170.0e-3,
        "IPP0": 0.0,
        "IPP2N": 0.0,
        "IPP3N": 0.0,
    },
    default_mapping="RoBaCo",
    citations=_DDR3_CITE,
)

_DDR5_CITE = {
    "CL/RCD/RP": "JESD79-5 DDR5-4800B speed bin 40-39-39 (tCK 0.416 ns; tRCD = tRP = 16 ns -> 39)",
    "CWL": "JESD79-5 CWL = CL - 2 = 38",
    "RAS": "JESD79-5 tRAS 32 ns -> 77 tCK",
    "RC": "JESD79-5 tRC = tRAS + tRP = 116 tCK",
    "CCD": "JESD79-5 tCCD_S 8 tCK (BL16), tCCD_L max(8 tCK, 5 ns) -> 12, tCCD_L_WR max(32 tCK, 20 ns) -> 48",
    "RRD": "JESD79-5 tRRD_S 8 tCK, tRRD_L max(8 tCK, 5 ns) -> 12",
    "FAW": "JESD79-5 x8 (1 KB page) tFAW max(32 tCK, 13.333 ns) -> 32",
    "WR": "JESD79-5 tWR 30 ns -> 72",
    "WTR": "JESD79-5 tWTR_S max(4 tCK, 2.5 ns) -> 6, tWTR_L max(16 tCK, 10 ns) -> 24",
    "RTP": "JESD79-5 tRTP max(12 tCK, 7.5 ns) -> 18",
    "RFC": "JESD79-5 16 Gb tRFC1 295 ns -> 708, tREFI1 3.9 us -> 9360",
    "RFCsb/REFIsb": "JESD79-5 16 Gb same-bank refresh REFsb: tRFCsb 130 ns -> 312; fine-granularity mode "
    "tREFI2 = 1.95 us (4680 tCK) for a full round of the 4 bank indices",
    "RFCpb": "modelled: 0.5 x tRFC (no per-bank refresh in DDR5; LPDDR4 ratio), a round every tREFI",
    "RTW_EXTRA": "JESD79-5 read-to-write CL - CWL + BL/2 + 2 tCK - 1 (DQS offset) + (tRPST - 0.5) + tWPRE",
    "XP": "JESD79-5 tXP max(7.5 ns, 8 tCK) -> 18",
    "RTRS": "rank-to-rank switch 2 tCK (as DDR4)",
    "organisation": "16 Gb x8: 8 bank groups x 4 banks, 65536 rows, 1024 columns; one 32-bit "
    "sub-channel of a DIMM (4 devices), BL16 = 64 B",
    "IDD": "Micron 16Gb DDR5 SDRAM die rev A, DDR5-4800 IDD0 122, IDD2N 92, IDD3N 142, IDD2P 88, "
    "IDD3P 140, IDD4R 530, IDD4W 479, IDD5B 277 mA at VDD 1.1 V (as tabulated in gem5's "
    "DDR5_4400_4x8 interface, src/mem/DRAMInterface.py); VPP currents not modelled",
}

DDR5_4800 = DRAMDevice(
    name="DDR5-4800",
    standard="DDR5",
    clock_mhz=2400.0,
    burst_length=16,
    bus_width_bits=32,
    device_width_bits=8,
    bank_groups=8,
    banks_per_group=4,
    rows=65536,
    columns=1024,
    timings={
        "CL": 40,
        "CWL": 38,
        "RCD": 39,
        "RP": 39,
        "RAS": 77,
        "RC": 116,
        "CCD_S": 8,
        "CCD_L": 12,
        "CCD_L_WR": 48,
        "RRD_S": 8,
        "RRD_L": 12,
        "FAW": 32,
        "WR": 72,
        "WTR_S": 6,
        "WTR_L": 24,
        "RTP": 18,
        "RFC": 708,
        "RFCpb": 354,
        "RFCsb": 312,
        "REFI": 9360,
        "REFIpb": 9360,
        "REFIsb": 4680,
        "RTW_EXTRA": 4,
        "RTRS": 2,
        "XP": 18,
    },
    vdd=1.1,
    vpp=0.0,
    idd={
        "IDD0": 122.0e-3,
        "IDD2N": 92.0e-3,
        "IDD3N": 142.0e-3,
        "IDD2P": 88.0e-3,
        "IDD3P": 140.0e-3,
        "IDD4R": 530.0e-3,
        "IDD4W": 479.0e-3,
        "IDD5B": 277.0e-3,
        "IPP0": 0.0,
        "IPP2N": 0.0,
        "IPP3N": 0.0,
    },
    default_mapping="RoBaCoBg",
    citations=_DDR5_CITE,
    native_refresh=("SameBank",),
)

_LPDDR4_CITE = {
    "timings": "JESD209-4B LPDDR4-3200 (tCK 0.625 ns) as tabulated in DRAMSys JEDEC_8Gb_LPDDR4-3200_16bit: "
    "RL 28, WL 14, tRCD 18 ns -> 29, tRPpb 18 ns -> 29, tRAS 42 ns -> 68, tRCpb 97, tRRD 10 ns -> 16, "
    "tFAW 40 ns -> 64, tWR 18 ns -> 29, tWTR 10 ns -> 16, tRTP 7.5 ns -> 12, tCCD 8 (BL16), tXP 12",
    "refresh": "JESD209-4B 8 Gb: tRFCab 280 ns -> 448, tRFCpb 140 ns -> 224, tREFI 3.904 us -> 6246, "
    "tREFIpb = tREFI / 8 (780), so a round of the 8 banks every 6240 tCK",
    "RFCsb/REFIsb": "no bank groups: a same-bank refresh is a per-bank refresh",
    "RTW_EXTRA": "JESD209-4B read-to-write RL + RU(tDQSCKmax) + BL/2 - WL + tWPRE: 6 + 2 = 8 tCK",
    "RTRS": "rank-to-rank switch 2 tCK",
    "organisation": "8 Gb x16 die: 8 banks, 65536 rows, 1024 columns; two dies form a 32-bit channel, "
    "BL16 = 64 B",
    "IDD": "JESD209-4 LPDDR4-3200 8 Gb currents as tabulated in DRAMSys JEDEC_8Gb_LPDDR4-3200_16bit: "
    "VDD2 = 1.1 V rail IDD02 45, IDD2N2 27, IDD3N2 30, IDD2P2 3, IDD3P2 9, IDD4R2 275, IDD4W2 210, "
    "IDD52 90 mA; VDD1 = 1.8 V rail (the 'IPP' slots) IDD01 3.5, IDD2N1 2.0, IDD3N1 2.25 mA",
}

LPDDR4_3200 = DRAMDevice(
    name="LPDDR4-3200",
    standard="LPDDR4",
    clock_mhz=1600.0,
    burst_length=16,
    bus_width_bits=32,
    device_width_bits=16,
    bank_groups=1,
    banks_per_group=8,
    rows=65536,
    columns=1024,
    timings={
        "CL": 28,
        "CWL": 14,
        "RCD": 29,
        "RP": 29,
        "RAS": 68,
        "RC": 97,
        "CCD_S": 8,
        "CCD_L": 8,
        "CCD_L_WR": 8,
        "RRD_S": 16,
        "RRD_L": 16,
        "FAW": 64,
        "WR": 29,
        "WTR_S": 16,
        "WTR_L": 16,
        "RTP": 12,
        "RFC": 448,
        "RFCpb": 224,
        "RFCsb": 224,
        "REFI": 6246,
        "REFIpb": 6240,
        "REFIsb": 6240,
        "RTW_EXTRA": 8,
        "RTRS": 2,
        "XP": 12,
    },
    vdd=1.1,
    vpp=1.8,
    idd={
        "IDD0": 45.0e-3,
        "IDD2N": 27.0e-3,
        "IDD3N": 30.0e-3,
        "IDD2P": 3.0e-3,
        "IDD3P": 9.0e-3,
        "IDD4R": 275.0e-3,
        "IDD4W": 210.0e-3,
        "IDD5B": 90.0e-3,
        "IPP0": 3.5e-3,
        "IPP2N": 2.0e-3,
        "IPP3N": 2.25e-3,
    },
    default_mapping="RoBaCo",
    citations=_LPDDR4_CITE,
    native_refresh=("PerBank",),
)

#: Devices by name (read-only).
DEVICES: Mapping[str, DRAMDevice] = MappingProxyType(
    {d.name: d for d in (DDR4_2400, DDR3_1600, DDR5_4800, LPDDR4_3200)}
)


def get_device(device: str | DRAMDevice) -> DRAMDevice:
    """Look a device up by name (``"DDR4-2400"``, ``"DDR3-1600"``, ``"DDR5-4800"``,
    ``"LPDDR4-3200"``) or pass one through."""
    if isinstance(device, DRAMDevice):
        return device
    try:
        return DEVICES[device]
    except KeyError:
        raise UnknownNameError(
            f"unknown DRAM device {device!r}; known devices: {', '.join(DEVICES)}"
        ) from None
