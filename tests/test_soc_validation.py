"""SoC simulator validation with numbers: schedules, bus sharing, the database's accelerator
ratios, energy bookkeeping, node scaling and infeasible designs.

Most tests use the 45 nm node, where the database's figures apply as they are."""

import numpy as np
import pytest

from archgym.envs.soc import SoCSimulator, Technology, default_design, load_workload, read_task_graph
from archgym.simulator import SimulationError

TECH = Technology(node_nm=45)
BUS4 = 4 * 100e6  # bytes/s of a 4-byte bus at FARSI's 100 MHz


def graph(tmp_path, tasks, edges, name="g"):
    rows = "\n".join(f"  - [{', '.join(map(str, t))}]" for t in tasks)
    ed = "\n".join(f"  - [{', '.join(map(str, e))}]" for e in edges) or "  []"
    p = tmp_path / f"{name}.yaml"
    p.write_text(f"name: {name}\nbudgets: {{latency_ms: 1}}\ntasks:\n{rows}\nedges:\n{ed}\n")
    return read_task_graph(p)


def design(g, **over):
    d = default_design(g)
    d.update(over)
    return d


def run(g, overlap=True, node_nm=45, dram_channels="separate", **over):
    sim = SoCSimulator(overlap=overlap, node_nm=node_nm, dram_channels=dram_channels)
    return sim.simulate(design(g, **over), g)


def test_chain_on_one_core_is_the_sum_of_its_task_times(tmp_path):
    tasks = [("a", 1000, "~", "~", "~", 1), ("b", 2000, "~", "~", "~", 1), ("c", 3000, "~", "~", "~", 1)]
    g = graph(tmp_path, tasks, [("a", "b", 0), ("b", "c", 0)])
    for overlap in (True, False):
        assert run(g, overlap).metrics["latency_ms"] == pytest.approx(6000 / 1e9 * 1e3, rel=1e-12)
    # with data (one 4-byte bus, one memory): a writes 4000 B, b reads them and writes 8000 B, c reads
    g2 = graph(tmp_path, tasks, [("a", "b", 4000), ("b", "c", 8000)], name="g2")
    # sequential: every task reads, then computes, then writes
    seq = run(g2, overlap=False)
    assert seq.metrics["latency_ms"] == pytest.approx((6000 / 1e9 + 2 * 12000 / BUS4) * 1e3, rel=1e-12)
    # overlapped (FARSI): each task takes its slowest part; with the data in a shared-channel
    # DRAM, b's read and write share the DRAM's half-duplex data bus
    a, b, c = max(1e-6, 4000 / BUS4), max(2e-6, 12000 / BUS4), max(3e-6, 8000 / BUS4)
    ovl = run(g2, dram_channels="shared")
    assert ovl.metrics["latency_ms"] == pytest.approx((a + b + c) * 1e3, rel=1e-12)
    assert ovl.finish_s[1] - ovl.start_s[1] == pytest.approx(b, rel=1e-12)
    # in SRAM and in FARSI's DRAM (GMEM), reads and writes use separate channels of the bus and
    # the memory (FARSI, AXI)
    b_duplex = max(2e-6, 4000 / BUS4, 8000 / BUS4)
    for over in ({"mem_allocation_0": "sram"}, {}):
        duplex = run(g2, **over)
        assert duplex.metrics["latency_ms"] == pytest.approx((a + b_duplex + c) * 1e3, rel=1e-12)
    assert seq.metrics["pe_0_utilisation"] == pytest.approx(1.0)


def test_independent_fork_runs_in_parallel_on_two_pes(tmp_path):
    tasks = [("src", 0, "~", "~", "~", 1), ("a", 5000, "~", "~", "~", 1), ("b", 3000, "~", "~", "~", 1)]
    g = graph(tmp_path, tasks, [("src", "a", 0), ("src", "b", 0)])
    one_pe = run(g).metrics["latency_ms"]
    two_pe = run(g, task_to_pe_mapping_b=1).metrics["latency_ms"]
    assert one_pe == pytest.approx(8000 / 1e9 * 1e3, rel=1e-12)
    assert two_pe == pytest.approx(5000 / 1e9 * 1e3, rel=1e-12)


