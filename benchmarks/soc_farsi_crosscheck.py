"""Cross-check the SoC simulator against FARSI's own simulator: latency, energy, power and area.

Each design (``DESIGNS``) is a hardware graph and a mapping that both simulators can express:
PEs (A53 cores, or one accelerator per task with its unroll factor and clock), buses of
FARSI's widths (bridged or not), SRAMs and DRAMs of FARSI's widths, each holding the outputs of
the tasks mapped to it. Our side is always computed: latency with the default figures, energy,
power and area with ``figures="farsi"`` (FARSI's CACTI-off placeholders, see
``envs/soc/technology.py``), power as FARSI defines it (``peak_power_mw``). FARSI's side needs a
local, patched checkout of facebookresearch/Project_FARSI (commit ce59c9681c6f) given with
``--farsi DIR``; without it the recorded figures (``FARSI``, from the runs of 2026-12-01 and
2026-12-07) are printed instead. The harness writes FARSI's ``<workload>_database - Hardware
Graph.csv`` and ``- Task To Hardware Mapping.csv`` for each design and runs
``data_collection/collection_utils/sim_run/simple_sim_run.py``, reading the ``lat is <s> for
<workload>`` line it prints and its result summary (``energy``, ``power``, ``area``,
``ips_total_area`` + ``gpps_total_area``, ``memory_total_area``). FARSI's study setting,
``tech_node_SF``, is our default 7 nm node.

How FARSI was made to run here (Python 3.11, NumPy 2; FARSI targets Python 3.7):

1. ``git archive`` the snapshot into DIR;
2. ``settings/config.py``: ``use_cacti = False`` (CACTI is not installed; FARSI's memory and bus
   energy and area then come from its database placeholders, which ``figures="farsi"`` mirrors);
3. ``sed`` NumPy 2 names (``np.Inf``/``np.NaN``/``np.float``/``np.int``/``np.bool``) and the
   matplotlib style ``seaborn-whitegrid`` -> ``seaborn-v0_8-whitegrid`` in FARSI's sources;
4. ``simple_sim_run.py``: ``workloads = {os.environ["FARSI_WL"]}`` instead of the hard-coded
   ``{"SOC_example_1p_2r"}``, and ``"ip_spawn": {"ip_loop_unrolling": {"incr": 2,
   "max_spawn_ip": 17, "spawn_mode": "geometric"}, "ip_freq_range": [1, 4, 6, 8]}`` added to
   its ``db_population_misc_knobs`` (the IP spawning of ``FARSI_what_ifs.py``, so that unrolled
   and faster IPs exist in its library);
5. empty stub modules for ``pygraphviz``, ``pygmo``, ``deap``, ``plotly`` and
   ``plotly.graph_objs`` (plots and other search modes only) and ``pip install --target`` of
   ``dill`` and ``psutil``, both on ``PYTHONPATH`` (``--pythonpath``).

``python benchmarks/soc_farsi_crosscheck.py [--farsi DIR --pythonpath STUBS:DEPS] [--only NAME]``
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archgym.envs.soc import SoCResult, SoCSimulator, Technology, default_design, load_workload
from archgym.envs.soc.power import POWER_COLLECTION_PERIOD_S, phase_energy
from archgym.envs.soc.taskgraph import TaskGraph

#: FARSI's width codes: ``LMEM_<k>``, ``GMEM_<k>`` and ``LMEM_ic_<k>`` are ``WIDTHS[k]`` bytes wide
WIDTHS = (4, 8, 16, 32, 64, 128)
WORKLOAD = {"cava": "hpvm_cava", "audio": "audio_decoder", "edge": "edge_detection"}
METRICS = ("latency_s", "energy_j", "power_w", "area_mm2", "pe_area_mm2", "mem_area_mm2")


@dataclass(frozen=True)
class PE:
    """An A53 running ``tasks`` or an accelerator (``IP``) for one task; ``tasks=("*",)``: every
    working task no other PE takes. The first A53 also hosts the pseudo tasks in FARSI."""

    kind: str
    tasks: tuple[str, ...]
    bus: int = 0
    unroll: int = 1
    clock_mhz: int = 100


@dataclass(frozen=True)
class Mem:
    """An SRAM or DRAM of ``width`` bytes on ``bus`` holding the outputs of ``tasks`` ("*": the rest)."""

    kind: str = "sram"
    width: int = 4
    bus: int = 0
    tasks: tuple[str, ...] = ("*",)


@dataclass(frozen=True)
class Design:
    """A workload, its PEs, memories, bus widths and bus bridges (pairs of bus indices)."""

    workload: str
    pes: tuple[PE, ...]
    mems: tuple[Mem, ...] = (Mem(),)
    buses: tuple[int, ...] = (4,)
    bridges: tuple[tuple[int, int], ...] = ()


def _ips(tasks: list[str], **kw: Any) -> tuple[PE, ...]:
    return tuple(PE("IP", (t,), **kw) for t in tasks)


def _work(wl: str) -> list[str]:
    return [t.name for t in load_workload(WORKLOAD[wl]).working_tasks]


def _designs() -> dict[str, Design]:
    """The nine designs of the first cross-check, then designs covering every other knob kind."""
    a53 = (PE("A53", ("*",)),)
    cava, audio, edge = _work("cava"), _work("audio"), _work("edge")
    right = tuple(t for t in audio if t.endswith("right_fxp_cloned"))
    left = tuple(t for t in audio if t.endswith("left_fxp_cloned"))
    psycho_zoom = ["psychoFilter_fxp_cloned", "zoomProcess_fxp_cloned"]
    dram = (Mem("dram"),)
    return {
        # one 4-byte bus, one 4-byte SRAM (2026-12-01)
        "cava_all_a53": Design("hpvm_cava", a53),
        "cava_gamut_descale_on_ip": Design(
            "hpvm_cava", a53 + _ips(["gamut_map_fxp_cloned", "descale_fxp_cloned"])
        ),
        "cava_all_ip": Design("hpvm_cava", (PE("A53", ()), *_ips(cava))),
        "audio_all_a53": Design("audio_decoder", a53),
        "audio_psycho_zoom_on_ip": Design("audio_decoder", a53 + _ips(psycho_zoom)),
        "audio_right_ear_on_2nd_a53": Design("audio_decoder", (*a53, PE("A53", right))),
        "audio_all_ip": Design("audio_decoder", (PE("A53", ()), *_ips(audio))),
        "edge_all_a53": Design("edge_detection", a53),
        "edge_all_ip": Design("edge_detection", (PE("A53", ()), *_ips(edge))),
        # memory kinds and widths, wide buses (2026-12-07)
        "audio_dram": Design("audio_decoder", a53, dram),
        "audio_bus16_sram4": Design("audio_decoder", a53, buses=(16,)),
        "audio_bus16_sram16": Design("audio_decoder", a53, (Mem(width=16),), buses=(16,)),
        "audio_bus4_sram64": Design("audio_decoder", a53, (Mem(width=64),)),
        "edge_bus64_dram64": Design("edge_detection", a53, (Mem("dram", 64),), buses=(64,)),
        "edge_all_ip_bus128_dram32": Design(
            "edge_detection", (PE("A53", ()), *_ips(edge)), (Mem("dram", 32),), buses=(128,)
        ),
        # several PEs, memories and buses, bridges
        "audio_two_sram_left_right": Design(
            "audio_decoder", (*a53, PE("A53", right)), (Mem(tasks=right), Mem(width=8))
        ),
        "audio_sram_and_dram": Design(
            "audio_decoder", a53 + _ips(psycho_zoom), (Mem("dram", tasks=left), Mem(width=16)), buses=(16,)
        ),
        "audio_bridged_right_ear": Design(
            "audio_decoder",
            (*a53, PE("A53", right, bus=1)),
            (Mem(width=16), Mem(width=16, bus=1, tasks=right)),
            buses=(16, 16),
            bridges=((0, 1),),
        ),
        "audio_three_buses_chain": Design(
            "audio_decoder",
            (*a53, PE("A53", right, bus=2), PE("A53", left, bus=1)),
            (Mem("sram", 32, bus=1),),
            buses=(4, 16, 64),
            bridges=((0, 1), (1, 2)),
        ),
        # IP unrolling and clocks
        "cava_all_ip_unroll128_800mhz": Design(
            "hpvm_cava",
            (PE("A53", ()), *_ips(cava, unroll=128, clock_mhz=800)),
            (Mem(width=64),),
            buses=(64,),
        ),
        "edge_all_ip_unroll8_400mhz": Design(
            "edge_detection",
            (PE("A53", ()), *_ips(edge, unroll=8, clock_mhz=400)),
            (Mem(width=16),),
            buses=(16,),
        ),
        "audio_ips_unroll4_600mhz": Design(
            "audio_decoder",
            a53
            + _ips(
                ["rotateOrder3_fxp_cloned", "FIR_right_fxp_cloned", "FIR_left_fxp_cloned"],
                unroll=4,
                clock_mhz=600,
            ),
            (Mem(width=16),),
            buses=(16,),
        ),
    }


DESIGNS = _designs()


def _assign(graph: TaskGraph, groups: list[tuple[str, ...]]) -> list[list[str]]:
    """Working tasks of each group, a ``"*"`` group taking the tasks no other group names."""
    work = [t.name for t in graph.working_tasks]
    named = {t for g in groups for t in g if t != "*"}
    return [[t for t in work if t not in named] if "*" in g else [t for t in work if t in g] for g in groups]


def _data_assign(graph: TaskGraph, groups: list[tuple[str, ...]]) -> list[list[str]]:
    data = [t.name for t in graph.data_tasks]
    named = {t for g in groups for t in g if t != "*"}
    return [[t for t in data if t not in named] if "*" in g else [t for t in data if t in g] for g in groups]


def our_design(design: Design) -> tuple[TaskGraph, dict[str, Any], tuple[int, int, int]]:
    """The design in our knobs: the workload, the knob values and the (PE, memory, bus) slot counts."""
    g = load_workload(design.workload)
    slots = (len(design.pes), len(design.mems), len(design.buses))
    d: dict[str, Any] = default_design(g, *slots)
    for i, (pe, tasks) in enumerate(zip(design.pes, _assign(g, [p.tasks for p in design.pes]))):
        d.update({f"pe_allocation_{i}": pe.kind, f"pe_to_bus_connection_{i}": pe.bus})
        d.update({f"pe_unroll_{i}": pe.unroll, f"pe_clock_mhz_{i}": pe.clock_mhz})
        d.update({f"task_to_pe_mapping_{t}": i for t in tasks})
    for m, (mem, tasks) in enumerate(zip(design.mems, _data_assign(g, [x.tasks for x in design.mems]))):
        d.update(
            {
                f"mem_allocation_{m}": mem.kind,
                f"mem_width_{m}": mem.width,
                f"mem_to_bus_connection_{m}": mem.bus,
            }
        )
        d.update({f"task_to_mem_mapping_{t}": m for t in tasks})
    for b, width in enumerate(design.buses):
        d[f"bus_allocation_{b}"] = width
    for b, o in design.bridges:
        d[f"bus_to_bus_connection_{b}"] = o
    return g, d, slots


def farsi_windowed_power(result: SoCResult, period_s: float = POWER_COLLECTION_PERIOD_S) -> float:
    """Power (W) through FARSI's own window slicing (``slice_phases_with_PWP``) of our phases.

    FARSI's phase list starts with two zero-length phases (its initial phase and the source
    task's) and ends with the sink's; its slicing skips zero-length phases without advancing its
    phase index, so every window it closes is shifted back by two phases: the window that a long
    phase closes holds the phases before it, and the last window holds the last phases together.
    This replica shows that our energy over time is FARSI's; ``peak_power_mw`` windows the phases
    as intended."""
    dur, energy = phase_energy(result.start_s, result.finish_s, result.task_energy_j)
    keep = dur > 0
    lat = [0.0, 0.0, *dur[keep].tolist(), 0.0]
    en = [0.0, 0.0, *energy[keep].tolist(), 0.0]
    bounds, low, up, budget = [], 0, 0, period_s
    for t in lat:
        if t == 0:
            continue  # FARSI: zero-length phases do not advance the index
        if t > budget:
            budget = period_s
            bounds.append((low, up + 1))
            low = up + 1
        else:
            budget -= t
        up += 1
    if not bounds:
        bounds = [(0, len(lat))]
    elif bounds[-1][1] != len(lat):
        bounds.append((bounds[-1][1], len(lat)))
    return max(sum(en[a:b]) / sum(lat[a:b]) if sum(lat[a:b]) > 0 else 0.0 for a, b in bounds)


def ours(name: str) -> dict[str, float]:
    """Our simulator on a design: latency (default figures; and with ``interconnect="crossbar"``,
    FARSI's ports), energy, power (``peak_power_mw``, and through FARSI's window slicing) and area
    (``figures="farsi"``)."""
    g, d, slots = our_design(DESIGNS[name])
    r = SoCSimulator(*slots).simulate(d, g)
    x = SoCSimulator(*slots, interconnect="crossbar").simulate(d, g)
    f = SoCSimulator(*slots, Technology(figures="farsi")).simulate(d, g)
    return {
        "latency_s": r.metrics["latency_ms"] / 1e3,
        "latency_crossbar_s": x.metrics["latency_ms"] / 1e3,
        "energy_j": f.metrics["energy_mj"] / 1e3,
        "power_w": f.metrics["peak_power_mw"] / 1e3,
        "farsi_windows_power_w": farsi_windowed_power(f),
        "area_mm2": f.metrics["area_mm2"],
        "pe_area_mm2": f.area_mm2["pe"] + f.area_mm2["ip"],
        "mem_area_mm2": f.area_mm2["memory"],
    }


# ----------------------------------------------------------------------------------- FARSI side
def _block_names(design: Design, graph: TaskGraph) -> tuple[list[str], list[str], list[str]]:
    """FARSI's block names: ``A53_<k>``, ``<task>_IP0_<unroll>_<clock / 100 MHz>_0``,
    ``LMEM|GMEM_<width code>_1_<k>`` and ``LMEM_ic_<width code>_1_<k>``."""
    pes, a53 = [], 0
    for pe, tasks in zip(design.pes, _assign(graph, [p.tasks for p in design.pes])):
        if pe.kind == "A53":
            pes.append(f"A53_{a53}")
            a53 += 1
        else:
            pes.append(f"{tasks[0]}_IP0_{pe.unroll}_{pe.clock_mhz // 100}_0")
    mems = [
        f"{'LMEM' if m.kind == 'sram' else 'GMEM'}_{WIDTHS.index(m.width)}_1_{k}"
        for k, m in enumerate(design.mems)
    ]
    buses = [f"LMEM_ic_{WIDTHS.index(w)}_1_{k}" for k, w in enumerate(design.buses)]
    return pes, mems, buses


def _bus_route(design: Design, src: int, dst: int) -> list[int]:
    adj: dict[int, list[int]] = {b: [] for b in range(len(design.buses))}
    for a, b in design.bridges:
        adj[a].append(b)
        adj[b].append(a)
    prev, todo = {src: src}, deque([src])
    while todo:
        b = todo.popleft()
        for o in adj[b]:
            if o not in prev:
                prev[o] = b
                todo.append(o)
    path = [dst]
    while path[-1] != src:
        path.append(prev[path[-1]])
    return path


def _write_farsi_design(design: Design, parsing: Path) -> None:
    """FARSI's hardware graph and task-to-hardware mapping CSVs for the design."""
    wl = design.workload
    g = load_workload(wl)
    pe_names, mem_names, bus_names = _block_names(design, g)
    links = {(pe_names[i], bus_names[p.bus]) for i, p in enumerate(design.pes)}
    links |= {(mem_names[m], bus_names[x.bus]) for m, x in enumerate(design.mems)}
    links |= {(bus_names[a], bus_names[b]) for a, b in design.bridges}
    blocks = [*pe_names, *bus_names, *mem_names]
    with open(parsing / f"{wl}_database - Hardware Graph.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Block Name", *blocks])
        for b in blocks:
            w.writerow([b, *("1" if (b, c) in links or (c, b) in links else "" for c in blocks)])
    pe_tasks = _assign(g, [p.tasks for p in design.pes])
    first_a53 = next(i for i, p in enumerate(design.pes) if p.kind == "A53")
    pe_tasks[first_a53] = [t.name for t in g.tasks if t.is_pseudo] + pe_tasks[first_a53]
    pe_of = {t: i for i, ts in enumerate(pe_tasks) for t in ts}
    mem_tasks = _data_assign(g, [m.tasks for m in design.mems])
    mem_of = {t: m for m, ts in enumerate(mem_tasks) for t in ts}
    columns: dict[str, list[str]] = {n: list(ts) for n, ts in zip(pe_names, pe_tasks)}
    columns.update({n: [] for n in [*mem_names, *bus_names]})
    with open(parsing / f"{wl}_database - Task Data Movement.csv") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        p = r["Task Name"]
        for c, v in r.items():
            if c in ("Task Name", p) or not (v and v.strip()):
                continue
            m = mem_of.get(p, 0)
            columns[mem_names[m]].append(f"{p} -> {c}")
            mem_bus = design.mems[m].bus
            on = {*_bus_route(design, design.pes[pe_of[p]].bus, mem_bus)}
            on |= {*_bus_route(design, design.pes[pe_of[c]].bus, mem_bus)}
            for b in sorted(on):
                columns[bus_names[b]].append(f"{p} -> {c}")
    n = max(len(v) for v in columns.values())
    with open(parsing / f"{wl}_database - Task To Hardware Mapping.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(columns))
        for i in range(n):
            w.writerow([v[i] if i < len(v) else "" for v in columns.values()])


def farsi(name: str, farsi_dir: Path, pythonpath: str) -> dict[str, float]:
    """Run FARSI's simulator on the design (see the module docstring)."""
    design = DESIGNS[name]
    _write_farsi_design(design, farsi_dir / "specs/database_data/parsing")
    env = dict(os.environ, FARSI_WL=design.workload, PYTHONPATH=pythonpath, OMP_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, "simple_sim_run.py"],
        cwd=farsi_dir / "data_collection/collection_utils/sim_run",
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    m = re.search(r"lat is ([0-9.eE+-]+) for", out.stdout)
    if not m:
        raise RuntimeError(f"FARSI printed no latency for {name}:\n{out.stderr[-2000:]}")
    summaries = sorted((farsi_dir / "data_collection/data/simple_sim_run").glob("*/result_summary/*.csv"))
    with open(max(summaries, key=lambda p: p.stat().st_mtime)) as f:
        row = next(csv.DictReader(f))
    return {
        "latency_s": float(m.group(1)),
        "energy_j": float(row["energy"]),
        "power_w": float(row["power"]),
        "area_mm2": float(row["area"]) * 1e6,
        "pe_area_mm2": (float(row["ips_total_area"]) + float(row["gpps_total_area"])) * 1e6,
        "mem_area_mm2": float(row["memory_total_area"]) * 1e6,
    }


#: FARSI's figures of each design, from the runs described in the module docstring
FARSI: dict[str, dict[str, float]] = {
    "cava_all_a53": {
        "latency_s": 84.882331754,
        "energy_j": 292830.0585078587,
        "power_w": 2794808.9058033256,
        "area_mm2": 82837504000.65001,
        "pe_area_mm2": 0.65,
        "mem_area_mm2": 82837504000.0,
    },
    "cava_gamut_descale_on_ip": {
        "latency_s": 36.190535024000006,
        "energy_j": 292826.4674064415,
        "power_w": 2794808.9058033256,
        "area_mm2": 82837504000.6546,
        "pe_area_mm2": 0.6545910744000001,
        "mem_area_mm2": 82837504000.0,
    },
    "cava_all_ip": {
        "latency_s": 35.914951359999996,
        "energy_j": 292826.4479999949,
        "power_w": 2955044.5714285714,
        "area_mm2": 82837504000.0118,
        "pe_area_mm2": 0.011767797800000002,
        "mem_area_mm2": 82837504000.0,
    },
    "audio_all_a53": {
        "latency_s": 0.010817377000000001,
        "energy_j": 365981.82938815944,
        "power_w": 38751983.688867114,
        "area_mm2": 165675008000.65,
        "pe_area_mm2": 0.65,
        "mem_area_mm2": 165675008000.0,
    },
    "audio_psycho_zoom_on_ip": {
        "latency_s": 0.009985874500000002,
        "energy_j": 365981.8292698187,
        "power_w": 36649952.8178347,
        "area_mm2": 165675008000.65497,
        "pe_area_mm2": 0.6549806702,
        "mem_area_mm2": 165675008000.0,
    },
    "audio_right_ear_on_2nd_a53": {
        "latency_s": 0.010817377,
        "energy_j": 365981.82938815927,
        "power_w": 38751983.68886711,
        "area_mm2": 165675008001.30002,
        "pe_area_mm2": 1.3,
        "mem_area_mm2": 165675008000.0,
    },
    "audio_all_ip": {
        "latency_s": 0.00931824,
        "energy_j": 365981.82912,
        "power_w": 39275853.5002318,
        "area_mm2": 165675008000.69058,
        "pe_area_mm2": 0.6905380096,
        "mem_area_mm2": 165675008000.0,
    },
    "edge_all_a53": {
        "latency_s": 3.2964607999999997,
        "energy_j": 5479871.437426892,
        "power_w": 3216001.35095235,
        "area_mm2": 3644850176000.65,
        "pe_area_mm2": 0.65,
        "mem_area_mm2": 3644850176000.0,
    },
    "edge_all_ip": {
        "latency_s": 9.093214562346159,
        "energy_j": 5479871.297280003,
        "power_w": 12768276.048018688,
        "area_mm2": 3147825152000.0244,
        "pe_area_mm2": 0.0238162452,
        "mem_area_mm2": 3147825152000.0,
    },
    "audio_dram": {
        "latency_s": 0.010817377000000001,
        "energy_j": 728322.0482681594,
        "power_w": 77118375.48852219,
        "area_mm2": 82837504000.65001,
        "pe_area_mm2": 0.65,
        "mem_area_mm2": 82837504000.0,
    },
    "audio_bus16_sram4": {
        "latency_s": 0.010817377000000001,
        "energy_j": 365981.82938815944,
        "power_w": 38751983.688867114,
        "area_mm2": 165675008000.65,
        "pe_area_mm2": 0.65,
        "mem_area_mm2": 165675008000.0,
    },
    "audio_bus16_sram16": {
        "latency_s": 0.0070801089999999985,
        "energy_j": 365981.8293881591,
        "power_w": 51691552.96735674,
        "area_mm2": 165675008000.65,
        "pe_area_mm2": 0.65,
        "mem_area_mm2": 165675008000.0,
    },
    "audio_bus4_sram64": {
        "latency_s": 0.010817377000000001,
        "energy_j": 365981.82938815944,
        "power_w": 38751983.688867114,
        "area_mm2": 165675008000.65,
        "pe_area_mm2": 0.65,
        "mem_area_mm2": 165675008000.0,
    },
    "edge_bus64_dram64": {
        "latency_s": 3.2948259839999996,
        "energy_j": 10905216.652146883,
        "power_w": 6426722.078290846,
        "area_mm2": 1822425088000.6501,
        "pe_area_mm2": 0.65,
        "mem_area_mm2": 1822425088000.0,
    },
    "edge_all_ip_bus128_dram32": {
        "latency_s": 9.092120338769268,
        "energy_j": 10905216.512000006,
        "power_w": 25437503.479464237,
        "area_mm2": 1573912576000.0242,
        "pe_area_mm2": 0.0238162452,
        "mem_area_mm2": 1573912576000.0,
    },
    "audio_two_sram_left_right": {
        "latency_s": 0.007523857000000001,
        "energy_j": 365981.8293881594,
        "power_w": 48642847.596406914,
        "area_mm2": 165675008001.30002,
        "pe_area_mm2": 1.3,
        "mem_area_mm2": 165675008000.0,
    },
    "audio_sram_and_dram": {
        "latency_s": 0.007512212796553602,
        "energy_j": 492081.4747098187,
        "power_w": 65504198.035440676,
        "area_mm2": 207093760000.655,
        "pe_area_mm2": 0.6549806702,
        "mem_area_mm2": 207093760000.0,
    },
    "audio_bridged_right_ear": {
        "latency_s": 0.005572227999999999,
        "energy_j": 374374.53338815906,
        "power_w": 67185788.7703373,
        "area_mm2": 165675008001.30002,
        "pe_area_mm2": 1.3,
        "mem_area_mm2": 165675008000.0,
    },
    "audio_three_buses_chain": {
        "latency_s": 0.006149908,
        "energy_j": 595016.8373881592,
        "power_w": 96752152.61564226,
        "area_mm2": 165675008001.95,
        "pe_area_mm2": 1.95,
        "mem_area_mm2": 165675008000.0,
    },
    "cava_all_ip_unroll128_800mhz": {
        "latency_s": 0.035220857646484374,
        "energy_j": 292826.448000003,
        "power_w": 584899631.0083265,
        "area_mm2": 82837504001.50626,
        "pe_area_mm2": 1.5062781184000003,
        "mem_area_mm2": 82837504000.0,
    },
    "edge_all_ip_unroll8_400mhz": {
        "latency_s": 0.2913231521893676,
        "energy_j": 5479871.2972800005,
        "power_w": 51464071.09219977,
        "area_mm2": 3147825152000.191,
        "pe_area_mm2": 0.1905299616,
        "mem_area_mm2": 3147825152000.0,
    },
    "audio_ips_unroll4_600mhz": {
        "latency_s": 0.0052989616151279196,
        "energy_j": 365981.82929610333,
        "power_w": 69066707.0037397,
        "area_mm2": 165675008000.72717,
        "pe_area_mm2": 0.7271754984000001,
        "mem_area_mm2": 165675008000.0,
    },
}


def _pct(ours_: float, ref: float) -> str:
    return f"{(ours_ / ref - 1) * 100:+.2f}%" if ref else "n/a"


def table_row(name: str, ref: dict[str, float], us: dict[str, float]) -> str:
    """One markdown row: FARSI's figure, ours and the difference, per metric."""
    cells = [
        name,
        f"{ref['latency_s'] * 1e3:.4f}",
        f"{us['latency_s'] * 1e3:.4f}",
        _pct(us["latency_s"], ref["latency_s"]),
        _pct(us["latency_crossbar_s"], ref["latency_s"]),
        f"{ref['energy_j']:.6g}",
        _pct(us["energy_j"], ref["energy_j"]),
        f"{ref['power_w']:.5g}",
        _pct(us["power_w"], ref["power_w"]),
        _pct(us["farsi_windows_power_w"], ref["power_w"]),
        f"{ref['mem_area_mm2']:.4g}",
        _pct(us["mem_area_mm2"], ref["mem_area_mm2"]),
        f"{ref['pe_area_mm2']:.6f}",
        f"{us['pe_area_mm2']:.6f}",
    ]
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "| design | FARSI ms | ours ms | diff | diff (crossbar) | FARSI J | diff | FARSI W | diff (peak) | diff (FARSI windows) "
    "| FARSI mem mm2 | diff | FARSI PE mm2 | ours PE mm2 |\n" + "|---" * 14 + "|"
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--farsi", type=Path, help="patched Project_FARSI checkout (else: recorded figures)")
    ap.add_argument("--pythonpath", default="", help="stub modules and extra packages for FARSI")
    ap.add_argument("--only", nargs="*", help="design names (default: all)")
    ap.add_argument("--record", action="store_true", help="print FARSI's figures as a Python dict")
    args = ap.parse_args()
    names = args.only or list(DESIGNS)
    print(HEADER)
    got = {}
    for name in names:
        ref = farsi(name, args.farsi, args.pythonpath) if args.farsi else FARSI[name]
        got[name] = ref
        print(table_row(name, ref, ours(name)), flush=True)
    if args.record:
        print("{" + "".join(f"\n    {n!r}: {r!r}," for n, r in got.items()) + "\n}")


if __name__ == "__main__":
    main()
