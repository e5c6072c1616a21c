"""Validation of the DRAM simulator against first-principles numbers (DDR4-2400 x64, 1 rank).

Each test states the number it expects and where it comes from (timings in
``envs/dram/devices.py``; JEDEC JESD79-4B and the Micron IDD table cited there).
"""

import numpy as np
import pytest

from archgym.envs.dram import (
    DDR3_1600,
    DDR4_2400,
    DEFAULT_DESIGN,
    EXTENDED_DEFAULTS,
    DRAMSimulator,
    random_uniform,
    sequential,
    strided,
)
from archgym.envs.dram.power import background_power_mw, per_command_energy_nj
from archgym.envs.dram.simulator import ARBITRATION_DELAY_CYCLES

DDR4 = DDR4_2400
T = DDR4.timings
TCK = DDR4.tck_ns  # 0.8333 ns


def design(**kw):
    """A full design: the standard defaults and the extended ones (the simulator fills nothing in)."""
    return {**DEFAULT_DESIGN, **EXTENDED_DEFAULTS, **kw}


@pytest.fixture(scope="module")
def sim():
    return DRAMSimulator("DDR4-2400")


def test_device_numbers_are_the_cited_ones():
    assert DDR4.clock_mhz == 1200 and (T["CL"], T["RCD"], T["RP"]) == (16, 16, 16)
    assert DDR4.banks == 16 and DDR4.bank_groups == 4 and DDR4.burst_length == 8
    assert DDR4.peak_bandwidth_gbps == pytest.approx(19.2)
    # every timing is the ns value from JESD79-4B rounded up to whole clocks
    for name, ns in {"RAS": 32, "RC": 45.32, "WR": 15, "RFC": 260, "REFI": 7800, "FAW": 21}.items():
        assert T[name] == DDR4.ns_to_cycles(ns), name
    assert DDR3_1600.clock_mhz == 800 and DDR3_1600.timings["CL"] == 11 and DDR3_1600.bank_groups == 1


def test_closed_page_low_load_latency_is_trcd_cl_burst(sim):
    """Closed-page random reads, one every 500 ns: latency (controller accept to last data beat,
    as DRAMSys and Ramulator count it) = tRCD + CL + BL/2 = 36 tCK = 30 ns; the only wait before
    the controller is the one-cycle forward arbitration."""
    tr = random_uniform(400, read_ratio=1.0, interval_ns=500, arrivals="fixed", seed=3)
    m = sim.evaluate(design(page_policy="Closed", refresh_policy="NoRefresh"), tr)
    expected = (T["RCD"] + T["CL"] + DDR4.burst_cycles) * TCK  # 36 cycles = 30 ns
    assert expected == pytest.approx(30.0, abs=0.01)
    assert m["avg_read_latency_ns"] == pytest.approx(expected, rel=1e-9)
    assert m["avg_backpressure_ns"] == pytest.approx(ARBITRATION_DELAY_CYCLES[0] * TCK)
    assert m["row_hit_rate"] == 0.0


def test_open_page_row_hit_latency_is_cl_burst(sim):
    """Open page, sequential reads spaced out: the first access to each of the 4 bank groups
    opens a row (tRCD + CL + burst, a miss); all later ones hit it (CL + burst = 16.67 ns)."""
    tr = strided(200, stride=64, read_ratio=1.0, interval_ns=200)
    r = sim.simulate(design(page_policy="Open", refresh_policy="NoRefresh"), tr)
    assert np.allclose(r.latency_ns[:4], (T["RCD"] + T["CL"] + DDR4.burst_cycles) * TCK)
    assert np.allclose(r.latency_ns[4:], (T["CL"] + DDR4.burst_cycles) * TCK)  # 16.67 ns
    assert r.counts["act"] == 4
    assert (r.counts["row_hits"], r.counts["row_misses"], r.counts["row_conflicts"]) == (196, 4, 0)
    assert r.metrics["row_hit_rate"] == pytest.approx(196 / 200)


def test_open_page_sequential_bandwidth_and_hit_rate():
    """Sequential reads as fast as accepted: >95 % row hits; with bank-group interleaving
    (consecutive lines in different bank groups, tCCD_S) > 80 % of the 19.2 GB/s peak; without it
    (tCCD_L = 6 > BL/2 = 4 back to back in one group) at most 4/6 of the peak."""
    tr = sequential(40_000, interval_ns=0)
    d = design(page_policy="Open", refresh_policy="NoRefresh")
    inter = DRAMSimulator("DDR4-2400", address_mapping="RoBaCoBg").evaluate(d, tr)
    assert inter["row_hit_rate"] > 0.95
    assert inter["bandwidth_gbps"] > 0.8 * 19.2
    assert inter["bandwidth_fraction"] > 0.95
    same_group = DRAMSimulator("DDR4-2400", address_mapping="RoBaBgCo").evaluate(d, tr)
    assert same_group["row_hit_rate"] > 0.95
    assert same_group["bandwidth_fraction"] == pytest.approx(4 / 6, abs=0.03)
    assert same_group["bandwidth_fraction"] > 0.6