def test_shared_bus_halves_two_concurrent_transfers(tmp_path):
    nbytes = 4_000_000
    tasks = [("a", 1, "~", "~", "~", 1), ("b", 1, "~", "~", "~", 1), ("sink", 0, "~", "~", "~", 1)]
    g = graph(tmp_path, tasks, [("a", "sink", nbytes), ("b", "sink", nbytes)])
    common = {"task_to_pe_mapping_b": 1, "task_to_mem_mapping_a": 0, "task_to_mem_mapping_b": 1}
    shared = run(g, **common)  # both PEs and both memories on bus 0
    separate = run(g, **common, pe_to_bus_connection_1=1, mem_to_bus_connection_1=1)
    assert shared.metrics["latency_ms"] == pytest.approx(2 * nbytes / BUS4 * 1e3, rel=1e-9)
    assert separate.metrics["latency_ms"] == pytest.approx(nbytes / BUS4 * 1e3, rel=1e-9)
    # sequential mode: the same halving after the 1-cycle computation
    seq = run(g, overlap=False, **common)
    assert seq.metrics["latency_ms"] == pytest.approx((1e-9 + 2 * nbytes / BUS4) * 1e3, rel=1e-9)
    assert shared.metrics["bus_0_utilisation"] == pytest.approx(1.0, rel=1e-6)
    # the same bytes cross one bus each way: equal energy, the extra bus only adds area
    assert shared.metrics["energy_mj"] == pytest.approx(separate.metrics["energy_mj"], rel=1e-12)
    assert separate.area_mm2["bus"] == pytest.approx(2 * shared.area_mm2["bus"])


def test_bridged_buses_add_a_hop_of_energy_and_share_the_path(tmp_path):
    nbytes = 1_000_000
    g = graph(tmp_path, [("a", 1, "~", "~", "~", 1), ("sink", 0, "~", "~", "~", 1)], [("a", "sink", nbytes)])
    near = run(g)
    far = run(g, mem_to_bus_connection_0=1, bus_to_bus_connection_0=1)
    hop_j = nbytes * TECH.bus_pj_per_byte_hop * 1e-12
    assert (far.energy_j["bus"] - near.energy_j["bus"]) == pytest.approx(hop_j, rel=1e-9)
    assert far.metrics["latency_ms"] == pytest.approx(near.metrics["latency_ms"], rel=1e-12)


def test_moving_a_task_to_its_accelerator_follows_the_database_ratios(tmp_path):
    t = {x.name: x for x in load_workload("audio_decoder").tasks}["psychoFilter_fxp_cloned"]
    row = ("f", int(t.gpp_cycles), int(t.ip_cycles), t.ip_energy_fj, int(t.ip_area_um2), 1)
    g = graph(tmp_path, [("src", 0, "~", "~", "~", 1), row], [("src", "f", 0)])
    core = run(g)
    acc = run(g, pe_allocation_0="IP")
    # latency: (38005 cycles / 100 MHz) / (1322969 cycles / 1 GHz) = 0.28727
    assert acc.metrics["latency_ms"] / core.metrics["latency_ms"] == pytest.approx(
        (38005 / 100e6) / (1322969 / 1e9), rel=1e-12
    )
    # energy: 142.002 fJ on the IP vs 1322969 x 2 instructions / 47,019,607,843 per J on the A53
    assert acc.energy_j["compute"] == pytest.approx(142.002e-15, rel=1e-12)
    assert core.energy_j["compute"] == pytest.approx(1322969 * 2 / 47_019_607_843, rel=1e-12)
    assert acc.area_mm2["ip"] == pytest.approx(78814e-6) and acc.area_mm2["pe"] == 0.0
    # unrolling (FARSI's ip_loop_unrolling) divides the time, multiplies energy and area
    acc4 = run(g, pe_allocation_0="IP", pe_unroll_0=4)
    assert acc4.metrics["latency_ms"] == pytest.approx(acc.metrics["latency_ms"])  # 1 iteration: no gain
    g8 = graph(tmp_path, [("src", 0, "~", "~", "~", 1), (*row[:5], 8)], [("src", "f", 0)], name="g8")
    u4 = run(g8, pe_allocation_0="IP", pe_unroll_0=4)
    assert u4.metrics["latency_ms"] == pytest.approx(acc.metrics["latency_ms"] / 4)
    assert u4.energy_j["compute"] == pytest.approx(4 * 142.002e-15)


