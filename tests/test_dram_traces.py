"""Trace parsing, generators, standard workloads and address mapping of the DRAM environment."""

import numpy as np
import pytest

from archgym.envs.dram import (
    DDR3_1600,
    DDR4_2400,
    GENERATORS,
    STANDARD_WORKLOADS,
    AddressMapping,
    AddressMappingError,
    Trace,
    TraceFormatError,
    cloud,
    detect_format,
    load_workload,
    mixed,
    random_uniform,
    read_dramsys,
    read_ramulator,
    read_trace,
    sequential,
    shipped_trace_path,
    standard_workload,
    stream_triad,
    strided,
    write_dramsys,
    write_ramulator,
)


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


# ------------------------------------------------------------------ DRAMSys format
def test_read_dramsys(tmp_path):
    p = write(
        tmp_path,
        "t.stl",
        "# comment\n\n10: read 0x1000\n12: write 0x2040  # trailing\n15: (128) read 0x3000\n"
        "20: write 0x40 0xdeadbeef\n",
    )
    t = read_dramsys(p)
    assert len(t) == 5  # the 128-byte read is split into two bursts
    assert t.time_ns.tolist() == [10, 12, 15, 15, 20]
    assert t.address.tolist() == [0x1000, 0x2040, 0x3000, 0x3040, 0x40]
    assert t.is_write.tolist() == [False, True, False, False, True]
    assert read_dramsys(p, clock_mhz=500).time_ns[0] == 20.0  # stamps are cycles of a 2 ns clock


@pytest.mark.parametrize(
    "line,msg",
    [
        ("10 read 0x10", "expected '<time>: read|write"),
        ("ten: read 0x10", "not a number"),
        ("10: fetch 0x10", "neither 'read' nor 'write'"),
        ("10: read 0xZZ", "not hexadecimal"),
        ("10: read", "expected a command"),
        ("10: (x) read 0x10", "length"),
        ("-5: read 0x10", ">= 0"),
    ],
)
def test_dramsys_errors_name_file_line_and_content(tmp_path, line, msg):
    p = write(tmp_path, "bad.stl", "1: read 0x0\n# fine\n" + line + "\n")
    with pytest.raises(TraceFormatError) as exc:
        read_dramsys(p)
    text = str(exc.value)
    assert f"{p}:3:" in text and msg in text and line.strip() in text


def test_dramsys_decreasing_time_is_an_error(tmp_path):
    p = write(tmp_path, "t.stl", "5: read 0x0\n4: read 0x40\n")
    with pytest.raises(TraceFormatError, match=r"t\.stl:2: .*earlier than the previous"):
        read_dramsys(p)


# ---------------------------------------------------------------- Ramulator format
def test_read_ramulator(tmp_path):
    p = write(tmp_path, "r.txt", "0x12345680 R\n0x4cbd56c0 W\n# c\n0x35d46f00 r\n")
    t = read_ramulator(p)
    assert t.address.tolist() == [0x12345680, 0x4CBD56C0, 0x35D46F00]
    assert t.is_write.tolist() == [False, True, False]
    assert t.time_ns.tolist() == [0, 0, 0]
    assert read_ramulator(p, interval_ns=2.5).time_ns.tolist() == [0, 2.5, 5.0]


@pytest.mark.parametrize(
    "line,msg",
    [
        ("0x10", "expected '0x<address> R|W'"),
        ("0x10 R extra", "expected '0x<address> R|W'"),
        ("0xQQ R", "not hexadecimal"),
        ("0x10 X", "neither 'R' nor 'W'"),
    ],
)
def test_ramulator_errors_name_file_line_and_content(tmp_path, line, msg):
    p = write(tmp_path, "bad.trace.txt", "0x0 R\n" + line + "\n")
    with pytest.raises(TraceFormatError) as exc:
        read_ramulator(p)
    assert f"{p}:2:" in str(exc.value) and msg in str(exc.value) and line in str(exc.value)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.stl"):
        read_dramsys(tmp_path / "nope.stl")
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        read_trace(tmp_path / "nope.txt")


def test_read_trace_sniffs_format_and_round_trips(tmp_path):
    t = cloud(500, seed=3)
    write_dramsys(t, tmp_path / "a.stl")
    write_ramulator(t, tmp_path / "b.txt")
    a, b = read_trace(tmp_path / "a.stl"), read_trace(tmp_path / "b.txt")
    assert a.same_as(t)
    assert np.array_equal(b.address, t.address) and np.array_equal(b.is_write, t.is_write)
    with pytest.raises(ValueError, match="unknown trace format"):
        read_trace(tmp_path / "a.stl", format="csv")


