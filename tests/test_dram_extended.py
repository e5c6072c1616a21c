"""Latency semantics, the extended knobs (cmd_mux, grouping / watermark schedulers, row-hit cap,
power-down), event counters, ranks and the four devices of the DRAM simulator."""

import itertools

import numpy as np
import pytest

from archgym.envs.dram import (
    DDR3_1600,
    DDR4_2400,
    DDR5_4800,
    DEFAULT_DESIGN,
    DEVICES,
    EXTENDED_DEFAULTS,
    LPDDR4_3200,
    DRAMSimulator,
    Trace,
    dram_design_space,
    load_workload,
    random_uniform,
    sequential,
)
from archgym.envs.dram.power import background_power_mw


@pytest.fixture(scope="module")
def sim():
    return DRAMSimulator("DDR4-2400")


def design(**kw):
    """A full design: the standard defaults and the extended ones (the simulator fills nothing in)."""
    return {**DEFAULT_DESIGN, **EXTENDED_DEFAULTS, **kw}


RW32 = {"scheduler_buffer": "ReadWrite", "request_buffer_size": 32}


# ------------------------------------------------------------------ latency semantics
@pytest.mark.parametrize("kind", ["random", "sequential"])
def test_saturated_latency_does_not_grow_with_trace_length(sim, kind):
    """Every request of a saturating trace arrives at 0: the wait for the controller grows with
    the trace, the latency inside it (accept to last data beat) does not."""
    make = (
        (lambda n: random_uniform(n, interval_ns=0, seed=7))
        if kind == "random"
        else (lambda n: sequential(n, interval_ns=0, read_ratio=2 / 3, seed=7))
    )
    short, long = sim.evaluate(design(), make(15_000)), sim.evaluate(design(), make(30_000))
    assert long["avg_read_latency_ns"] == pytest.approx(short["avg_read_latency_ns"], rel=0.05)
    assert long["avg_backpressure_ns"] > 1.8 * short["avg_backpressure_ns"]


def test_end_to_end_is_backpressure_plus_latency_plus_backward_cycle(sim):
    tr = load_workload("cloud-2", n_requests=2000)
    r = sim.simulate(design(), tr)
    arrival = np.ceil(tr.time_ns / DDR4_2400.tck_ns - 1e-9) * DDR4_2400.tck_ns
    assert np.allclose(r.response_ns - arrival, r.backpressure_ns + r.latency_ns + DDR4_2400.tck_ns)
    assert np.all(r.backpressure_ns >= DDR4_2400.tck_ns - 1e-9)  # the forward arbitration cycle


# ------------------------------------------------------------------ extended knobs
def bank_conflicts(n=2400, seed=0):
    """Reads and writes to two rows of each of 4 banks, all at time 0 (reordering matters)."""
    m = DRAMSimulator().mapping
    rng = np.random.default_rng(seed)
    b = rng.integers(0, 4, n)
    addr = [
        m.encode(bankgroup=int(x), row=int(r), column=int(c))
        for x, r, c in zip(b, rng.integers(0, 2, n), rng.integers(0, 128, n))
    ]
    return Trace(np.zeros(n), np.array(addr, np.uint64), rng.random(n) < 0.4, "conflicts")


def idle_bursts(n_bursts=30, gap_ns=3000):
    parts = [random_uniform(20, interval_ns=2, seed=k) for k in range(n_bursts)]
    return Trace(
        np.concatenate([p.time_ns + k * gap_ns for k, p in enumerate(parts)]),
        np.concatenate([p.address for p in parts]),
        np.concatenate([p.is_write for p in parts]),
        "idle-bursts",
    )