def test_accelerating_psychofilter_in_the_audio_decoder_changes_energy_by_the_database_delta():
    g = load_workload("audio_decoder")
    wide = {"bus_allocation_0": 128, "mem_width_0": 128}  # 128-byte bus and DRAM: compute bounds the latency
    base = run(g, **wide)  # everything on one A53, data in one DRAM
    moved = run(g, **wide, pe_allocation_1="IP", task_to_pe_mapping_psychoFilter_fxp_cloned=1)
    delta_compute = 1322969 * 2 / 47_019_607_843 - 142.002e-15
    # same bytes over the same buses and memories: the energy changes by the compute delta alone
    assert (base.metrics["energy_mj"] - moved.metrics["energy_mj"]) * 1e-3 == pytest.approx(
        delta_compute, rel=1e-9
    )
    # psychoFilter is on the critical path: latency drops by its A53 time minus its IP time
    # (1322969 cycles / 1 GHz - 38005 cycles / 100 MHz = 0.942919 ms; the rest runs alongside)
    saved = base.metrics["latency_ms"] - moved.metrics["latency_ms"]
    assert saved == pytest.approx(1.322969 - 0.38005, rel=1e-3)
    assert moved.metrics["area_mm2"] - base.metrics["area_mm2"] == pytest.approx(78814e-6)


def test_memory_energy_follows_the_cited_per_byte_figures(tmp_path):
    nbytes = 100_000
    g = graph(tmp_path, [("a", 1, "~", "~", "~", 1), ("sink", 0, "~", "~", "~", 1)], [("a", "sink", nbytes)])
    dram = run(g)
    sram = run(g, mem_allocation_0="sram")
    assert dram.energy_j["memory"] == pytest.approx(nbytes * 1950 / 8 * 1e-12)  # Horowitz: 1.95 nJ / 64 bit
    size = 128 * 1024  # 100 kB rounds up to a 128 KiB macro
    per_byte = 1.25 * (size / 8192) ** TECH.sram_energy_exponent  # 10 pJ/64 bit at 8 KB, 100 pJ at 1 MB
    assert sram.energy_j["memory"] == pytest.approx(nbytes * per_byte * 1e-12)
    assert sram.area_mm2["memory"] == pytest.approx(size * 8 * 0.346 / 0.7 * 1e-6)
    assert TECH.sram_pj_per_byte(1 << 20) * 8 == pytest.approx(100.0)


def test_node_scales_accelerator_and_memory_energy_and_area_not_latency_nor_the_core():
    g = load_workload("audio_decoder")
    over = {
        "pe_allocation_1": "IP",
        "task_to_pe_mapping_psychoFilter_fxp_cloned": 1,
        "mem_allocation_0": "sram",
    }
    m45, m22, m7 = (run(g, node_nm=n, **over) for n in (45, 22, 7))
    assert m45.metrics["latency_ms"] == m22.metrics["latency_ms"] == m7.metrics["latency_ms"]
    assert m45.area_mm2["pe"] == m22.area_mm2["pe"] == m7.area_mm2["pe"] == 0.65  # the A53 as given
    # 22 nm, first order: area x (22/45)^2, energy x (22/45) x (0.8 V / 1.0 V)^2
    assert m22.area_mm2["ip"] == pytest.approx(m45.area_mm2["ip"] * (22 / 45) ** 2)
    ip45 = 142.002e-15
    a53 = m45.energy_j["compute"] - ip45
    assert m22.energy_j["compute"] - a53 == pytest.approx(ip45 * (22 / 45) * 0.8**2)
    # 7 nm is FARSI's tech_node_SF: accelerator energy x 0.064, area x 0.0374, memory area x 0.079
    assert m7.energy_j["compute"] - a53 == pytest.approx(ip45 * 0.064)
    assert m7.area_mm2["ip"] == pytest.approx(78814e-6 * 0.0374)
    assert m7.area_mm2["memory"] == pytest.approx(m45.area_mm2["memory"] * 0.079)
    assert m7.energy_j["memory"] == pytest.approx(m45.energy_j["memory"] * 0.064)
    with pytest.raises(ValueError, match="not modelled"):
        Technology(node_nm=10)


