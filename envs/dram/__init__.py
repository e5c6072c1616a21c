"""DRAM memory-controller simulator and environment (ArchGym's DRAMSys case study).

Public names: :class:`DRAMSimulator`, :func:`dram_design_space`, :func:`load_workload`,
:class:`Trace`, the trace readers/writers, the devices, and :func:`make_dram_env`.
"""

from .address_mapping import AddressMapping, AddressMappingError
from .devices import DDR3_1600, DDR4_2400, DDR5_4800, DEVICES, LPDDR4_3200, DRAMDevice, get_device
from .generators import GENERATORS, cloud, mixed, random_uniform, sequential, stream_triad, strided
from .power import EnergyBreakdown, channel_energy, per_command_energy_nj
from .simulator import METRICS, DRAMSimulator, SimResult
from .space import DEFAULT_DESIGN, EXTENDED_DEFAULTS, dram_design_space
from .traces import (
    Trace,
    TraceFormatError,
    detect_format,
    read_dramsys,
    read_ramulator,
    read_trace,
    write_dramsys,
    write_ramulator,
)
from .workloads import STANDARD_WORKLOADS, load_workload, shipped_trace_path, standard_workload

__all__ = [
    "AddressMapping",
    "AddressMappingError",
    "DDR3_1600",
    "DDR4_2400",
    "DDR5_4800",
    "LPDDR4_3200",
    "DEVICES",
    "DRAMDevice",
    "get_device",
    "GENERATORS",
    "cloud",
    "mixed",
    "random_uniform",
    "sequential",
    "stream_triad",
    "strided",
    "EnergyBreakdown",
    "channel_energy",
    "per_command_energy_nj",
    "METRICS",
    "DRAMSimulator",
    "SimResult",
    "DEFAULT_DESIGN",
    "EXTENDED_DEFAULTS",
    "dram_design_space",
    "Trace",
    "TraceFormatError",
    "detect_format",
    "read_dramsys",
    "read_ramulator",
    "read_trace",
    "write_dramsys",
    "write_ramulator",
    "STANDARD_WORKLOADS",
    "load_workload",
    "shipped_trace_path",
    "standard_workload",
    "make_dram_env",
]


def __getattr__(name: str):
    if name == "make_dram_env":  # lazy: the env module pulls in gymnasium and the objective
        from .env import make_dram_env

        return make_dram_env
    raise AttributeError(name)