def test_refresh_bandwidth_loss_is_trfc_over_trefi(sim):
    """Streaming 300 us: AllBank refresh costs about tRFC/tREFI = 312/9360 = 3.3 % of bandwidth."""
    tr = sequential(90_000, interval_ns=0)
    base = sim.simulate(design(refresh_policy="NoRefresh"), tr)
    ref = sim.simulate(design(refresh_policy="AllBank"), tr)
    loss = 1 - ref.metrics["bandwidth_gbps"] / base.metrics["bandwidth_gbps"]
    expected = T["RFC"] / T["REFI"]
    assert expected == pytest.approx(0.0333, abs=1e-3)
    assert loss == pytest.approx(expected, rel=0.35)
    # one refresh per tREFI (postponed ones may still be owed at the end: at most 8)
    n_due = ref.counts["window_cycles"] // T["REFI"]
    assert n_due - 8 <= ref.counts["ref_allbank"] <= n_due + 8
    assert base.counts["ref_allbank"] == 0


def test_per_bank_and_same_bank_refresh_counts(sim):
    tr = random_uniform(6000, interval_ns=20, seed=2)
    pb = sim.simulate(design(refresh_policy="PerBank"), tr)
    sb = sim.simulate(design(refresh_policy="SameBank"), tr)
    window = pb.counts["window_cycles"]
    assert pb.counts["ref_unit"] == pytest.approx(window / (T["REFI"] / 16), abs=16 * 8 + 1)
    assert sb.counts["ref_unit"] == pytest.approx(sb.counts["window_cycles"] / (T["REFI"] / 4), abs=4 * 8 + 1)
    assert pb.counts["ref_allbank"] == sb.counts["ref_allbank"] == 0


def test_idle_channel_background_power(sim):
    """Three reads 1 ms apart: the channel is idle > 99.99 % of the time, so the power is the
    background power: IDD2N * VDD * 8 devices with all banks precharged (closed page) and
    IDD3N * VDD * 8 with a row left open (open page)."""
    tr = sequential(3, interval_ns=1e6)
    closed = sim.evaluate(design(page_policy="Closed", refresh_policy="NoRefresh"), tr)
    opened = sim.evaluate(design(page_policy="Open", refresh_policy="NoRefresh"), tr)
    p2n = DDR4.idd["IDD2N"] * DDR4.vdd * 8 * 1e3  # 367.2 mW
    p3n = DDR4.idd["IDD3N"] * DDR4.vdd * 8 * 1e3  # 422.4 mW
    assert p2n == pytest.approx(367.2) and p3n == pytest.approx(422.4)
    assert background_power_mw(DDR4, False) == pytest.approx(p2n)
    assert closed["power_mw"] == pytest.approx(p2n, rel=1e-3)
    assert opened["power_mw"] == pytest.approx(p3n, rel=1e-3)
    # with refresh on, each all-bank refresh adds (IDD5B - IDD3N) * VDD * tRFC plus tRFC of active
    # instead of precharged background; one is due per tREFI (+8 pulled in while idle)
    ref = sim.simulate(design(page_policy="Closed", refresh_policy="AllBank"), tr)
    n_ref = ref.counts["ref_allbank"]
    window_ns = ref.counts["window_cycles"] * TCK
    assert n_ref == pytest.approx(window_ns / (T["REFI"] * TCK) + 8, abs=1)
    per_ref_nj = per_command_energy_nj(DDR4)["refresh_allbank"] + (p3n - p2n) * 1e-3 * T["RFC"] * TCK
    assert per_ref_nj == pytest.approx(184.7 + 14.35, rel=0.01)  # 74 mA*1.2 V*260 ns*8 + 55.2 mW*260 ns
    extra_mw = ref.metrics["power_mw"] - closed["power_mw"]
    assert extra_mw == pytest.approx(n_ref * per_ref_nj / window_ns * 1e3, rel=0.01)  # ~26 mW