EXTENDED_SCENARIOS = {
    "scheduler": (RW32, "conflicts"),
    "cmd_mux": (RW32, "conflicts"),
    "high_watermark": ({**RW32, "scheduler": "GrpFrFcfsWm", "low_watermark": 0}, "conflicts"),
    "low_watermark": ({**RW32, "scheduler": "GrpFrFcfsWm", "high_watermark": 128}, "conflicts"),
    "row_hit_cap": (RW32, "conflicts"),
    "power_down": ({}, "idle"),
    "power_down_timeout": ({"power_down": "Staggered"}, "idle"),
}


@pytest.fixture(scope="module")
def ext_traces():
    return {"conflicts": bank_conflicts(), "idle": idle_bursts()}


def test_extended_space():
    ext = dram_design_space(space="extended")
    std = dram_design_space()
    assert ext.names[: len(std.names)] == std.names
    assert set(ext.names) - set(std.names) == set(EXTENDED_SCENARIOS) - {"scheduler"}
    assert ext["scheduler"].choices == ("Fifo", "FrFcfs", "FrFcfsGrp", "GrpFrFcfs", "GrpFrFcfsWm")
    assert ext["cmd_mux"].choices == ("Oldest", "Strict")
    assert dram_design_space(buffer_encoding="linear")["request_buffer_size"].values == tuple(range(1, 9))
    with pytest.raises(ValueError, match="space"):
        dram_design_space(space="huge")


@pytest.mark.parametrize("knob", list(EXTENDED_SCENARIOS))
def test_no_dead_extended_knob_values(sim, ext_traces, knob):
    base, tname = EXTENDED_SCENARIOS[knob]
    p = dram_design_space(space="extended")[knob]
    values = p.choices if hasattr(p, "choices") else p.values
    if knob in ("high_watermark", "low_watermark"):  # entries of a 32-entry write buffer
        values = [v for v in values if v <= 32]
    if knob == "row_hit_cap":  # a cap above the hits 32-entry buffers ever hold cannot bind
        values = [v for v in values if v <= 16]
    results = [tuple(sim.evaluate(design(**base, **{knob: v}), ext_traces[tname]).values()) for v in values]
    same = [
        (values[i], values[j])
        for i, j in itertools.combinations(range(len(values)), 2)
        if results[i] == results[j]
    ]
    assert not same, f"{knob}: identical metrics on {tname} for {same}"


def test_watermark_scheduler_drains_writes_in_batches(sim):
    """GrpFrFcfsWm serves reads until the write buffer reaches the high watermark, then writes
    down to the low one: far fewer bus turnarounds than FR-FCFS on a random read/write mix."""
    tr = random_uniform(20_000, interval_ns=0, read_ratio=2 / 3, seed=3)
    fr = sim.simulate(design(**RW32), tr)
    wm = sim.simulate(design(**RW32, scheduler="GrpFrFcfsWm", high_watermark=26, low_watermark=5), tr)
    assert wm.counts["turnarounds"] < 0.3 * fr.counts["turnarounds"]
    # each drain moves about high - low = 21 writes: two turnarounds per drain
    writes = tr.n_writes
    assert wm.counts["turnarounds"] == pytest.approx(2 * writes / 21, rel=0.15)
    grp = sim.simulate(design(**RW32, scheduler="GrpFrFcfs"), tr)
    assert grp.counts["turnarounds"] < fr.counts["turnarounds"]


def test_strict_cmd_mux_issues_columns_in_request_order(sim, ext_traces):
    tr = ext_traces["conflicts"]
    strict = sim.simulate(design(**RW32, cmd_mux="Strict"), tr)
    oldest = sim.simulate(design(**RW32), tr)
    assert np.all(np.diff(strict.response_ns) >= 0)  # in order, so responses are in order too
    assert np.any(np.diff(oldest.response_ns) < 0)
    assert strict.metrics["bandwidth_gbps"] < oldest.metrics["bandwidth_gbps"]


