"""Cross-check the SoC simulator's latency and PE area against FARSI's own simulator, nine designs.

Our side is always computed. FARSI's side needs a local, patched checkout of
facebookresearch/Project_FARSI (commit ce59c9681c6f) given with ``--farsi DIR``; without it the
figures recorded on 2026-12-01 (``FARSI_LATENCY_S``) are printed instead. Each design is one bus
(``LMEM_ic_0``: 4 bytes, 100 MHz) and one SRAM (``LMEM_0``) holding every edge, with the tasks
on A53 cores or on their own accelerators (``<task>_IP0``, unroll 1, 100 MHz). The harness
writes FARSI's ``<workload>_database - Hardware Graph.csv`` and ``- Task To Hardware
Mapping.csv`` for each design and runs ``data_collection/collection_utils/sim_run/
simple_sim_run.py``, reading the ``lat is <s> for <workload>`` line it prints and the
``ips_total_area`` + ``gpps_total_area`` of the result summary it writes (FARSI's study setting,
``tech_node_SF``, is our default 7 nm node).

How FARSI was made to run here (Python 3.11, NumPy 2; FARSI targets Python 3.7):

1. ``git archive`` the snapshot into DIR;
2. ``settings/config.py``: ``use_cacti = False`` (CACTI is not installed: FARSI's memory
   energy and area then come from spreadsheet placeholders, so only latency is compared);
3. ``sed`` NumPy 2 names (``np.Inf``/``np.NaN``/``np.float``/``np.int``/``np.bool``) and the
   matplotlib style ``seaborn-whitegrid`` -> ``seaborn-v0_8-whitegrid`` in FARSI's sources;
4. ``simple_sim_run.py``: ``workloads = {os.environ["FARSI_WL"]}`` instead of the hard-coded
   ``{"SOC_example_1p_2r"}``;
5. empty stub modules for ``pygraphviz``, ``pygmo``, ``deap`` and ``plotly`` (plots and other
   search modes only) and ``pip install --target`` of ``dill`` and ``psutil``, both on
   ``PYTHONPATH`` (``--pythonpath``).

``python benchmarks/soc_farsi_crosscheck.py [--farsi DIR --pythonpath STUBS:DEPS]``
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from archgym.envs.soc import SoCSimulator, default_design, load_workload

#: FARSI's latency (s) of each design, from the runs described in the module docstring
FARSI_LATENCY_S = {
    "cava_all_a53": 84.882331754,
    "cava_gamut_descale_on_ip": 36.190535024000006,
    "cava_all_ip": 35.914951359999996,
    "audio_all_a53": 0.010817377000000001,
    "audio_psycho_zoom_on_ip": 0.009985874500000002,
    "audio_right_ear_on_2nd_a53": 0.010817377,
    "audio_all_ip": 0.00931824,
    "edge_all_a53": 3.2964607999999997,
    "edge_all_ip": 9.093214562346159,
}
#: FARSI's PE area (ips_total_area + gpps_total_area, mm2) of each design, same runs
FARSI_PE_AREA_MM2 = {
    "cava_all_a53": 0.65,
    "cava_gamut_descale_on_ip": 0.65 + 0.0045910744,
    "cava_all_ip": 0.0117677978,
    "audio_all_a53": 0.65,
    "audio_psycho_zoom_on_ip": 0.65 + 0.0049806702,
    "audio_right_ear_on_2nd_a53": 1.3,
    "audio_all_ip": 0.65 + 0.0405380096,
    "edge_all_a53": 0.65,
    "edge_all_ip": 0.0238162452,
}
WORKLOAD = {"cava": "hpvm_cava", "audio": "audio_decoder", "edge": "edge_detection"}


def design_tasks(name: str) -> tuple[str, dict[str, list[str]]]:
    """The workload and FARSI's PE -> tasks assignment of a named design."""
    wl = WORKLOAD[name.split("_")[0]]
    g = load_workload(wl)
    pseudo = [t.name for t in g.tasks if t.is_pseudo]
    work = [t.name for t in g.working_tasks]
    if name.endswith("all_a53"):
        return wl, {"A53_0": pseudo + work}
    if name.endswith("all_ip"):
        return wl, {"A53_0": pseudo, **{f"{t}_IP0_1_1_0": [t] for t in work}}
    if name == "audio_right_ear_on_2nd_a53":
        right = [t for t in work if t.endswith("right_fxp_cloned")]
        return wl, {"A53_0": pseudo + [t for t in work if t not in right], "A53_1": right}
    on_ip = {
        "cava_gamut_descale_on_ip": ["gamut_map_fxp_cloned", "descale_fxp_cloned"],
        "audio_psycho_zoom_on_ip": ["psychoFilter_fxp_cloned", "zoomProcess_fxp_cloned"],
    }[name]
    rest = [t for t in work if t not in on_ip]
    return wl, {"A53_0": pseudo + rest, **{f"{t}_IP0_1_1_0": [t] for t in on_ip}}