def test_streaming_read_energy_per_bit_in_published_ddr4_range(sim):
    """Device (core) energy of a streaming read: about 12 pJ/bit here, inside the 5-25 pJ/bit
    range of published DDR4 figures (see the README for sources)."""
    m = sim.evaluate(design(page_policy="Open", refresh_policy="AllBank"), sequential(20_000, interval_ns=0))
    assert 5.0 < m["energy_per_bit_pj"] < 25.0
    e = per_command_energy_nj(DDR4)
    burst_pj_per_bit = e["read"] * 1e3 / 512  # (IDD4R - IDD3N) * VDD * 4 tCK * 8 devices / 512 bits
    assert burst_pj_per_bit == pytest.approx(8.78, rel=0.01)
    assert m["energy_per_bit_pj"] > burst_pj_per_bit
    assert m["energy_nj"] == pytest.approx(
        m["power_mw"] * 1e-3 * (20_000 * 64 / m["bandwidth_gbps"]), rel=0.01
    )


def test_random_traffic_is_activation_bound(sim):
    """Closed rows, uniformly random lines: every access needs ACT, so hit rate ~0 and the channel
    saturates well below peak (tFAW / tRRD / tRC limits), above 40 % of it with 16 banks."""
    m = sim.evaluate(
        design(page_policy="Closed"), random_uniform(20_000, interval_ns=0, read_ratio=1.0, seed=4)
    )
    assert m["row_hit_rate"] < 0.01
    assert 0.4 < m["bandwidth_fraction"] < 0.9


def test_ddr3_device_runs_and_is_slower():
    """The model is general: DDR3-1600 (8 banks, no bank groups, 12.8 GB/s peak)."""
    sim3 = DRAMSimulator("DDR3-1600")
    assert DDR3_1600.peak_bandwidth_gbps == pytest.approx(12.8)
    lat = sim3.evaluate(
        design(page_policy="Closed", refresh_policy="NoRefresh"),
        random_uniform(300, read_ratio=1.0, interval_ns=500, arrivals="fixed", span_bytes=1 << 30),
    )
    t3 = DDR3_1600.timings
    expected = (t3["RCD"] + t3["CL"] + 4) * DDR3_1600.tck_ns  # 26 cycles at 1.25 ns = 32.5 ns
    assert lat["avg_read_latency_ns"] == pytest.approx(expected, rel=0.05)
    bw = sim3.evaluate(design(refresh_policy="NoRefresh"), sequential(20_000, interval_ns=0))
    assert bw["bandwidth_fraction"] > 0.9 and bw["bandwidth_gbps"] < 12.8
    assert bw["power_mw"] > 0


def test_two_channels_double_the_peak():
    sim2 = DRAMSimulator("DDR4-2400", address_mapping="RoBaCoBgCh", channels=2)
    m = sim2.evaluate(design(refresh_policy="NoRefresh"), sequential(40_000, interval_ns=0))
    assert m["bandwidth_gbps"] > 0.9 * 38.4
    assert m["bandwidth_fraction"] > 0.9


# ---------------------------------------------------------------- against Ramulator 1
#: Ramulator 1 (github.com/CMU-SAFARI/ramulator, commit 214f635845214adf030367939655d172ef0fed5f),
#: built from source with ``make CXX=g++`` (g++ 12.2), its scheduler switched from FRFCFS_Cap to
#: plain FRFCFS (``Scheduler.h``: ``type = Type::FRFCFS``; its cap makes capped hits lose
#: readiness channel-wide, which stops bank-group interleaving, unlike a per-bank cap), run as
#:   ./ramulator <cfg> --mode=dram --stats out.stats <trace>
#: with <cfg> = configs/DDR4-config.cfg (DDR4_2400R, DDR4_4Gb_x8, 1 channel, 1 rank);
#: configs/DDR3-config.cfg with ``org = DDR3_1Gb_x8`` (DDR3_1600K); configs/LPDDR4-config.cfg
#: with ``channels = 1``, ``speed = LPDDR4_3200`` (LPDDR4_8Gb_x16). Its controller: 32-entry read
#: and write queues, write drain above 80 % (26) down to 20 % (5) of the write queue, open rows,
#: all-bank refresh; its default mapping RoBaRaCoCh is our RoBaBgCo (DDR4) / RoBaCo.
#: Traces: the first 50,000 lines of ``write_ramulator(<generator>(1_000_000, ...))`` (md5 of the
#: 50k files: random_rw f8c780b0..., random_r b1b930c0..., seq_r 3de5c83b..., seq_rw 3cd7d3af...).
#: Figures: (ramulator.dram_cycles, ramulator.read_latency_avg_0 in cycles, row hits, misses,
#: conflicts). The 1M-request DDR4 runs with the default FRFCFS_Cap gave 7.03 / 6.76 cycles per
#: request (random_rw / random_r), the same as the 50k prefixes (7.04 / 6.76).
RAMULATOR_REFERENCE = {
    "DDR4-2400": {
        "random_rw": (352208, 375.600553, 3, 5198, 44799),
        "random_r": (337795, 252.059640, 5, 284, 49711),
        "seq_r": (264146, 189.107560, 49571, 429, 0),
        "seq_rw": (266466, 276.814707, 49562, 438, 0),
    },
    "DDR3-1600": {
        "random_rw": (340933, 354.188217, 10, 2470, 47520),
        "random_r": (308344, 223.156000, 11, 253, 49736),
        "seq_r": (203625, 145.354060, 49570, 264, 166),
        "seq_rw": (219008, 226.000301, 49551, 290, 159),
    },
    "LPDDR4-3200": {
        "random_rw": (906966, 944.515802, 6, 2895, 47099),
        "random_r": (850690, 616.152100, 6, 612, 49382),
        "seq_r": (424200, 314.947580, 49117, 544, 339),
        "seq_rw": (469436, 495.937122, 49055, 623, 322),
    },
}
RAMULATOR_MAPPING = {"DDR4-2400": "RoBaBgCo", "DDR3-1600": "RoBaCo", "LPDDR4-3200": "RoBaCo"}
#: what Ramulator's controller does, in this simulator's knobs
RAMULATOR_LIKE = design(
    scheduler_buffer="ReadWrite",
    request_buffer_size=32,
    scheduler="GrpFrFcfsWm",
    high_watermark=26,
    low_watermark=5,
)
N_REF = 50_000