def test_row_hit_cap_bounds_starvation(sim, ext_traces):
    """FR-FCFS lets a stream of hits starve an older miss; a cap of 4 hits per activation
    shortens the worst latency at the cost of row hits (Ramulator's FRFCFS_Cap)."""
    tr = ext_traces["conflicts"]
    free = sim.simulate(design(**RW32), tr)
    cap = sim.simulate(design(**RW32, row_hit_cap=4), tr)
    assert cap.latency_ns.max() < free.latency_ns.max()
    assert cap.metrics["row_hit_rate"] < free.metrics["row_hit_rate"]


def test_power_down_saves_background_power_and_costs_txp(sim):
    """Reads 10 us apart, closed page: the rank powers down after the timeout; background power
    falls toward IDD2P x VDD x 8, and each request pays the exit time tXP."""
    tr = sequential(60, interval_ns=10_000)
    d = design(page_policy="Closed", refresh_policy="NoRefresh")
    on = sim.simulate({**d, "power_down": "Staggered", "power_down_timeout": 16}, tr)
    off = sim.simulate(d, tr)
    assert on.counts["powerdowns"] == 59 and off.counts["powerdowns"] == 0
    assert off.metrics["power_mw"] == pytest.approx(background_power_mw(DDR4_2400, False), rel=0.02)
    p2p = background_power_mw(DDR4_2400, False, powered_down=True)
    assert p2p == pytest.approx(8 * 1.2 * 17.0, rel=1e-9)  # IDD2P 17 mA x 1.2 V x 8 devices
    assert on.metrics["power_mw"] == pytest.approx(p2p, rel=0.03)
    txp = DDR4_2400.timings["XP"] * DDR4_2400.tck_ns
    assert np.allclose(on.latency_ns[1:] - off.latency_ns[1:], txp)
    # an open row stays open: active power-down (IDD3P)
    act = sim.simulate({**d, "page_policy": "Open", "power_down": "Staggered"}, tr)
    assert act.counts["powerdown_active_cycles"] > 0.99 * act.counts["window_cycles"]
    p3p = background_power_mw(DDR4_2400, True, powered_down=True)
    assert act.metrics["power_mw"] == pytest.approx(p3p, rel=0.03)


def test_counters_are_events(sim):
    """Each request is exactly one of hit, miss (bank closed) or conflict (another row open),
    decided by the first command issued for it; row_hit_rate = hits / requests."""
    tr = load_workload("cloud-1", n_requests=3000)
    for d in (design(), design(page_policy="Closed"), design(refresh_policy="PerBank")):
        r = sim.simulate(d, tr)
        c = r.counts
        assert c["row_hits"] + c["row_misses"] + c["row_conflicts"] == len(tr)
        assert c["act"] == c["row_misses"] + c["row_conflicts"]
        assert r.metrics["row_hit_rate"] == c["row_hits"] / len(tr)
        assert r.metrics["activates_per_request"] == c["act"] / len(tr)
        assert r.metrics["turnarounds_per_request"] == c["turnarounds"] / len(tr)
    closed = sim.simulate(design(page_policy="Closed"), tr).counts
    assert closed["row_hits"] == closed["row_conflicts"] == 0


# ------------------------------------------------------------------ ranks and devices
def test_ranks_share_the_bus_with_a_switch_penalty():
    one = DRAMSimulator("DDR4-2400")
    two = DRAMSimulator("DDR4-2400", ranks=2)
    assert two.mapping.spec == "RoRaBaCoBg" and two.mapping.address_bits == 33
    tr = random_uniform(20_000, interval_ns=0, read_ratio=1.0, span_bytes=8 << 30, seed=1)
    d = design(page_policy="Closed", refresh_policy="NoRefresh")
    r1, r2 = one.simulate(d, tr), two.simulate(d, tr)
    assert r1.counts["rank_switches"] == 0 < r2.counts["rank_switches"]
    # twice the banks and activation windows (random closed-page reads are tFAW-bound on one
    # rank): much more bandwidth, but below the bus peak
    assert 1.4 * r1.metrics["bandwidth_gbps"] < r2.metrics["bandwidth_gbps"] < 19.2
    # the scheduler prefers the rank that does not pay tRTRS: few switches
    assert r2.counts["rank_switches"] < 0.2 * len(tr)
    idle = sequential(3, interval_ns=1e6)
    p1 = one.evaluate(d, idle)["power_mw"]
    assert two.evaluate(d, idle)["power_mw"] == pytest.approx(2 * p1, rel=1e-3)  # 2 ranks of devices
    with pytest.raises(ValueError, match="ranks"):
        DRAMSimulator(ranks=3)


