"""The metrics of the accelerator env and of the mapping-search env (a light module: what
``archgym envs`` lists without loading the models)."""

from __future__ import annotations

from archgym.simulator import Metric

#: what :class:`~.simulator.AcceleratorSimulator` and the extended-space simulator report
METRICS: tuple[Metric, ...] = (
    Metric("latency_ms", "ms", "lower", 10.0, "inference latency of the whole workload"),
    Metric("latency_cycles", "cycles", "lower", 1e7, "inference latency in clock cycles"),
    Metric("energy_uj", "uJ", "lower", 1e4, "total energy: DRAM + buffer + NoC + RF + MAC"),
    Metric("edp", "uJ*ms", "lower", 1e5, "energy-delay product"),
    Metric("area_mm2", "mm^2", "lower", 10.0, "PE array + RFs + global buffer + NoC (45 nm)"),
    Metric("utilization", "1", "higher", 0.5, "MACs / (cycles x PEs)"),
    Metric("dram_mb", "MB", "lower", 100.0, "DRAM traffic"),
    Metric("energy_dram_pj", "pJ", "lower", 1e10, "DRAM access energy"),
    Metric("energy_glb_pj", "pJ", "lower", 1e9, "global-buffer access energy"),
    Metric("energy_noc_pj", "pJ", "lower", 1e9, "network-on-chip (array) energy"),
    Metric("energy_rf_pj", "pJ", "lower", 1e9, "register-file access energy"),
    Metric("energy_mac_pj", "pJ", "lower", 1e9, "multiply-accumulate energy"),
)

#: what the mapping-search env's simulator reports for one mapping
MAPPING_METRICS: tuple[Metric, ...] = (
    Metric("latency_ms", "ms", "lower", 1.0, "latency of the mapped layers"),
    Metric("latency_cycles", "cycles", "lower", 1e6, "latency in clock cycles"),
    Metric("energy_uj", "uJ", "lower", 1e3, "energy: memory accesses + MACs"),
    Metric("edp", "uJ*ms", "lower", 1e3, "energy-delay product"),
    Metric("utilization", "1", "higher", 0.5, "MACs / (cycles x MAC units)"),
)
