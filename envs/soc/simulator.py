"""``SoCSimulator``: a mapped task graph on a hardware graph -> latency, energy, power, area.

The design (see :mod:`.space`) is decoded into a hardware graph (PEs and memories on buses,
buses bridged to buses) and a mapping (task -> PE, task output -> memory). Infeasible
combinations raise :class:`~archgym.simulator.SimulationError` naming the reason; the run
records it and goes on. Feasible designs are scheduled by the phase-driven kernel
(:mod:`.kernel`): latency is the makespan. Energy adds

* compute: each task's energy on its PE (core: instructions / instructions-per-joule; tile:
  the accelerator's energy per run, times the unroll factor);
* memory: every byte written and read, at the per-byte energy of the memory (SRAM by its
  size, DRAM a constant);
* buses: every byte times the buses it crosses times the energy per byte per hop.

Power is energy over latency. Area adds the used cores, the used tiles' datapaths, the used
SRAMs (sized to their content) and the used buses. Figures and sources: :mod:`.technology`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from archgym.design_space import DesignSpace
from archgym.errors import ConfigError, SimulationError
from archgym.simulator import Metric, PreparedWorkload, Simulator

from .kernel import run_schedule
from .power import peak_window_power
from .space import (
    BUS_ALLOCATION,
    BUS_TO_BUS,
    MEM_ALLOCATION,
    MEM_TO_BUS,
    MEM_WIDTH,
    PE_ALLOCATION,
    PE_CLOCK_MHZ,
    PE_TO_BUS,
    PE_UNROLL,
    TASK_TO_MEM,
    TASK_TO_PE,
    knob,
    soc_design_space,
)
from .taskgraph import TaskGraph, load_workload
from .technology import Technology

__version__ = "1.1"
#: how a DRAM's reads and writes share it (see :class:`SoCSimulator`)
DRAM_CHANNELS = ("separate", "shared")
#: what a bus slot is (see :class:`SoCSimulator`)
INTERCONNECTS = ("bus", "crossbar")


def soc_metrics(n_pe: int, n_bus: int) -> tuple[Metric, ...]:
    """The metrics of a simulator with ``n_pe`` PE slots and ``n_bus`` bus slots."""
    return (
        Metric("latency_ms", "ms", "lower", 20.0, "makespan of the task graph"),
        Metric("energy_mj", "mJ", "lower", 0.1, "compute + memory + bus energy of one run"),
        Metric("power_mw", "mW", "lower", 5.0, "energy / latency"),
        Metric(
            "peak_power_mw", "mW", "lower", 5.0, "FARSI's power: highest over its 10 ms collection windows"
        ),
        Metric("area_mm2", "mm2", "lower", 5.0, "used cores, accelerator datapaths, SRAMs and buses"),
        Metric("latency_budget_met", "1", "higher", 1.0, "1 if every deadline of the workload is met"),
        Metric("power_budget_met", "1", "higher", 1.0, "1 if power is within the workload's budget"),
        Metric("area_budget_met", "1", "higher", 1.0, "1 if area is within the workload's budget"),
        *(
            Metric(f"pe_{i}_utilisation", "1", "higher", 0.5, f"busy time of PE slot {i} / latency")
            for i in range(n_pe)
        ),
        *(
            Metric(
                f"bus_{b}_utilisation",
                "1",
                "higher",
                0.5,
                f"bus {b}: busier direction's bytes / (bandwidth x latency)",
            )
            for b in range(n_bus)
        ),
    )


@dataclass(frozen=True)
class _Prepared:
    """Design-independent arrays of one workload."""

    graph: TaskGraph
    n_tasks: int
    working: np.ndarray  # task indices with a PE knob, in knob order
    working_names: tuple[str, ...]
    data: np.ndarray  # task indices with a memory knob, in knob order
    data_names: tuple[str, ...]
    gpp_cycles: np.ndarray
    has_ip: np.ndarray
    ip_cycles: np.ndarray
    ip_energy_fj: np.ndarray
    ip_area_um2: np.ndarray
    iterations: np.ndarray
    n_preds: np.ndarray
    succ_ptr: np.ndarray
    succ_idx: np.ndarray
    rd_ptr: np.ndarray
    rd_src: np.ndarray  # producer of each read
    rd_dst: np.ndarray  # consumer of each read
    rd_bytes: np.ndarray
    wr_bytes: np.ndarray
    deadlines: tuple[tuple[float, np.ndarray], ...]
    data_bytes: np.ndarray  # bytes each memory-mapped task's output occupies, in knob order
    data_read: np.ndarray  # whether a working task reads that output, in knob order


def _prepare(graph: TaskGraph) -> _Prepared:
    idx = graph.index
    n = len(graph.tasks)
    working_names = tuple(t.name for t in graph.working_tasks)
    data_names = tuple(t.name for t in graph.data_tasks)
    is_working = np.zeros(n, bool)
    is_working[[idx[x] for x in working_names]] = True
    succ: list[list[int]] = [[] for _ in range(n)]
    reads: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    wr = np.zeros(n)
    n_preds = np.zeros(n, np.int64)
    for e in graph.edges:
        p, c = idx[e.producer], idx[e.consumer]
        succ[p].append(c)
        n_preds[c] += 1
        if is_working[c]:
            reads[c].append((p, e.bytes))
        if is_working[p]:
            wr[p] += e.bytes
    tasks = graph.tasks
    f = np.array
    # a task's output occupies what it writes, or (a pseudo source) what its consumers read from it
    read_from = np.zeros(n)
    for c in range(n):
        for p, b in reads[c]:
            read_from[p] += b
    data_bytes = f([wr[idx[x]] if wr[idx[x]] > 0 else read_from[idx[x]] for x in data_names], float)
    return _Prepared(
        graph=graph,
        n_tasks=n,
        working=f([idx[x] for x in working_names], np.int64),
        working_names=working_names,
        data=f([idx[x] for x in data_names], np.int64),
        data_names=data_names,
        gpp_cycles=f([t.gpp_cycles for t in tasks], float),
        has_ip=f([t.has_ip for t in tasks], bool),
        ip_cycles=f([t.ip_cycles or 0.0 for t in tasks], float),
        ip_energy_fj=f([t.ip_energy_fj or 0.0 for t in tasks], float),
        ip_area_um2=f([t.ip_area_um2 or 0.0 for t in tasks], float),
        iterations=f([t.iterations for t in tasks], np.int64),
        n_preds=n_preds,
        succ_ptr=np.cumsum([0] + [len(s) for s in succ]).astype(np.int64),
        succ_idx=f([c for s in succ for c in s], np.int64),
        rd_ptr=np.cumsum([0] + [len(r) for r in reads]).astype(np.int64),
        rd_src=f([p for r in reads for p, _ in r], np.int64),
        rd_dst=f([c for c, r in enumerate(reads) for _ in r], np.int64),
        rd_bytes=f([b for r in reads for _, b in r], float),
        wr_bytes=wr,
        deadlines=tuple(
            (dl, f([idx[x] for x in names], np.int64)) for dl, names in graph.deadlines_ms.values()
        ),
        data_bytes=data_bytes,
        data_read=f([read_from[idx[x]] > 0 for x in data_names], bool),
    )


@dataclass
class _Hardware:
    """The decoded allocation and topology of one design."""

    pe_type: list[str]
    unroll: list[int]
    clock_hz: list[float]
    pe_bus: list[int]
    mem_type: list[str]
    mem_width: list[int]
    mem_bus: list[int]
    width: list[int]
    adj: list[list[int]]  # bus -> bridged buses


@dataclass
class _Paths:
    """Transfer paths of one design: CSR of resources per path, bus hops, read/write path ids."""

    pairs: dict[tuple[int, int, bool], int]  # (PE, memory, is write) -> path id
    res: list[int]
    ptr: list[int]
    hops: list[int]
    mem: list[int] = field(default_factory=list)  # memory slot of each path
    ports: dict[tuple[int, tuple[str, int], bool], int] = field(default_factory=dict)  # crossbar ports
    port_bus: list[int] = field(
        default_factory=list
    )  # bus of each port (resource 2 x (buses + memories) + k)
    port_write: list[bool] = field(default_factory=list)
    rd: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    wr: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


def _bus_path(adj: list[list[int]], src: int, dst: int) -> list[int] | None:
    """Buses on a shortest path from bus ``src`` to bus ``dst`` (breadth-first), None if none."""
    if src == dst:
        return [src]
    prev = {src: src}
    frontier = [src]
    while frontier:
        nxt = []
        for b in frontier:
            for o in adj[b]:
                if o in prev:
                    continue
                prev[o] = b
                if o == dst:
                    path = [o]
                    while path[-1] != src:
                        path.append(prev[path[-1]])
                    return path[::-1]
                nxt.append(o)
        frontier = nxt
    return None


@dataclass(frozen=True)
class SoCResult:
    """One simulated design: metrics plus the schedule and breakdowns (for analysis and tests)."""

    metrics: dict[str, float]
    start_s: np.ndarray
    finish_s: np.ndarray
    task_names: tuple[str, ...]
    energy_j: dict[str, float]
    area_mm2: dict[str, float]
    phases: int
    task_energy_j: np.ndarray = field(default_factory=lambda: np.zeros(0))  # compute + traffic, per task


class SoCSimulator(Simulator[_Prepared]):
    """FARSI-style SoC simulator (see the module docstring).

    Args:
        n_pe, n_mem, n_bus: slots of each block kind (must match the design space).
        technology: figures and node (default: 45 nm reference).
        node_nm: shorthand for ``Technology(node_nm=...)``.
        overlap: True (FARSI's model, default): a task's reads, computation and write run
            concurrently and it ends when the slowest ends; False: read, then compute, then write.
        dram_channels: ``"separate"`` (FARSI's GMEM, default): a DRAM has a read and a write
            channel of its width each, like an SRAM; ``"shared"``: one data bus for both
            directions, capped at one LPDDR4-3200 x16 channel (6.4 GB/s).
        interconnect: ``"bus"`` (default): a bus slot is one shared medium (a read and a write
            channel) that every transfer crossing it shares; ``"crossbar"`` (FARSI's ``LMEM_ic``
            pipe clusters): each memory or bridged bus it leads to has its own port of the
            bus's width, so transfers toward different destinations do not contend.
    """

    def __init__(
        self,
        n_pe: int = 3,
        n_mem: int = 3,
        n_bus: int = 3,
        technology: Technology | None = None,
        node_nm: int | None = None,
        overlap: bool = True,
        dram_channels: str = "separate",
        interconnect: str = "bus",
    ) -> None:
        self.n_pe, self.n_mem, self.n_bus = int(n_pe), int(n_mem), int(n_bus)
        self.overlap = bool(overlap)
        if dram_channels not in DRAM_CHANNELS:
            raise ConfigError(
                f"dram_channels must be one of {', '.join(DRAM_CHANNELS)}, got {dram_channels!r}"
            )
        self.dram_channels = dram_channels
        if interconnect not in INTERCONNECTS:
            raise ConfigError(f"interconnect must be one of {', '.join(INTERCONNECTS)}, got {interconnect!r}")
        self.interconnect = interconnect
        tech = technology or Technology()
        if node_nm is not None:
            tech = Technology(**{**tech.__dict__, "node_nm": int(node_nm)})
        self.tech = tech
        self.metrics = soc_metrics(self.n_pe, self.n_bus)
        slots = f"pe={self.n_pe} mem={self.n_mem} bus={self.n_bus}"
        mode = "overlap" if self.overlap else "sequential"
        figures = "" if tech.figures == "published" else f" figures={tech.figures}"
        self.version = f"archgym-soc {__version__} node={tech.node_nm}nm {slots} {mode} dram={dram_channels} {interconnect}{figures}"

    def __repr__(self) -> str:
        return f"SoCSimulator({self.version!r})"

    def prepare(self, workload: object) -> PreparedWorkload[_Prepared]:
        """The task graph (a :class:`~.taskgraph.TaskGraph`, a name or a path) loaded, checked and
        turned into the simulator's design-independent arrays, once."""
        if isinstance(workload, _Prepared):
            return PreparedWorkload(workload, workload.graph.name, workload.graph)
        graph = load_workload(cast(Any, workload))
        return PreparedWorkload(_prepare(graph), graph.name, workload, (repr(graph),))

    def _prepared(self, workload: Any) -> _Prepared:
        """The arrays of the workload (a raw one is prepared first)."""
        return self.workload_data(workload)

    # ------------------------------------------------------------------ decoding
    def _hardware(self, d: Mapping[str, Any]) -> _Hardware:
        hw = _Hardware(
            pe_type=[d[knob(PE_ALLOCATION, i)] for i in range(self.n_pe)],
            unroll=[int(d[knob(PE_UNROLL, i)]) for i in range(self.n_pe)],
            clock_hz=[float(d[knob(PE_CLOCK_MHZ, i)]) * 1e6 for i in range(self.n_pe)],
            pe_bus=[int(d[knob(PE_TO_BUS, i)]) for i in range(self.n_pe)],
            mem_type=[d[knob(MEM_ALLOCATION, m)] for m in range(self.n_mem)],
            mem_width=[int(d[knob(MEM_WIDTH, m)]) for m in range(self.n_mem)],
            mem_bus=[int(d[knob(MEM_TO_BUS, m)]) for m in range(self.n_mem)],
            width=[int(d[knob(BUS_ALLOCATION, b)]) for b in range(self.n_bus)],
            adj=[[] for _ in range(self.n_bus)],
        )
        for b in range(self.n_bus):
            o = int(d[knob(BUS_TO_BUS, b)])
            if o >= self.n_bus:
                raise SimulationError(f"bus_to_bus_connection_{b} = {o}: there are buses 0..{self.n_bus - 1}")
            if o >= 0 and o != b:
                hw.adj[b].append(o)
                hw.adj[o].append(b)
        for kind, vals in (("pe", hw.pe_bus), ("mem", hw.mem_bus)):
            for i, v in enumerate(vals):
                if not 0 <= v < self.n_bus:
                    raise SimulationError(
                        f"{kind}_to_bus_connection_{i} = {v}: there are buses 0..{self.n_bus - 1}"
                    )
        return hw

    def _mapping(self, pr: _Prepared, d: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """Task -> PE slot (-1: pseudo task) and task -> memory slot (-1: no output in memory)."""
        task_pe = np.full(pr.n_tasks, -1, np.int64)
        task_mem = np.full(pr.n_tasks, -1, np.int64)
        task_pe[pr.working] = [int(d[knob(TASK_TO_PE, n)]) for n in pr.working_names]
        task_mem[pr.data] = [int(d[knob(TASK_TO_MEM, n)]) for n in pr.data_names]
        if np.any(task_pe[pr.working] >= self.n_pe) or np.any(task_mem[pr.data] >= self.n_mem):
            raise SimulationError("a task mapping names a PE or memory slot that does not exist")
        return task_pe, task_mem

    def _compute(
        self, pr: _Prepared, hw: _Hardware, task_pe: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, float, float]:
        """Per-task compute time and compute energy, the core area and the accelerator area."""
        tech = self.tech
        is_ip_pe = np.array([t == "IP" for t in hw.pe_type], bool)
        on_ip = np.zeros(pr.n_tasks, bool)
        on_ip[pr.working] = is_ip_pe[task_pe[pr.working]]
        bad = np.flatnonzero(on_ip & ~pr.has_ip)
        if bad.size:
            t = int(bad[0])
            raise SimulationError(
                f"task {pr.graph.tasks[t].name!r} is mapped to pe_{task_pe[t]} (an IP tile) but the workload "
                "has no accelerator for it"
            )
        u = np.ones(pr.n_tasks, np.int64)
        u[on_ip] = np.minimum(np.array(hw.unroll, np.int64)[task_pe[on_ip]], pr.iterations[on_ip])
        clock = np.full(pr.n_tasks, tech.ip_freq_hz)
        clock[on_ip] = np.array(hw.clock_hz)[task_pe[on_ip]]
        compute = np.where(on_ip, tech.ip_time_s(pr.ip_cycles, u, clock), tech.gpp_time_s(pr.gpp_cycles))
        compute[task_pe < 0] = 0.0
        e_ip = tech.ip_energy_j(pr.ip_energy_fj, u)
        e_gpp = tech.gpp_energy_j(pr.gpp_cycles)
        e_task = np.where(on_ip, e_ip, np.where(task_pe >= 0, e_gpp, 0.0))
        cores = {int(p) for p in task_pe[pr.working] if hw.pe_type[int(p)] == "A53"}
        ip_area = float(np.sum(tech.ip_area(pr.ip_area_um2[on_ip], u[on_ip])))
        return compute, e_task, len(cores) * tech.gpp_area, ip_area

    @staticmethod
    def _peak_bytes(
        pr: _Prepared, task_mem: np.ndarray, start: np.ndarray, finish: np.ndarray, n_mem: int
    ) -> np.ndarray:
        """Peak live bytes of each memory over the schedule.

        A task's output buffer is live from the start of its producer (time 0 for a pseudo
        source) until its last reader finishes; an output no task reads (the workload's result)
        stays live to the end. Memories are sized by this peak, not by the sum of all buffers.
        """
        until = np.zeros(pr.n_tasks)
        np.maximum.at(until, pr.rd_src, finish[pr.rd_dst])
        data = pr.data
        s = start[data]
        e = np.where(pr.data_read, until[data], finish.max())
        m = task_mem[data]
        live = (s[None, :] <= s[:, None]) & (e[None, :] > s[:, None]) & (m[None, :] == m[:, None])
        np.fill_diagonal(live, True)
        occupancy = live @ pr.data_bytes
        peak = np.zeros(n_mem)
        np.maximum.at(peak, m, occupancy)
        return peak

    def _memories(self, hw: _Hardware, peak: np.ndarray) -> tuple[np.ndarray, float]:
        """Energy per byte of each memory slot and the SRAM area; raises when one overflows."""
        tech = self.tech
        mem_pj = np.zeros(self.n_mem)
        area = 0.0
        for m in np.flatnonzero(peak > 0):
            limit = tech.sram_max_bytes if hw.mem_type[m] == "sram" else tech.dram_capacity_bytes
            if peak[m] > limit:
                raise SimulationError(
                    f"mem_{m} ({hw.mem_type[m]}) would hold {peak[m]:.0f} live bytes at its peak, "
                    f"over its {limit} byte capacity"
                )
            if hw.mem_type[m] == "sram":
                size = tech.sram_size_bytes(peak[m])
                mem_pj[m] = tech.sram_pj_per_byte(size)
                area += tech.sram_area(size)
            else:
                mem_pj[m] = tech.dram_pj_per_byte_scaled
                area += tech.dram_area(peak[m])
        return mem_pj, area

    def _paths(self, pr: _Prepared, hw: _Hardware, task_pe: np.ndarray, task_mem: np.ndarray) -> _Paths:
        """Every (PE, memory, direction) a transfer uses, and its resources: the buses on the way,
        then the memory. Buses and memories have separate read and write channels (as FARSI's
        blocks, and AXI); with ``dram_channels="shared"`` a DRAM's data bus is shared by both
        directions. Resource ids: read channels of the buses then the memories, then the write
        channels in the same order."""
        paths = _Paths(pairs={}, res=[], ptr=[0], hops=[])
        n_res = self.n_bus + self.n_mem

        def port_id(b: int, next_bus: list[int], m: int, write: bool) -> int:
            """Bus ``b``'s port toward the next bus of the path, or toward memory ``m``."""
            key = (b, ("bus", next_bus[0]) if next_bus else ("mem", m), write)
            if key not in paths.ports:
                paths.ports[key] = 2 * n_res + len(paths.port_bus)
                paths.port_bus.append(b)
                paths.port_write.append(write)
            return paths.ports[key]

        def path_id(p: int, m: int, write: bool) -> int:
            key = (p, m, write)
            if key not in paths.pairs:
                buses = _bus_path(hw.adj, hw.pe_bus[p], hw.mem_bus[m])
                if buses is None:
                    raise SimulationError(
                        f"pe_{p} (on bus {hw.pe_bus[p]}) has no bus path to mem_{m} (on bus {hw.mem_bus[m]})"
                    )
                off = n_res if write else 0
                shared = hw.mem_type[m] == "dram" and self.dram_channels == "shared"
                mem_off = 0 if shared else off
                paths.pairs[key] = len(paths.hops)
                if self.interconnect == "crossbar":
                    bus_res = [port_id(b, buses[j + 1 : j + 2], m, write) for j, b in enumerate(buses)]
                else:
                    bus_res = [b + off for b in buses]
                paths.res.extend([*bus_res, self.n_bus + m + mem_off])
                paths.ptr.append(len(paths.res))
                paths.hops.append(len(buses))
                paths.mem.append(m)
            return paths.pairs[key]

        rd_pe = np.repeat(task_pe, np.diff(pr.rd_ptr))
        rd_mem = task_mem[pr.rd_src]
        paths.rd = np.array([path_id(int(p), int(m), False) for p, m in zip(rd_pe, rd_mem)], np.int64)
        paths.wr = np.zeros(pr.n_tasks, np.int64)
        for t in pr.working:
            if pr.wr_bytes[t] > 0:
                paths.wr[t] = path_id(int(task_pe[t]), int(task_mem[t]), True)
        return paths

    def _bandwidth(self, hw: _Hardware, paths: _Paths) -> np.ndarray:
        """Bytes/s of each resource channel (see :meth:`_paths`): buses and memories their own width
        x clock (a transfer moves at the narrower of its bus and memory, FARSI's bottleneck rule);
        a shared-channel DRAM is capped at its peak (one LPDDR4 channel)."""
        tech = self.tech
        bw = np.empty(self.n_bus + self.n_mem)
        for b in range(self.n_bus):
            bw[b] = tech.bus_bytes_per_s(hw.width[b])
        for m in range(self.n_mem):
            port = tech.mem_bytes_per_s(hw.mem_width[m])
            capped = hw.mem_type[m] == "dram" and self.dram_channels == "shared"
            bw[self.n_bus + m] = min(port, tech.dram_peak_bytes_per_s) if capped else port
        ports = [tech.bus_bytes_per_s(hw.width[b]) for b in paths.port_bus]
        return np.concatenate([bw, bw, ports])

    # ---------------------------------------------------------------- simulation
    def simulate(self, design: Mapping[str, Any], workload: Any) -> SoCResult:
        """Simulate one design; raises :class:`SimulationError` for an infeasible one."""
        pr = self._prepared(workload)
        try:
            hw = self._hardware(design)
            task_pe, task_mem = self._mapping(pr, design)
        except KeyError as exc:
            raise SimulationError(
                f"design has no knob {exc.args[0]!r}; is it a design for workload {pr.graph.name!r} with "
                f"{self.n_pe} PE, {self.n_mem} memory and {self.n_bus} bus slots?"
            ) from None
        compute, e_task, pe_area, ip_area = self._compute(pr, hw, task_pe)
        e_compute = float(e_task.sum())
        paths = self._paths(pr, hw, task_pe, task_mem)
        bw = self._bandwidth(hw, paths)
        start, finish, phases = run_schedule(
            task_pe,
            compute,
            pr.n_preds,
            pr.succ_ptr,
            pr.succ_idx,
            pr.rd_ptr,
            pr.rd_bytes,
            paths.rd,
            pr.wr_bytes,
            paths.wr,
            np.array(paths.ptr, np.int64),
            np.array(paths.res, np.int64),
            bw,
            self.n_pe,
            self.overlap,
        )
        if phases < 0:
            raise SimulationError("the schedule cannot progress (simulator bug)")
        latency = float(finish.max())
        mem_pj, mem_area = self._memories(hw, self._peak_bytes(pr, task_mem, start, finish, self.n_mem))

        # traffic per path -> bytes per bus and memory -> energy and utilisation
        path_bytes = np.zeros(len(paths.hops))
        np.add.at(path_bytes, paths.rd, pr.rd_bytes)
        w = pr.wr_bytes > 0
        np.add.at(path_bytes, paths.wr[w], pr.wr_bytes[w])
        n_res = self.n_bus + self.n_mem
        res_bytes = np.zeros(bw.size)
        for k in range(len(paths.hops)):
            res_bytes[paths.res[paths.ptr[k] : paths.ptr[k + 1]]] += path_bytes[k]
        bus_read, bus_write = res_bytes[: self.n_bus].copy(), res_bytes[n_res : n_res + self.n_bus].copy()
        port_bytes, port_bus = res_bytes[2 * n_res :], np.array(paths.port_bus, np.int64)
        port_write = np.array(paths.port_write, bool)
        np.add.at(bus_read, port_bus[~port_write], port_bytes[~port_write])
        np.add.at(bus_write, port_bus[port_write], port_bytes[port_write])
        bus_bytes = bus_read + bus_write
        mem_bytes = res_bytes[self.n_bus : n_res] + res_bytes[n_res + self.n_bus : 2 * n_res]
        e_mem = float(np.dot(mem_bytes, mem_pj)) * 1e-12
        e_bus = float(np.dot(path_bytes, paths.hops)) * self.tech.bus_pj_per_byte_hop * 1e-12
        # each task's energy (compute + the bytes it moves) for FARSI's windowed peak power
        path_j = (mem_pj[paths.mem] + np.array(paths.hops) * self.tech.bus_pj_per_byte_hop) * 1e-12
        np.add.at(e_task, pr.rd_dst, pr.rd_bytes * path_j[paths.rd])
        e_task[w] += pr.wr_bytes[w] * path_j[paths.wr[w]]
        peak_w = peak_window_power(start, finish, e_task)
        used_bus = (
            {hw.pe_bus[int(p)] for p in task_pe[pr.working]}
            | {hw.mem_bus[int(m)] for m in task_mem[pr.data]}
            | {b for b in range(self.n_bus) if bus_bytes[b] > 0}
        )
        bus_area = sum(self.tech.bus_area(hw.width[b]) for b in used_bus)
        energy = e_compute + e_mem + e_bus
        area = pe_area + ip_area + mem_area + bus_area
        busy = np.zeros(self.n_pe)
        np.add.at(busy, task_pe[pr.working], finish[pr.working] - start[pr.working])
        bus_busy = np.maximum(bus_read, bus_write) / bw[: self.n_bus]  # the busier direction
        metrics = self._metrics(pr, latency, energy, peak_w, area, finish, busy, bus_busy)
        return SoCResult(
            metrics,
            start,
            finish,
            tuple(t.name for t in pr.graph.tasks),
            {"compute": e_compute, "memory": e_mem, "bus": e_bus},
            {"pe": pe_area, "ip": ip_area, "memory": mem_area, "bus": bus_area},
            int(phases),
            e_task,
        )

    def _metrics(
        self,
        pr: _Prepared,
        latency: float,
        energy: float,
        peak_power_w: float,
        area: float,
        finish: np.ndarray,
        busy_s: np.ndarray,
        bus_busy_s: np.ndarray,
    ) -> dict[str, float]:
        budgets = pr.graph.budgets
        power_mw = energy / latency * 1e3 if latency > 0 else 0.0
        inv = 1.0 / latency if latency > 0 else 0.0
        deadline_ok = all(float(finish[ix].max()) * 1e3 <= dl for dl, ix in pr.deadlines)
        metrics = {
            "latency_ms": latency * 1e3,
            "energy_mj": energy * 1e3,
            "power_mw": power_mw,
            "peak_power_mw": peak_power_w * 1e3,
            "area_mm2": area,
            "latency_budget_met": float(deadline_ok),
            "power_budget_met": float(power_mw <= budgets.get("power_mw", np.inf)),
            "area_budget_met": float(area <= budgets.get("area_mm2", np.inf)),
        }
        for i in range(self.n_pe):
            metrics[f"pe_{i}_utilisation"] = float(busy_s[i] * inv)
        for b in range(self.n_bus):
            metrics[f"bus_{b}_utilisation"] = float(bus_busy_s[b] * inv)
        return metrics

    def evaluate(self, design: Mapping[str, Any], workload: Any) -> dict[str, float]:
        return self.simulate(design, workload).metrics

    def evaluate_many(
        self, designs: Sequence[Mapping[str, Any]], workload: Any
    ) -> list[dict[str, float] | SimulationError]:
        """Metrics of several designs (an infeasible one's :class:`SimulationError` in its place,
        so one bad design does not send the batch back one design at a time)."""
        return [self._metrics_or_error(d, workload) for d in designs]

    def _metrics_or_error(
        self, design: Mapping[str, Any], workload: Any
    ) -> dict[str, float] | SimulationError:
        try:
            return self.simulate(design, workload).metrics
        except SimulationError as exc:
            return exc

    def design_space(self, workload: Any) -> DesignSpace:
        """The design space these slots imply for ``workload``."""
        return soc_design_space(load_workload(workload), self.n_pe, self.n_mem, self.n_bus)