def ours(name: str) -> tuple[float, float]:
    """Our simulator on the same design (one SRAM, one 4-byte bus): latency (s), PE area (mm2)."""
    wl, pes = design_tasks(name)
    g = load_workload(wl)
    n_pe = len(pes)
    design: dict[str, Any] = default_design(g, n_pe=n_pe)
    design["mem_allocation_0"] = "sram"
    for i, (pe, tasks) in enumerate(pes.items()):
        design[f"pe_allocation_{i}"] = "A53" if pe.startswith("A53") else "IP"
        for t in tasks:
            if f"task_to_pe_mapping_{t}" in design:
                design[f"task_to_pe_mapping_{t}"] = i
    r = SoCSimulator(n_pe=n_pe).simulate(design, g)
    return r.metrics["latency_ms"] / 1e3, r.area_mm2["pe"] + r.area_mm2["ip"]


def farsi(name: str, farsi: Path, pythonpath: str) -> tuple[float, float]:
    """Run FARSI's simulator on the design (see the module docstring): latency (s), PE area (mm2)."""
    wl, pes = design_tasks(name)
    parsing = farsi / "specs/database_data/parsing"
    mem, ic = "LMEM_0_1_0", "LMEM_ic_0_1_0"
    blocks = [*pes, ic, mem]
    with open(parsing / f"{wl}_database - Hardware Graph.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Block Name", *blocks])
        for b in blocks:
            linked = [(b in pes and c == ic) or (c in pes and b == ic) or {b, c} == {ic, mem} for c in blocks]
            w.writerow([b, *("1" if x else "" for x in linked)])
    with open(parsing / f"{wl}_database - Task Data Movement.csv") as f:
        rows = list(csv.DictReader(f))
    edges = [
        f"{r['Task Name']} -> {k}"
        for r in rows
        for k, v in r.items()
        if k not in ("Task Name", r["Task Name"]) and v and v.strip()
    ]
    n = max(len(edges), *(len(t) for t in pes.values()))
    with open(parsing / f"{wl}_database - Task To Hardware Mapping.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*pes, mem, ic])
        for i in range(n):
            e = edges[i] if i < len(edges) else ""
            w.writerow([*(t[i] if i < len(t) else "" for t in pes.values()), e, e])
    env = dict(os.environ, FARSI_WL=wl, PYTHONPATH=pythonpath, OMP_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, "simple_sim_run.py"],
        cwd=farsi / "data_collection/collection_utils/sim_run",
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    m = re.search(r"lat is ([0-9.eE+-]+) for", out.stdout)
    if not m:
        raise RuntimeError(f"FARSI printed no latency for {name}:\n{out.stderr[-2000:]}")
    summaries = sorted((farsi / "data_collection/data/simple_sim_run").glob("*/result_summary/*.csv"))
    with open(max(summaries, key=lambda p: p.stat().st_mtime)) as f:
        row = next(csv.DictReader(f))
    return float(m.group(1)), (float(row["ips_total_area"]) + float(row["gpps_total_area"])) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--farsi", type=Path, help="patched Project_FARSI checkout (else: recorded figures)")
    ap.add_argument("--pythonpath", default="", help="stub modules and extra packages for FARSI")
    args = ap.parse_args()
    print(f"{'design':<28}{'FARSI ms':>12}{'ours ms':>12}{'diff':>8}{'FARSI PE mm2':>14}{'ours PE mm2':>13}")
    for name in FARSI_LATENCY_S:
        if args.farsi:
            ref_s, ref_mm2 = farsi(name, args.farsi, args.pythonpath)
        else:
            ref_s, ref_mm2 = FARSI_LATENCY_S[name], FARSI_PE_AREA_MM2[name]
        s, mm2 = ours(name)
        diff = (s / ref_s - 1) * 100
        print(f"{name:<28}{ref_s * 1e3:>12.4f}{s * 1e3:>12.4f}{diff:>+7.2f}%{ref_mm2:>14.6f}{mm2:>13.6f}")


if __name__ == "__main__":
    main()