@pytest.fixture(scope="module")
def reference_traces():
    return {
        "random_rw": random_uniform(1_000_000, interval_ns=0, read_ratio=2 / 3, seed=1).head(N_REF),
        "random_r": random_uniform(1_000_000, interval_ns=0, read_ratio=1.0, seed=1).head(N_REF),
        "seq_r": sequential(1_000_000, interval_ns=0).head(N_REF),
        "seq_rw": sequential(1_000_000, interval_ns=0, read_ratio=2 / 3).head(N_REF),
    }


# ours / Ramulator's (bandwidth, average read latency) on those cases, as measured with this
# simulator (archgym 0.1.0, issue 22; /work/ref/h22/recorded_ratios.py): the test holds each
# within 2 % of its recorded value, so a drift shows although the fidelity bands still hold
RECORDED_RATIOS = {
    "DDR4-2400": {
        "random_rw": (0.9566, 0.9937),
        "random_r": (1.0085, 0.9293),
        "seq_r": (1.0053, 0.9945),
        "seq_rw": (1.0062, 0.9910),
    },
    "DDR3-1600": {
        "random_rw": (0.9643, 0.9998),
        "random_r": (1.0003, 0.9504),
        "seq_r": (1.0040, 0.9956),
        "seq_rw": (1.0054, 0.9903),
    },
    "LPDDR4-3200": {
        "random_rw": (0.9377, 1.0214),
        "random_r": (0.9708, 0.9681),
        "seq_r": (0.9847, 0.9893),
        "seq_rw": (0.9853, 0.9972),
    },
}


@pytest.mark.parametrize("device", list(RAMULATOR_REFERENCE))
def test_saturated_bandwidth_and_latency_match_ramulator(device, reference_traces):
    """Saturated random and sequential traces with 32-deep read/write buffers and a watermark
    drain: bandwidth within 10 % and average read latency (accept to last data beat, Ramulator's
    ``arrive`` to ``depart``) within 15 % of Ramulator's, each ratio within 2 % of its recorded
    value (:data:`RECORDED_RATIOS`); sequential row hits within 1 %."""
    sim = DRAMSimulator(device, address_mapping=RAMULATOR_MAPPING[device])
    tck = sim.device.tck_ns
    for name, (cycles, lat_cycles, hits, _misses, _conflicts) in RAMULATOR_REFERENCE[device].items():
        r = sim.simulate(RAMULATOR_LIKE, reference_traces[name])
        ref_bw = N_REF * 64 / (cycles * tck)
        bw_ratio, lat_ratio = (
            r.metrics["bandwidth_gbps"] / ref_bw,
            r.metrics["avg_read_latency_ns"] / (lat_cycles * tck),
        )
        assert 0.9 <= bw_ratio <= 1.1 and 0.85 <= lat_ratio <= 1.15, name
        assert (bw_ratio, lat_ratio) == pytest.approx(RECORDED_RATIOS[device][name], rel=0.02), name
        assert abs(r.counts["row_hits"] - hits) <= 0.01 * N_REF, name