def test_infeasible_designs_raise_with_the_reason(tmp_path):
    g = graph(tmp_path, [("src", 0, "~", "~", "~", 1), ("a", 10, "~", "~", "~", 1)], [("src", "a", 8)])
    with pytest.raises(
        SimulationError, match="'a' is mapped to pe_0 \\(an IP tile\\) but the workload has no"
    ):
        run(g, pe_allocation_0="IP")
    with pytest.raises(SimulationError, match="pe_0 \\(on bus 1\\) has no bus path to mem_0 \\(on bus 0\\)"):
        run(g, pe_to_bus_connection_0=1)
    big = graph(tmp_path, [("a", 1, "~", "~", "~", 1), ("z", 0, "~", "~", "~", 1)], [("a", "z", 70e6)], "big")
    with pytest.raises(
        SimulationError, match="mem_0 \\(sram\\) would hold 70000000 .* over its 67108864 byte"
    ):
        run(big, mem_allocation_0="sram")


def test_composite_meets_its_budget_only_when_every_part_meets_its_deadline(tmp_path):
    for name, cycles, deadline in (("fast", 1_000_000, 1.5), ("slow", 3_000_000, 10.0)):
        (tmp_path / f"{name}.yaml").write_text(
            f"name: {name}\nbudgets: {{latency_ms: {deadline}}}\ntasks:\n  - [t, {cycles}, ~, ~, ~, 1]\n"
        )
    (tmp_path / "both.yaml").write_text(
        "name: both\ninclude: [fast.yaml, slow.yaml]\nbudgets: {power_mw: 1}\n"
    )
    g = read_task_graph(tmp_path / "both.yaml")
    assert g.budgets["latency_ms"] == 10.0 and set(g.deadlines_ms) == {"fast", "slow"}
    # one core: the fast part runs first (1 ms <= 1.5), the slow one ends at 4 ms (<= 10): met
    shared = run(g)
    assert shared.metrics["latency_ms"] == pytest.approx(4.0) and shared.metrics["latency_budget_met"] == 1.0
    # slow part first on the core would make the fast part end at 4 ms > 1.5: not met
    g_rev = read_task_graph(_write_composite(tmp_path, ["slow.yaml", "fast.yaml"]))
    assert run(g_rev).metrics["latency_budget_met"] == 0.0
    # two cores: both parts in parallel, both deadlines met, latency 3 ms
    two = run(g_rev, **{"task_to_pe_mapping_fast/t": 1})
    assert two.metrics["latency_ms"] == pytest.approx(3.0) and two.metrics["latency_budget_met"] == 1.0


def _write_composite(tmp_path, parts):
    p = tmp_path / "rev.yaml"
    p.write_text(f"name: rev\ninclude: [{', '.join(parts)}]\nbudgets: {{power_mw: 1}}\n")
    return p


