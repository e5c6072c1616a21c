"""The SoC design space: ArchGym's FARSI knobs, sized from the workload.

ArchGym's ``settings/default_farsi_limited.yaml`` (oss-arch-gym@53f745af) exposes PE, memory
and bus allocations, PE-to-bus, bus-to-bus and bus-to-memory connections, and task-to-PE and
task-to-memory mappings, for three slots of each block kind and eight tasks. Here the slots
are ``n_pe``, ``n_mem``, ``n_bus`` (three each by default) and the mappings cover every task
of the workload:

=============================  ==============================================================
knob                           values
=============================  ==============================================================
``pe_allocation_i``            ``A53`` (general-purpose core) or ``IP`` (an accelerator tile:
                               the dedicated datapaths of the tasks mapped to it)
``pe_unroll_i``                loop unrolling of the tile's datapaths (powers of two, FARSI's
                               ``ip_loop_unrolling``; ignored for an A53)
``pe_clock_mhz_i``             the tile's clock, 100 / 400 / 600 / 800 MHz (FARSI's
                               ``ip_freq_range`` 1, 4, 6, 8 x the database's 100 MHz; ignored
                               for an A53)
``pe_to_bus_connection_i``     the bus the PE sits on
``mem_allocation_m``           ``sram`` (on chip, sized to its content) or ``dram`` (off chip)
``mem_width_m``                bytes per memory cycle, 4 to 128 (FARSI's ``LMEM_*`` / ``GMEM_*``
                               width codes 0-5), independent of its bus's width
``mem_to_bus_connection_m``    the bus the memory sits on (one bus per memory, FARSI's rule)
``bus_allocation_b``           bus width in bytes (FARSI's ``LMEM_ic`` widths)
``bus_to_bus_connection_b``    another bus it bridges to, or -1 (none; itself also means none)
``task_to_pe_mapping_<task>``  the PE slot that runs the task (every task with work)
``task_to_mem_mapping_<task>`` the memory slot that holds the task's output (every task whose
                               output is read or written)
=============================  ==============================================================

A block with nothing mapped to it is pruned (it costs no area), so allocations choose block
types; combinations the hardware cannot realise (a task on an ``IP`` tile without an
accelerator for it, a PE with no bus path to its memory, an SRAM over capacity) are reported by
the simulator as infeasible with the reason.
"""

from __future__ import annotations

from typing import Any

from archgym.design_space import Categorical, DesignSpace, Integer, Ordinal, Parameter
from archgym.errors import ConfigError

from .taskgraph import TaskGraph

PE_TYPES = ("A53", "IP")
MEM_TYPES = ("sram", "dram")
#: FARSI's ``LMEM_ic_*`` widths offered as bus widths (ArchGym's FARSI settings)
BUS_WIDTHS = (4, 16, 64, 128)
#: FARSI's ``LMEM_0..5`` / ``GMEM_0..5`` widths (bytes per memory cycle)
MEM_WIDTHS = (4, 8, 16, 32, 64, 128)
#: FARSI's ``ip_freq_range`` (FARSI_what_ifs.py: 1, 4, 6, 8) times its IP clock of 100 MHz
IP_CLOCKS_MHZ = (100, 400, 600, 800)
MAX_UNROLL = 4096


#: the knobs' names: ``knob(<kind>, slot or task)``, e.g. ``knob(PE_ALLOCATION, 0) == "pe_allocation_0"``
PE_ALLOCATION = "pe_allocation"
PE_UNROLL = "pe_unroll"
PE_CLOCK_MHZ = "pe_clock_mhz"
PE_TO_BUS = "pe_to_bus_connection"
MEM_ALLOCATION = "mem_allocation"
MEM_WIDTH = "mem_width"
MEM_TO_BUS = "mem_to_bus_connection"
BUS_ALLOCATION = "bus_allocation"
BUS_TO_BUS = "bus_to_bus_connection"
TASK_TO_PE = "task_to_pe_mapping"
TASK_TO_MEM = "task_to_mem_mapping"


def knob(kind: str, index: int | str) -> str:
    """The design-space name of a slot's knob (``index``: the slot) or a task's (the task's name)."""
    return f"{kind}_{index}"


def unroll_choices(graph: TaskGraph) -> int:
    """Largest unroll factor offered: the power of two that covers the workload's longest loop
    (<= 4096). A task's unroll is capped at its trip count, so the top choice fully unrolls the
    longest loop, as FARSI's ``ip_loop_unrolling`` (powers of two, then the trip count) does."""
    top = 1
    while top < min(graph.max_iterations, MAX_UNROLL):
        top *= 2
    return top


def soc_design_space(graph: TaskGraph, n_pe: int = 3, n_mem: int = 3, n_bus: int = 3) -> DesignSpace:
    """The knobs for one workload (see the module docstring)."""
    for name, n in (("n_pe", n_pe), ("n_mem", n_mem), ("n_bus", n_bus)):
        if not 1 <= n <= 16:
            raise ConfigError(f"{name} must be between 1 and 16, got {n}")
    params: list[Parameter] = []
    top = unroll_choices(graph)
    for i in range(n_pe):
        params += [
            Categorical(knob(PE_ALLOCATION, i), PE_TYPES),
            Integer(knob(PE_UNROLL, i), 1, top, log2=True),
            Ordinal(knob(PE_CLOCK_MHZ, i), IP_CLOCKS_MHZ),
            Integer(knob(PE_TO_BUS, i), 0, n_bus - 1),
        ]
    for m in range(n_mem):
        params += [
            Categorical(knob(MEM_ALLOCATION, m), MEM_TYPES),
            Ordinal(knob(MEM_WIDTH, m), MEM_WIDTHS),
            Integer(knob(MEM_TO_BUS, m), 0, n_bus - 1),
        ]
    for b in range(n_bus):
        params += [
            Ordinal(knob(BUS_ALLOCATION, b), BUS_WIDTHS),
            Integer(knob(BUS_TO_BUS, b), -1, n_bus - 1),
        ]
    params += [Integer(knob(TASK_TO_PE, t.name), 0, n_pe - 1) for t in graph.working_tasks]
    params += [Integer(knob(TASK_TO_MEM, t.name), 0, n_mem - 1) for t in graph.data_tasks]
    return DesignSpace(params)


def default_design(graph: TaskGraph, n_pe: int = 3, n_mem: int = 3, n_bus: int = 3) -> dict[str, Any]:
    """FARSI's starting point (its ``Hardware Graph.csv``): every task on one A53, all data in one
    DRAM, one 4-byte bus; the other slots are left unused."""
    space = soc_design_space(graph, n_pe, n_mem, n_bus)
    design: dict[str, Any] = {}
    for p in space.params:
        design[p.name] = p.from_index(0)
    for m in range(n_mem):
        design[knob(MEM_ALLOCATION, m)] = "dram"
    return design