def test_trace_validation():
    with pytest.raises(ValueError, match="non-decreasing"):
        Trace(np.array([2.0, 1.0]), np.array([0, 64], np.uint64), np.zeros(2, bool))
    with pytest.raises(ValueError, match="equal length"):
        Trace(np.array([1.0]), np.array([0, 64], np.uint64), np.zeros(2, bool))
    t = sequential(10)
    assert not t.time_ns.flags.writeable and len(t.head(3)) == 3


# ------------------------------------------------------------------ generators
@pytest.mark.parametrize("name", list(GENERATORS))
def test_generators_are_seeded_and_well_formed(name):
    f = GENERATORS[name]
    a, b, c = f(2000, seed=1), f(2000, seed=1), f(2000, seed=2)
    assert a.same_as(b) and len(a) == 2000
    assert np.all(a.address % 64 == 0)
    assert np.all(a.time_ns == np.round(a.time_ns)) and np.all(np.diff(a.time_ns) >= 0)
    if name not in ("sequential", "strided", "stream_triad"):
        assert not a.same_as(c)


def test_generator_shapes():
    s = sequential(100, start=4096, interval_ns=2)
    assert np.all(np.diff(s.address.astype(np.int64)) == 64) and s.duration_ns == 198 and s.n_writes == 0
    assert np.all(np.diff(strided(50, stride=8192).address.astype(np.int64)) == 8192)
    r = random_uniform(20_000, read_ratio=0.25, seed=0)
    assert 0.72 < r.n_writes / len(r) < 0.78
    assert r.time_ns[-1] / len(r) == pytest.approx(10.0, rel=0.05)  # Poisson, mean 10 ns
    tri = stream_triad(300)
    assert tri.n_writes == 100
    m = mixed(5000, seq_fraction=0.9, seed=0)
    assert np.mean(np.diff(m.address.astype(np.int64)) == 64) > 0.85
    c = cloud(5000, regions=4, random_fraction=0.0, seed=0)
    assert len(np.unique(c.address.astype(np.int64) >> 21)) <= 4  # all inside 4 hot 2 MiB regions


# ------------------------------------------------------------- standard workloads
@pytest.mark.parametrize("name", list(STANDARD_WORKLOADS))
def test_shipped_trace_equals_generated_workload(name):
    generated = standard_workload(name)
    assert len(generated) == 10_000
    shipped = read_dramsys(shipped_trace_path(name))
    assert shipped.same_as(generated)
    assert load_workload(name).same_as(generated)


def test_standard_workloads_differ_in_character():
    stats = {n: standard_workload(n) for n in STANDARD_WORKLOADS}
    assert stats["stream"].n_writes == 3333
    assert stats["cloud-1"].n_writes < stats["cloud-2"].n_writes
    seq = {n: np.mean(np.abs(np.diff(t.address.astype(np.int64))) <= 4096) for n, t in stats.items()}
    assert seq["random"] < 0.01 < seq["cloud-2"] < seq["cloud-1"]


def test_load_workload_forms(tmp_path):
    assert len(load_workload("stream", n_requests=500)) == 500
    g = load_workload("sequential:interval_ns=2,n=300")
    assert len(g) == 300 and g.duration_ns == 598
    assert load_workload("random:read_ratio=1.0", n_requests=100, seed=4).n_writes == 0
    p = tmp_path / "x.stl"
    write_dramsys(sequential(50), p)
    assert len(load_workload(str(p))) == 50 and len(load_workload(p, n_requests=10)) == 10
    t = sequential(5)
    assert load_workload(t) is t


def test_load_workload_errors(tmp_path):
    with pytest.raises(FileNotFoundError) as exc:
        load_workload("cloud-3")
    msg = str(exc.value)
    assert "cloud-3" in msg and "stream, random, cloud-1, cloud-2" in msg and "sequential" in msg
    with pytest.raises(FileNotFoundError, match="missing.stl"):
        load_workload(str(tmp_path / "missing.stl"))
    with pytest.raises(ValueError, match="key=value"):
        load_workload("random:fast")
    with pytest.raises(ValueError, match="unexpected keyword"):
        load_workload("random:speed=3")