def test_a_transfer_moves_at_the_narrower_of_its_bus_and_memory(tmp_path):
    """FARSI's rule: every block on the way has its own work rate (width x clock); the slowest
    sets the transfer's rate. 400 kB written over a 16-byte bus into a 4-byte SRAM: 1 ms."""
    nbytes = 400_000
    g = graph(tmp_path, [("a", 1, "~", "~", "~", 1), ("sink", 0, "~", "~", "~", 1)], [("a", "sink", nbytes)])
    for bus, mem, rate in ((16, 4, 4), (4, 64, 4), (16, 16, 16), (128, 32, 32)):
        r = run(g, mem_allocation_0="sram", bus_allocation_0=bus, mem_width_0=mem)
        assert r.metrics["latency_ms"] == pytest.approx(nbytes / (rate * 100e6) * 1e3, rel=1e-9), (bus, mem)
    # a shared-channel DRAM is also capped at one LPDDR4 channel (6.4 GB/s): 64 B x 100 MHz = 6.4 GB/s
    wide = {"bus_allocation_0": 128, "mem_width_0": 128}
    assert run(g, **wide).metrics["latency_ms"] == pytest.approx(nbytes / 12.8e9 * 1e3, rel=1e-9)
    shared = run(g, dram_channels="shared", **wide).metrics["latency_ms"]
    assert shared == pytest.approx(nbytes / 6.4e9 * 1e3, rel=1e-9)


def test_ip_clock_scales_time_not_energy(tmp_path):
    """FARSI's ip_freq_range multiplies an IP's work rate; its energy per run stays the database's."""
    g = graph(tmp_path, [("src", 0, "~", "~", "~", 1), ("f", 500, 8000, 100.0, 1000, 16)], [("src", "f", 0)])
    base = run(g, pe_allocation_0="IP")
    for mhz in (400, 600, 800):
        fast = run(g, pe_allocation_0="IP", pe_clock_mhz_0=mhz, pe_unroll_0=4)
        assert fast.metrics["latency_ms"] == pytest.approx(8000 / (4 * mhz * 1e6) * 1e3, rel=1e-12)
        assert fast.energy_j["compute"] == pytest.approx(4 * base.energy_j["compute"], rel=1e-12)
    # the top unroll choice covers the longest loop: 16 iterations -> 16, fully unrolled
    sp = SoCSimulator().design_space(g)
    assert sp.params[sp.names.index("pe_unroll_0")].high == 16


def test_crossbar_gives_each_memory_its_own_port(tmp_path):
    """Two PEs write 4 MB each into two memories on one 4-byte bus: a shared bus takes 20 ms,
    FARSI's interconnect (a port per memory) 10 ms; to one memory both share its channel."""
    nbytes = 4_000_000
    tasks = [("a", 1, "~", "~", "~", 1), ("b", 1, "~", "~", "~", 1), ("sink", 0, "~", "~", "~", 1)]
    g = graph(tmp_path, tasks, [("a", "sink", nbytes), ("b", "sink", nbytes)])
    two_mems = {"task_to_pe_mapping_b": 1, "task_to_mem_mapping_b": 1, "mem_width_0": 16, "mem_width_1": 16}
    d = design(g, **two_mems)
    bus = SoCSimulator(node_nm=45).simulate(d, g)
    xbar = SoCSimulator(node_nm=45, interconnect="crossbar").simulate(d, g)
    assert bus.metrics["latency_ms"] == pytest.approx(2 * nbytes / BUS4 * 1e3, rel=1e-9)
    assert xbar.metrics["latency_ms"] == pytest.approx(nbytes / BUS4 * 1e3, rel=1e-9)
    assert xbar.metrics["energy_mj"] == pytest.approx(bus.metrics["energy_mj"], rel=1e-12)
    one_mem = design(g, task_to_pe_mapping_b=1, mem_width_0=16)
    shared_port = SoCSimulator(node_nm=45, interconnect="crossbar").simulate(one_mem, g)
    assert shared_port.metrics["latency_ms"] == pytest.approx(2 * nbytes / BUS4 * 1e3, rel=1e-9)


def test_peak_power_follows_farsis_collection_windows():
    """A 20 ms task of 1 J, then a 5 ms one of 1 J: the first phase overruns the 10 ms period and
    closes its window (50 W); the second is the last window (200 W); the average is 80 W."""
    from archgym.envs.soc.power import peak_window_power

    start, finish, energy = np.array([0.0, 0.02]), np.array([0.02, 0.025]), np.array([1.0, 1.0])
    assert peak_window_power(start, finish, energy) == pytest.approx(200.0)
    # a run shorter than the period is one window: energy / latency
    assert peak_window_power(start / 10, finish / 10, energy) == pytest.approx(2.0 / 0.0025)
