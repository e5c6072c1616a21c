"""Every design knob acts, the way its name says; the simulator is deterministic."""

import itertools

import numpy as np
import pytest

from archgym.design_space import InvalidDesignError
from archgym.envs.dram import (
    DDR4_2400,
    DEFAULT_DESIGN,
    DRAMSimulator,
    Trace,
    dram_design_space,
    load_workload,
    mixed,
    random_uniform,
    sequential,
    stream_triad,
)


@pytest.fixture(scope="module")
def sim():
    return DRAMSimulator("DDR4-2400")


def design(**kw):
    return {**DEFAULT_DESIGN, **kw}


def bank_round_robin(n=3000, rows_per_bank=2, write_ratio=0.3, banks=16, seed=0):
    """Request i goes to bank i mod ``banks``, to one of ``rows_per_bank`` rows, all sent at time 0:
    the more requests a bank's scheduler sees, the more row hits it can find."""
    m = DRAMSimulator().mapping
    rng = np.random.default_rng(seed)
    b = np.arange(n) % banks
    rows = rng.integers(0, rows_per_bank, n) * 7 + b
    cols = rng.integers(0, 128, n)
    addr = [
        m.encode(bankgroup=int(x % 4), bank=int(x // 4), row=int(r), column=int(c))
        for x, r, c in zip(b, rows, cols)
    ]
    return Trace(np.zeros(n), np.array(addr, np.uint64), rng.random(n) < write_ratio, "bank-rr")


def bursts(n_bursts=40, burst=60, gap_ns=6000):
    """Bursts of mixed traffic separated by idle gaps (room for refreshes to be pulled in)."""
    parts = [
        mixed(burst, seq_fraction=0.7, read_ratio=0.7, interval_ns=3, arrivals="fixed", seed=k)
        for k in range(n_bursts)
    ]
    return Trace(
        np.concatenate([p.time_ns + k * gap_ns for k, p in enumerate(parts)]),
        np.concatenate([p.address for p in parts]),
        np.concatenate([p.is_write for p in parts]),
        "bursts",
    )


TRACES = {
    "cloud-2": lambda: load_workload("cloud-2", n_requests=3000),
    "bank-rr": bank_round_robin,
    "bursts": bursts,
    "saturated": lambda: random_uniform(25_000, interval_ns=0, seed=5),
}

#: knob -> (other knob settings, trace) on which all of the knob's values give distinct metrics
SCENARIOS = {
    "page_policy": ({}, "cloud-2"),
    "scheduler": ({}, "bank-rr"),
    "scheduler_buffer": ({}, "cloud-2"),
    "response_queue": ({}, "cloud-2"),
    "refresh_policy": ({}, "cloud-2"),
    "refresh_max_postponed": ({}, "saturated"),
    "refresh_max_pulledin": ({}, "bursts"),
    "arbiter": ({"max_active_transactions": 16}, "cloud-2"),
    "request_buffer_size": ({"scheduler_buffer": "Shared"}, "saturated"),
    "max_active_transactions": ({"arbiter": "Fifo"}, "bank-rr"),
}


@pytest.fixture(scope="module")
def traces():
    return {k: f() for k, f in TRACES.items()}


def test_scenarios_cover_every_knob():
    assert set(SCENARIOS) == set(dram_design_space().names)


@pytest.mark.parametrize("knob", list(SCENARIOS))
def test_no_dead_knob_values(sim, traces, knob):
    """On its scenario, every value of the knob gives a different metric vector from every other."""
    base, tname = SCENARIOS[knob]
    values = dram_design_space("pow2")[knob]
    values = values.choices if hasattr(values, "choices") else values.values
    results = [tuple(sim.evaluate(design(**base, **{knob: v}), traces[tname]).values()) for v in values]
    same = [
        (values[i], values[j])
        for i, j in itertools.combinations(range(len(values)), 2)
        if results[i] == results[j]
    ]
    assert not same, f"{knob}: these values give identical metrics on {tname}: {same}"


def test_max_active_linear_values_act(sim, traces):
    """With the linear encoding, each step of max_active_transactions from 1 to 64 changes the metrics."""
    tr = traces["bank-rr"]
    res = [
        tuple(sim.evaluate(design(arbiter="Fifo", max_active_transactions=k), tr).values())
        for k in range(1, 65)
    ]
    assert all(a != b for a, b in zip(res, res[1:]))


def test_max_active_is_ignored_by_the_simple_arbiter(sim, traces):
    """As in DRAMSys, MaxActiveTransactions only applies to the Fifo and Reorder arbiters."""
    tr = traces["cloud-2"]
    a = sim.evaluate(design(arbiter="Simple", max_active_transactions=1), tr)
    b = sim.evaluate(design(arbiter="Simple", max_active_transactions=128), tr)
    assert a == b
    c = sim.evaluate(design(arbiter="Fifo", max_active_transactions=1), tr)
    # one transaction at a time: requests wait before the controller (back-pressure), not in it
    assert c["avg_backpressure_ns"] > 10 * a["avg_backpressure_ns"]
    assert c["avg_read_latency_ns"] < a["avg_read_latency_ns"]


def test_page_policies(sim):
    tr = sequential(4000, interval_ns=4)
    closed = sim.simulate(design(page_policy="Closed"), tr)
    assert closed.metrics["row_hit_rate"] == 0.0 and closed.counts["act"] == 4000
    assert closed.counts["auto_pre"] == 4000
    opened = sim.simulate(design(page_policy="Open"), tr)
    assert opened.metrics["row_hit_rate"] > 0.95 and opened.counts["auto_pre"] == 0
    # random traffic: closing early hides tRP, so closed-page reads are faster than open-page ones
    rnd = random_uniform(3000, interval_ns=20, read_ratio=1.0, seed=1)
    assert (
        sim.evaluate(design(page_policy="Closed"), rnd)["avg_read_latency_ns"]
        < sim.evaluate(design(page_policy="Open"), rnd)["avg_read_latency_ns"]
    )
    # ClosedAdaptive keeps the row open while a hit is waiting: saturated streaming still hits
    ca = sim.simulate(design(page_policy="ClosedAdaptive"), sequential(4000, interval_ns=0))
    assert ca.metrics["row_hit_rate"] > 0.9 and ca.counts["auto_pre"] > 0
    # OpenAdaptive closes only when the waiting requests all miss: sometimes, not always
    cl = load_workload("cloud-1", n_requests=3000)
    oa = sim.simulate(design(page_policy="OpenAdaptive"), cl)
    assert 0 < oa.counts["auto_pre"] < oa.counts["act"]
    ca = sim.simulate(design(page_policy="ClosedAdaptive"), cl)
    assert ca.counts["auto_pre"] > oa.counts["auto_pre"]  # it also closes when nothing is waiting


def test_schedulers(sim):
    """FR-FCFS finds row hits FIFO misses; FrFcfsGrp groups reads and writes (fewer turnarounds)."""
    tr = stream_triad(3000, interval_ns=0)
    fifo = sim.simulate(design(scheduler="Fifo"), tr)
    fr = sim.simulate(design(scheduler="FrFcfs"), tr)
    assert fr.metrics["row_hit_rate"] > fifo.metrics["row_hit_rate"] + 0.5
    assert fr.metrics["bandwidth_gbps"] > 1.5 * fifo.metrics["bandwidth_gbps"]
    rr = bank_round_robin()
    fr = sim.simulate(design(scheduler="FrFcfs"), rr)
    grp = sim.simulate(design(scheduler="FrFcfsGrp"), rr)
    assert grp.counts["turnarounds"] < fr.counts["turnarounds"]


def test_scheduler_buffer_partitioning(sim):
    """Bankwise holds request_buffer_size per bank (16x), ReadWrite per direction (2x), Shared 1x:
    with everything sent at time 0, more buffer means more reordering and more row hits."""
    tr = bank_round_robin(write_ratio=0.5, banks=4, rows_per_bank=3)
    hits = {
        b: sim.evaluate(design(scheduler_buffer=b, request_buffer_size=2), tr)["row_hit_rate"]
        for b in ("Bankwise", "ReadWrite", "Shared")
    }
    assert hits["Bankwise"] > hits["ReadWrite"] > hits["Shared"]


def test_reorder_restores_request_order(sim):
    tr = load_workload("cloud-2", n_requests=3000)
    for kw in ({"response_queue": "Reorder"}, {"arbiter": "Reorder"}):
        r = sim.simulate(design(**kw), tr)
        assert np.all(np.diff(r.response_ns) >= 0), kw
    fifo = sim.simulate(design(), tr)
    assert np.any(np.diff(fifo.response_ns) < 0)  # FR-FCFS completes out of order
    assert (
        sim.evaluate(design(response_queue="Reorder"), tr)["avg_latency_ns"] > fifo.metrics["avg_latency_ns"]
    )


def test_request_buffer_size_back_pressure(sim):
    """A one-entry shared buffer serialises requests: much less bandwidth than eight entries."""
    tr = random_uniform(3000, interval_ns=0, seed=2)
    small = sim.evaluate(design(scheduler_buffer="Shared", request_buffer_size=1), tr)
    big = sim.evaluate(design(scheduler_buffer="Shared", request_buffer_size=8), tr)
    assert big["bandwidth_gbps"] > 2 * small["bandwidth_gbps"]


def test_refresh_policies_block_banks_for_their_trfc(sim):
    tr = random_uniform(6000, interval_ns=20, seed=3)
    t = DDR4_2400.timings
    for pol, per_ref in (("AllBank", 16 * t["RFC"]), ("PerBank", t["RFCpb"]), ("SameBank", 4 * t["RFCsb"])):
        r = sim.simulate(design(refresh_policy=pol), tr)
        n = r.counts["ref_allbank"] + r.counts["ref_unit"]
        assert n > 0 and r.counts["refresh_bank_cycles"] == n * per_ref
    none = sim.simulate(design(refresh_policy="NoRefresh"), tr)
    assert none.counts["ref_allbank"] == none.counts["ref_unit"] == 0


def test_deterministic(sim):
    tr = load_workload("cloud-1", n_requests=2000)
    space = dram_design_space()
    rng = np.random.default_rng(0)
    for idx in space.sample_indices(rng, 5):
        d = space.from_indices(idx)
        a, b = sim.simulate(d, tr), sim.simulate(d, tr)
        assert a.metrics == b.metrics and np.array_equal(a.latency_ns, b.latency_ns)
    assert DRAMSimulator().evaluate(design(), tr) == sim.evaluate(design(), tr)
    assert sim.evaluate_many([design(), design(page_policy="Closed")], tr) == [
        sim.evaluate(design(), tr),
        sim.evaluate(design(page_policy="Closed"), tr),
    ]


def test_invalid_designs_are_rejected(sim):
    tr = sequential(10)
    with pytest.raises(InvalidDesignError, match="page_policy"):
        sim.evaluate(design(page_policy="Sometimes"), tr)
    with pytest.raises(InvalidDesignError, match="request_buffer_size"):
        sim.evaluate(design(request_buffer_size=129), tr)
    with pytest.raises(InvalidDesignError, match="unknown parameter"):
        sim.evaluate(design(bogus=1), tr)


def test_design_space_encodings():
    pow2 = dram_design_space("pow2")
    lin = dram_design_space("linear")
    assert pow2["max_active_transactions"].values == (1, 2, 4, 8, 16, 32, 64, 128)
    assert lin["max_active_transactions"].values == tuple(range(1, 129))
    assert (
        pow2.names
        == lin.names
        == (
            "page_policy",
            "scheduler",
            "scheduler_buffer",
            "response_queue",
            "refresh_policy",
            "refresh_max_postponed",
            "refresh_max_pulledin",
            "arbiter",
            "request_buffer_size",
            "max_active_transactions",
        )
    )
    assert pow2.validate(DEFAULT_DESIGN) == dict(DEFAULT_DESIGN)
    with pytest.raises(ValueError):
        dram_design_space("log")