# -------------------------------------------------------------- address mapping
def test_address_mapping_decode_encode():
    m = AddressMapping.parse("RoBaCoBg", DDR4_2400)
    assert m.address_bits == 32  # 4 GiB channel of 4 Gb x8 devices
    a = m.encode(bankgroup=3, bank=2, row=1234, column=77)
    d = m.decode(np.array([a], np.uint64))
    assert (d["bankgroup"][0], d["bank"][0], d["row"][0], d["column"][0]) == (3, 2, 1234, 77)
    lines = m.decode(np.arange(8, dtype=np.uint64) * 64)
    assert lines["bankgroup"].tolist() == [0, 1, 2, 3, 0, 1, 2, 3]  # bank groups interleave first
    split = AddressMapping.parse("RoBaCo5BgCo2", DDR4_2400)
    lines = split.decode(np.arange(8, dtype=np.uint64) * 64)
    assert (
        lines["bankgroup"].tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
        and lines["column"].tolist() == [0, 1, 2, 3] * 2
    )
    wrapped = m.decode(np.array([a + (1 << 32)], np.uint64))  # addresses wrap at the capacity
    assert wrapped["row"][0] == 1234
    assert AddressMapping.parse("RoBaCo", DDR3_1600).address_bits == 30
    two = AddressMapping.parse("RoBaCoBgCh", DDR4_2400, channels=2)
    assert two.decode(np.array([0, 64], np.uint64))["channel"].tolist() == [0, 1]


@pytest.mark.parametrize(
    "spec, channels, ranks",
    [
        ("RoBaCoBg", 1, 1),
        ("RoBaCo5BgCo2", 1, 1),
        ("RoRaBaCoBg", 1, 4),
        ("RoBaCoBgCh", 2, 1),
        ("RaRoChBaCoBg", 2, 2),
    ],
)
def test_compiled_channel_bank_row_equal_the_decoded_fields(spec, channels, ranks):
    m = AddressMapping.parse(spec, DDR4_2400, channels=channels, ranks=ranks)
    addrs = np.random.default_rng(3).integers(0, 2**63, 5000, dtype=np.uint64)  # wrapping bits too
    f = m.decode(addrs)
    ch, bank, row = m.decode_channel_bank_row(addrs, DDR4_2400.bank_groups, DDR4_2400.banks_per_group)
    assert np.array_equal(ch, f["channel"]) and np.array_equal(row, f["row"])
    expected = (f["rank"] * DDR4_2400.bank_groups + f["bankgroup"]) * DDR4_2400.banks_per_group + f["bank"]
    assert np.array_equal(bank, expected) and bank.max() == 16 * ranks - 1


@pytest.mark.parametrize(
    "spec,msg",
    [
        ("RoBaCo", "lacks field Bg"),
        ("RoBaBgCoXy", "cannot read token"),
        ("RoBaBgCo3", "field Co has 7 bits"),
        ("RoBaCoBgCo", "appears twice"),
    ],
)
def test_address_mapping_errors(spec, msg):
    with pytest.raises(AddressMappingError, match=msg):
        AddressMapping.parse(spec, DDR4_2400)
    with pytest.raises(AddressMappingError, match="lacks field Ch"):
        AddressMapping.parse("RoBaCoBg", DDR4_2400, channels=2)


# ------------------------------------------------- format detection, format=, binary cache
def test_format_is_detected_from_content_not_extension(tmp_path):
    t = random_uniform(300, seed=5)
    ram = tmp_path / "ramulator.trace"  # Ramulator content under DRAMSys' extension
    write_ramulator(t, ram)
    got = read_trace(ram)
    assert np.array_equal(got.address, t.address) and np.array_equal(got.is_write, t.is_write)
    assert detect_format(ram) == "ramulator"
    dram = tmp_path / "dramsys.txt"
    write_dramsys(t, dram, header="a comment first")
    assert detect_format(dram) == "dramsys" and read_trace(dram).same_as(t)
    odd = write(tmp_path, "odd.trace", "# header\nhello world\n")
    with pytest.raises(TraceFormatError, match=r"odd\.trace:2: cannot tell the trace format.*hello world"):
        read_trace(odd)