@pytest.mark.parametrize("name", list(DEVICES))
def test_low_load_latency_is_trcd_cl_burst_on_every_standard(name):
    """Closed page, reads 1 us apart: latency = tRCD + CL + BL/2 exactly (no fixed overhead
    inside the controller; one forward-arbitration cycle of back-pressure)."""
    dev = DEVICES[name]
    sim = DRAMSimulator(dev)
    span = dev.capacity_bytes
    tr = random_uniform(200, read_ratio=1.0, interval_ns=1000, arrivals="fixed", span_bytes=span, seed=2)
    r = sim.simulate(design(page_policy="Closed", refresh_policy="NoRefresh"), tr)
    t = dev.timings
    expected = (t["RCD"] + t["CL"] + dev.burst_cycles) * dev.tck_ns
    assert np.allclose(r.latency_ns, expected)
    assert r.metrics["avg_backpressure_ns"] == pytest.approx(dev.tck_ns)
    assert dev.access_bytes == 64


def test_new_devices_are_the_cited_ones():
    d5 = DDR5_4800.timings
    assert DDR5_4800.banks == 32 and DDR5_4800.bank_groups == 8 and DDR5_4800.burst_length == 16
    assert DDR5_4800.peak_bandwidth_gbps == pytest.approx(19.2)  # one 32-bit sub-channel
    for k, ns in {"RCD": 16, "RP": 16, "RAS": 32, "WR": 30, "RFC": 295, "RFCsb": 130, "REFI": 3900}.items():
        assert d5[k] == DDR5_4800.ns_to_cycles(ns), k
    assert d5["REFIsb"] == d5["REFI"] // 2  # fine-granularity tREFI2 = 1.95 us per round of REFsb
    lp = LPDDR4_3200.timings
    assert LPDDR4_3200.banks == 8 and LPDDR4_3200.peak_bandwidth_gbps == pytest.approx(12.8)
    for k, ns in {"RCD": 18, "RP": 18, "RAS": 42, "RFC": 280, "RFCpb": 140, "FAW": 40}.items():
        assert lp[k] == LPDDR4_3200.ns_to_cycles(ns), k
    assert DDR5_4800.native_refresh == ("SameBank",) and LPDDR4_3200.native_refresh == ("PerBank",)
    assert DDR4_2400.native_refresh == DDR3_1600.native_refresh == ()


def test_native_fine_grained_refresh_counts():
    """SameBank on DDR5 refreshes one bank index in all 8 groups every tREFI2/4; PerBank on
    LPDDR4 one of 8 banks every tREFIpb; each blocks its banks for tRFCsb / tRFCpb."""
    tr = random_uniform(4000, interval_ns=20, seed=1)
    for dev, pol, units, per in (
        (DDR5_4800, "SameBank", 4, "RFCsb"),
        (LPDDR4_3200, "PerBank", 8, "RFCpb"),
    ):
        r = DRAMSimulator(dev).simulate(design(refresh_policy=pol), tr)
        interval = dev.timings["REFIsb" if pol == "SameBank" else "REFIpb"] // units
        assert r.counts["ref_unit"] == pytest.approx(r.counts["window_cycles"] / interval, abs=8 * units + 1)
        per_unit_banks = dev.banks // units
        assert r.counts["refresh_bank_cycles"] == r.counts["ref_unit"] * dev.timings[per] * per_unit_banks
