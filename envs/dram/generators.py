"""Seeded synthetic trace generators.

Every generator takes the number of requests ``n`` and a ``seed`` and returns a
:class:`~.traces.Trace` whose arrival times are whole nanoseconds (so a trace written in
DRAMSys format and read back is identical). Arrival processes:

* ``"fixed"``: one request every ``interval_ns``;
* ``"poisson"``: exponential gaps of mean ``interval_ns`` (rounded to whole ns);
* ``"bursty"``: exponential gaps whose mean alternates between ``interval_ns / 4`` and
  ``1.75 * interval_ns`` in phases of geometric length (mean 32 requests), same overall mean.

``interval_ns = 0`` sends everything at time 0 (the controller's back-pressure paces it).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from archgym.errors import ConfigError

from .traces import BURST_BYTES, Trace

GiB = 1 << 30
MiB = 1 << 20


def _arrivals(n: int, interval_ns: float, process: str, rng: np.random.Generator) -> np.ndarray:
    if interval_ns < 0:
        raise ConfigError(f"interval_ns must be >= 0, got {interval_ns}")
    if n == 0 or interval_ns == 0:
        return np.zeros(n, np.float64)
    if process == "fixed":
        return np.round(np.arange(n, dtype=np.float64) * interval_ns)
    if process == "poisson":
        gaps = rng.exponential(interval_ns, n)
    elif process == "bursty":
        phase_len = rng.geometric(1 / 32, size=n // 8 + 2)
        phase = np.repeat(np.arange(phase_len.size) % 2, phase_len)[:n]
        if phase.size < n:
            phase = np.concatenate([phase, np.zeros(n - phase.size, np.int64)])
        scale = np.where(phase == 0, 0.25, 1.75) * interval_ns
        gaps = rng.exponential(1.0, n) * scale
    else:
        raise ConfigError(f"unknown arrival process {process!r}; use fixed, poisson or bursty")
    gaps[0] = 0.0
    return np.cumsum(np.round(gaps))


def _rw(n: int, read_ratio: float, rng: np.random.Generator) -> np.ndarray:
    if not 0.0 <= read_ratio <= 1.0:
        raise ConfigError(f"read_ratio must be in [0, 1], got {read_ratio}")
    return rng.random(n) >= read_ratio


def _align(a: np.ndarray) -> np.ndarray:
    return (a // BURST_BYTES * BURST_BYTES).astype(np.uint64)


def strided(
    n: int,
    *,
    stride: int = 4096,
    start: int = 0,
    span_bytes: int = 4 * GiB,
    read_ratio: float = 1.0,
    interval_ns: float = 4.0,
    arrivals: str = "fixed",
    seed: int = 0,
) -> Trace:
    """Addresses ``start + i * stride`` (wrapping at ``span_bytes``)."""
    rng = np.random.default_rng(seed)
    addr = (int(start) + np.arange(n, dtype=np.int64) * int(stride)) % int(span_bytes)
    return Trace(
        _arrivals(n, interval_ns, arrivals, rng),
        _align(addr),
        _rw(n, read_ratio, rng),
        f"strided(stride={stride})",
    )


def sequential(
    n: int,
    *,
    start: int = 0,
    read_ratio: float = 1.0,
    interval_ns: float = 4.0,
    arrivals: str = "fixed",
    seed: int = 0,
) -> Trace:
    """Streaming: consecutive 64 B lines from ``start``."""
    t = strided(
        n,
        stride=BURST_BYTES,
        start=start,
        read_ratio=read_ratio,
        interval_ns=interval_ns,
        arrivals=arrivals,
        seed=seed,
    )
    return Trace(t.time_ns, t.address, t.is_write, "sequential")


def random_uniform(
    n: int,
    *,
    span_bytes: int = 4 * GiB,
    read_ratio: float = 2 / 3,
    interval_ns: float = 10.0,
    arrivals: str = "poisson",
    seed: int = 0,
) -> Trace:
    """Uniformly random 64 B lines over ``span_bytes``."""
    rng = np.random.default_rng(seed)
    addr = rng.integers(0, int(span_bytes) // BURST_BYTES, n, dtype=np.int64) * BURST_BYTES
    return Trace(_arrivals(n, interval_ns, arrivals, rng), _align(addr), _rw(n, read_ratio, rng), "random")


def mixed(
    n: int,
    *,
    seq_fraction: float = 0.5,
    span_bytes: int = 4 * GiB,
    read_ratio: float = 0.5,
    interval_ns: float = 8.0,
    arrivals: str = "poisson",
    seed: int = 0,
) -> Trace:
    """Read/write mix: each request continues the previous line with probability ``seq_fraction``,
    otherwise jumps to a random line."""
    if not 0.0 <= seq_fraction <= 1.0:
        raise ConfigError(f"seq_fraction must be in [0, 1], got {seq_fraction}")
    rng = np.random.default_rng(seed)
    lines = int(span_bytes) // BURST_BYTES
    jump = rng.random(n) >= seq_fraction
    jump[0] = True
    targets = rng.integers(0, lines, n, dtype=np.int64)
    run_id = np.cumsum(jump) - 1
    run_start_idx = np.flatnonzero(jump)
    pos_in_run = np.arange(n) - run_start_idx[run_id]
    addr = ((targets[run_start_idx][run_id] + pos_in_run) % lines) * BURST_BYTES
    return Trace(_arrivals(n, interval_ns, arrivals, rng), _align(addr), _rw(n, read_ratio, rng), "mixed")


def stream_triad(
    n: int, *, array_bytes: int = 64 * MiB, interval_ns: float = 4.0, arrivals: str = "fixed", seed: int = 0
) -> Trace:
    """STREAM-triad-like traffic ``a[i] = b[i] + s * c[i]``: read b, read c, write a, for
    consecutive lines of three arrays laid out back to back (2 reads : 1 write)."""
    rng = np.random.default_rng(seed)
    i = np.arange(n, dtype=np.int64)
    elem, which = i // 3, i % 3  # 0: read b, 1: read c, 2: write a
    base = np.array([1, 2, 0], np.int64)[which] * int(array_bytes)
    addr = base + (elem * BURST_BYTES) % int(array_bytes)
    return Trace(_arrivals(n, interval_ns, arrivals, rng), _align(addr), which == 2, "stream-triad")


def cloud(
    n: int,
    *,
    regions: int = 32,
    region_bytes: int = 2 * MiB,
    zipf: float = 1.0,
    run_mean: float = 8.0,
    random_fraction: float = 0.1,
    read_ratio: float = 0.7,
    span_bytes: int = 4 * GiB,
    interval_ns: float = 8.0,
    arrivals: str = "bursty",
    seed: int = 0,
) -> Trace:
    """Cloud-like mix with locality: runs of consecutive lines (geometric length, mean
    ``run_mean``) inside ``regions`` hot regions chosen with Zipf(``zipf``) popularity, plus a
    ``random_fraction`` of isolated uniformly random accesses; bursty arrivals by default."""
    if regions < 1 or run_mean < 1 or not 0 <= random_fraction <= 1:
        raise ConfigError("cloud: need regions >= 1, run_mean >= 1 and 0 <= random_fraction <= 1")
    rng = np.random.default_rng(seed)
    n_regions_slots = int(span_bytes) // int(region_bytes)
    region_base = rng.choice(n_regions_slots, size=regions, replace=False).astype(np.int64) * int(
        region_bytes
    )
    pop = 1.0 / np.arange(1, regions + 1) ** zipf
    pop /= pop.sum()
    runs = rng.geometric(1.0 / run_mean, size=n + 1)
    runs = runs[: int(np.searchsorted(np.cumsum(runs), n)) + 1]
    n_runs = runs.size
    is_rand = rng.random(n_runs) < random_fraction
    runs = np.where(is_rand, 1, runs)
    total = int(runs.sum())
    while total < n:  # random runs were shortened to 1: top up with extra runs
        extra = rng.geometric(1.0 / run_mean, size=n)
        runs = np.concatenate([runs, extra])
        is_rand = np.concatenate([is_rand, np.zeros(extra.size, bool)])
        total = int(runs.sum())
    n_runs = runs.size
    region = rng.choice(regions, size=n_runs, p=pop)
    lines_per_region = int(region_bytes) // BURST_BYTES
    start_line = rng.integers(0, lines_per_region, n_runs)
    rand_addr = rng.integers(0, int(span_bytes) // BURST_BYTES, n_runs, dtype=np.int64) * BURST_BYTES
    run_of = np.repeat(np.arange(n_runs), runs)[:n]
    first = np.concatenate([[0], np.cumsum(runs)[:-1]])
    pos = np.arange(n) - first[run_of]
    hot = region_base[region[run_of]] + ((start_line[run_of] + pos) % lines_per_region) * BURST_BYTES
    addr = np.where(is_rand[run_of], rand_addr[run_of], hot)
    return Trace(_arrivals(n, interval_ns, arrivals, rng), _align(addr), _rw(n, read_ratio, rng), "cloud")


#: generator name -> function, for ``load_workload("kind:key=value,...")``
GENERATORS: dict[str, Callable[..., Trace]] = {
    "sequential": sequential,
    "strided": strided,
    "random": random_uniform,
    "mixed": mixed,
    "stream_triad": stream_triad,
    "cloud": cloud,
}