def test_format_named_with_options_through_load_workload_and_env(tmp_path):
    t = sequential(200)
    p = tmp_path / "seq.trace"
    write_ramulator(t, p)
    a = load_workload(p, trace_format="ramulator:interval_ns=1.25")
    assert a.time_ns[1] == 1.25 and np.array_equal(a.address, t.address)
    with pytest.raises(TraceFormatError, match=r"seq\.trace:1: .*expected '<time>"):
        load_workload(p, trace_format="dramsys")  # named wrongly: the parser says where
    with pytest.raises(ValueError, match="unknown trace format 'csv'"):
        load_workload(p, trace_format="csv")
    with pytest.raises(ValueError, match="clock_mhz"):
        load_workload(p, trace_format="ramulator:clock_mhz=3")
    q = tmp_path / "slow.stl"
    write_dramsys(t, q)
    assert load_workload(q, trace_format="dramsys:clock_mhz=500").time_ns[1] == 2 * t.time_ns[1]
    from archgym.envs.dram.env import make_dram_env

    env = make_dram_env(
        str(p), trace_format="ramulator:interval_ns=4", targets={"avg_read_latency_ns": 40, "power_mw": 900}
    )
    assert env.workload.time_ns[-1] == 4 * 199


def test_exact_long_time_stamps(tmp_path):
    p = write(
        tmp_path, "t.stl", "0.1: read 0x0\n0.30000000000000004: read 0x40\n12345678901234567.5: write 0x80\n"
    )
    t = read_dramsys(p)
    assert t.time_ns.tolist() == [0.1, 0.30000000000000004, 12345678901234567.5]


def test_binary_cache_is_keyed_by_content(tmp_path, monkeypatch):
    from archgym.envs.dram import trace_cache

    monkeypatch.setenv("ARCHGYM_CACHE_DIR", str(tmp_path / "cache"))
    assert trace_cache.default_cache_dir() == tmp_path / "cache" / "traces"
    t = cloud(2000, seed=1)
    p = tmp_path / "c.stl"
    write_dramsys(t, p)
    first = read_trace(p, cache=True)
    entries = list((tmp_path / "cache" / "traces").glob("*.npz"))
    assert len(entries) == 1 and first.same_as(t)
    renamed = tmp_path / "renamed.stl"
    p.rename(renamed)
    again = read_trace(renamed, cache=True)  # same bytes: served from the cache
    assert again.same_as(t) and again.name == str(renamed)
    assert len(list((tmp_path / "cache" / "traces").glob("*"))) == 1  # no temp files left
    write_dramsys(t.head(1000), renamed)  # new content: new key
    assert len(read_trace(renamed, cache=True)) == 1000
    assert len(list((tmp_path / "cache" / "traces").glob("*.npz"))) == 2
    # another format reading of the same bytes is another entry
    read_trace(renamed, "dramsys:clock_mhz=500", cache=True)
    assert len(list((tmp_path / "cache" / "traces").glob("*.npz"))) == 3
    # a torn entry is ignored and rewritten
    for e in (tmp_path / "cache" / "traces").glob("*.npz"):
        e.write_bytes(b"garbage")
    assert read_trace(renamed, cache=True).same_as(t.head(1000))
    # an unwritable cache directory is not an error
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert read_trace(renamed, cache=True, cache_dir=blocker / "sub").same_as(t.head(1000))


def test_parsers_accept_the_usual_variants(tmp_path):
    """CRLF line ends, tabs, upper case, addresses with or without 0x, trailing data and
    comments, no final newline; an empty file gives an empty trace."""
    d = write(tmp_path, "v.stl", "# c\r\n1:\tREAD\t0X40\r\n2 : Write 80 0xdead # note\r\n3: (64) read 0xC0")
    t = read_dramsys(d)
    assert t.time_ns.tolist() == [1, 2, 3] and t.address.tolist() == [0x40, 0x80, 0xC0]
    assert t.is_write.tolist() == [False, True, False]
    r = write(tmp_path, "v.txt", "0X40 r\r\n\t80 W   # x\r\nc0 R")
    t = read_ramulator(r)
    assert t.address.tolist() == [0x40, 0x80, 0xC0] and t.is_write.tolist() == [False, True, False]
    empty = write(tmp_path, "e.trace", "# nothing\n\n")
    assert len(read_trace(empty)) == 0
    with pytest.raises(TraceFormatError, match=r"big\.txt:1: address out of the 64-bit range"):
        read_ramulator(write(tmp_path, "big.txt", "0x1" + "0" * 16 + " R\n"))
