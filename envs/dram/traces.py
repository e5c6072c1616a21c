"""Memory traces: the :class:`Trace` container, file parsers and writers.

Two text formats are read:

* **DRAMSys** (``.stl`` / ``.trace``): ``<time>: [(<length>)] read|write 0x<addr> [0x<data>]``.
  The time is a cycle count of the initiator clock (``clock_mhz``, default 1000 MHz, so
  plain nanoseconds); ``#`` starts a comment. A length above one burst is split into
  consecutive bursts at the same time.
* **Ramulator** memory traces: ``0x<addr> R|W`` (no time stamps; requests are sent
  ``interval_ns`` apart, default 0 = as fast as the controller accepts them).

The format is named (``format="ramulator:interval_ns=2"``) or detected from the first data
line's content, never from the extension. Files are parsed by a compiled single pass over
their bytes (:mod:`.trace_parsers`, tens of millions of lines per second) and large ones are
kept as binary copies keyed by their content hash (:mod:`.trace_cache`). Malformed lines
raise :class:`TraceFormatError` naming the file, the line number and the line. Synthetic
generators live in :mod:`.generators`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np

from archgym.errors import ConfigError, InputFormatError

from . import trace_cache
from . import trace_parsers as P

BURST_BYTES = 64


class TraceFormatError(InputFormatError):
    """A trace file line could not be parsed."""


@dataclass(frozen=True, eq=False)
class Trace:
    """A memory trace: one row per request, sorted by time.

    Attributes:
        time_ns: float64 arrival time of each request at the controller's initiator (ns).
        address: uint64 byte address.
        is_write: bool, ``True`` for writes.
        name: where the trace came from (workload name or file).
    """

    time_ns: np.ndarray
    address: np.ndarray
    is_write: np.ndarray
    name: str = ""

    def __post_init__(self) -> None:
        t = np.ascontiguousarray(self.time_ns, dtype=np.float64)
        a = np.ascontiguousarray(self.address, dtype=np.uint64)
        w = np.ascontiguousarray(self.is_write, dtype=np.bool_)
        if not (t.ndim == a.ndim == w.ndim == 1 and t.shape == a.shape == w.shape):
            raise InputFormatError(
                f"trace {self.name!r}: time_ns, address and is_write must be 1-D arrays of equal length"
            )
        if t.size and (not np.all(np.isfinite(t)) or np.any(t < 0)):
            raise InputFormatError(f"trace {self.name!r}: times must be finite and >= 0")
        if t.size > 1 and np.any(np.diff(t) < 0):
            raise InputFormatError(f"trace {self.name!r}: times must be non-decreasing")
        for arr in (t, a, w):
            arr.setflags(write=False)
        object.__setattr__(self, "time_ns", t)
        object.__setattr__(self, "address", a)
        object.__setattr__(self, "is_write", w)

    def __len__(self) -> int:
        return int(self.time_ns.shape[0])

    @property
    def n_reads(self) -> int:
        return int(len(self) - np.count_nonzero(self.is_write))

    @property
    def n_writes(self) -> int:
        return int(np.count_nonzero(self.is_write))

    @property
    def duration_ns(self) -> float:
        return float(self.time_ns[-1] - self.time_ns[0]) if len(self) else 0.0

    def head(self, n: int) -> Trace:
        """The first ``n`` requests."""
        return Trace(self.time_ns[:n], self.address[:n], self.is_write[:n], self.name)

    def same_as(self, other: Trace) -> bool:
        """Element-wise equality of the three arrays (the name is ignored)."""
        return (
            len(self) == len(other)
            and np.array_equal(self.time_ns, other.time_ns)
            and np.array_equal(self.address, other.address)
            and np.array_equal(self.is_write, other.is_write)
        )

    def __repr__(self) -> str:
        return (
            f"Trace({self.name!r}, {len(self)} requests, {self.n_writes} writes, {self.duration_ns:.0f} ns)"
        )


# ------------------------------------------------------------------ parsing
#: trace formats :func:`read_trace` knows, with the options each one takes
TRACE_FORMATS: dict[str, tuple[str, ...]] = {"dramsys": ("clock_mhz",), "ramulator": ("interval_ns",)}

_DRAMSYS_LINE = re.compile(rb"^\s*[0-9.eE+-]+\s*:")
_RAMULATOR_LINE = re.compile(rb"^\s*(0[xX])?[0-9a-fA-F]+\s+[RrWw]\s*(#.*)?$")

_MESSAGES = {
    "dramsys": dict(P.MESSAGES),
    "ramulator": {**P.MESSAGES, P.ERR_ADDRESS: "address is not hexadecimal"},
}


def _read_bytes(path: Path) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(f"trace file not found: {path}")
    return np.fromfile(path, dtype=np.uint8)


def _raise_at(path: Path, buf: np.ndarray, lineno: int, fmt: str, code: int) -> NoReturn:
    lines = buf.tobytes().split(b"\n")
    raw = lines[lineno - 1].decode("utf-8", errors="replace") if 0 < lineno <= len(lines) else ""
    raise TraceFormatError(f"{path}:{lineno}: {_MESSAGES[fmt][code]}: {raw.strip()!r}")


def _dramsys_from_bytes(path: Path, buf: np.ndarray, clock_mhz: float) -> Trace:
    if not clock_mhz > 0:
        raise ConfigError(f"clock_mhz must be > 0, got {clock_mhz}")
    t, length, addr, wr, slow, tok, _n, code, line = P.parse_dramsys(buf)
    if code:
        _raise_at(path, buf, line, "dramsys", code)
    if slow.any():  # time stamps with more than 15 significant digits: exact re-read
        data = buf.tobytes()
        idx = np.flatnonzero(slow)
        t = t.copy()
        t[idx] = [float(data[a:b]) for a, b in tok[idx]]
        bad = np.flatnonzero(np.diff(t) < 0)
        if bad.size:
            k = int(bad[0]) + 1
            raise TraceFormatError(
                f"{path}: request {k + 1}: time stamp {t[k]!r} is earlier than the previous one "
                f"({t[k - 1]!r})"
            )
    nb = np.maximum(1, -(-length // BURST_BYTES))
    scale = 1000.0 / clock_mhz
    if np.all(nb == 1):
        times, addrs, writes = t * scale, addr, wr
    else:  # a request longer than one burst: consecutive bursts at the same time
        times = np.repeat(t * scale, nb)
        writes = np.repeat(wr, nb)
        first = np.repeat(np.cumsum(nb) - nb, nb)
        addrs = np.repeat(addr, nb) + (np.arange(int(nb.sum())) - first).astype(np.uint64) * np.uint64(
            BURST_BYTES
        )
    return Trace(times, addrs, writes, name=str(path))


def _ramulator_from_bytes(path: Path, buf: np.ndarray, interval_ns: float) -> Trace:
    if interval_ns < 0:
        raise ConfigError(f"interval_ns must be >= 0, got {interval_ns}")
    addr, wr, n, code, line = P.parse_ramulator(buf)
    if code:
        _raise_at(path, buf, line, "ramulator", code)
    return Trace(np.arange(n, dtype=np.float64) * interval_ns, addr, wr, name=str(path))


def read_dramsys(path: str | os.PathLike, clock_mhz: float = 1000.0) -> Trace:
    """Read a DRAMSys trace (``<time>: [(len)] read|write 0x<addr> [data]``).

    Args:
        path: trace file.
        clock_mhz: clock of the time stamps; 1000 means the stamps are nanoseconds.

    Raises:
        FileNotFoundError: no such file.
        TraceFormatError: a malformed line (file, line number and content in the message).
    """
    p = Path(path)
    return _dramsys_from_bytes(p, _read_bytes(p), clock_mhz)


def read_ramulator(path: str | os.PathLike, interval_ns: float = 0.0) -> Trace:
    """Read a Ramulator memory trace (``0x<addr> R|W`` per line).

    Requests get arrival times ``0, interval_ns, 2*interval_ns, ...``; with the default 0 the
    initiator sends as fast as the controller accepts (closed loop through back-pressure).

    Raises:
        FileNotFoundError: no such file.
        TraceFormatError: a malformed line (file, line number and content in the message).
    """
    p = Path(path)
    return _ramulator_from_bytes(p, _read_bytes(p), interval_ns)


def _first_data_line(buf: np.ndarray) -> tuple[int, bytes]:
    head = buf[: 1 << 16].tobytes()
    for lineno, raw in enumerate(head.split(b"\n"), 1):
        body = raw.split(b"#", 1)[0].strip()
        if body:
            return lineno, raw
    return 0, b""


def detect_format(path: str | os.PathLike) -> str:
    """``"dramsys"`` or ``"ramulator"`` from the first data line's content (not the extension).

    Raises:
        FileNotFoundError: no such file.
        TraceFormatError: the first data line fits neither format (file, line and content named).
    """
    p = Path(path)
    return _detect(p, _read_bytes(p))


def _detect(path: Path, buf: np.ndarray) -> str:
    lineno, raw = _first_data_line(buf)
    if not lineno:
        return "dramsys"  # an empty trace: either reader gives zero requests
    if _DRAMSYS_LINE.match(raw):
        return "dramsys"
    if _RAMULATOR_LINE.match(raw.strip()):
        return "ramulator"
    raise TraceFormatError(
        f"{path}:{lineno}: cannot tell the trace format from the first line: "
        f"{raw.decode('utf-8', errors='replace').strip()!r}; expected DRAMSys "
        "'<time>: read|write 0x<address>' or Ramulator '0x<address> R|W' (or name the format)"
    )


def parse_format_spec(spec: str | None) -> tuple[str | None, dict[str, float]]:
    """Split ``"ramulator:interval_ns=1.25"`` into the format and its options.

    Raises:
        ValueError: unknown format or option (the message lists the known ones).
    """
    if spec is None or spec == "" or spec == "auto":
        return None, {}
    name, _, rest = str(spec).partition(":")
    name = name.strip().lower()
    if name not in TRACE_FORMATS:
        raise ConfigError(
            f"unknown trace format {spec!r}; use {', '.join(map(repr, TRACE_FORMATS))} or 'auto', "
            "optionally with options, e.g. 'ramulator:interval_ns=1.25' or 'dramsys:clock_mhz=1600'"
        )
    opts: dict[str, float] = {}
    for part in filter(None, (x.strip() for x in rest.split(","))):
        key, eq, val = part.partition("=")
        key = key.strip()
        if not eq or key not in TRACE_FORMATS[name]:
            raise ConfigError(
                f"trace format {spec!r}: bad option {part!r}; {name} takes "
                f"{', '.join(k + '=<number>' for k in TRACE_FORMATS[name])}"
            )
        try:
            opts[key] = float(val)
        except ValueError:
            raise ConfigError(f"trace format {spec!r}: {key} must be a number, got {val!r}") from None
    return name, opts


def read_trace(
    path: str | os.PathLike,
    format: str | None = None,
    *,
    cache: bool | None = None,
    cache_dir: str | os.PathLike | None = None,
    **options: float,
) -> Trace:
    """Read a trace file in either format.

    Args:
        path: trace file.
        format: ``"dramsys"``, ``"ramulator"`` (either optionally with options, e.g.
            ``"ramulator:interval_ns=2"``), or None / ``"auto"`` to detect it from the content.
        cache: keep a binary copy keyed by the file's content hash and reuse it (see
            :mod:`.trace_cache`); None (default) caches files of 4 MiB or more.
        cache_dir: where the binary copies live (default: :func:`.trace_cache.default_cache_dir`).
        **options: ``clock_mhz`` (DRAMSys) or ``interval_ns`` (Ramulator).

    Raises:
        FileNotFoundError: no such file.
        TraceFormatError: a malformed line, or a first line that fits neither format.
        ValueError: an unknown format or option.
    """
    p = Path(path)
    fmt, opts = parse_format_spec(format)
    for k in options:
        if fmt is not None and k not in TRACE_FORMATS[fmt]:
            raise ConfigError(f"trace format {fmt!r} takes {', '.join(TRACE_FORMATS[fmt])}, not {k!r}")
    opts.update({k: float(v) for k, v in options.items()})
    buf = _read_bytes(p)
    if fmt is None:
        fmt = _detect(p, buf)
    for k in opts:
        if k not in TRACE_FORMATS[fmt]:
            raise ConfigError(
                f"{p}: detected {fmt} format, which takes {', '.join(TRACE_FORMATS[fmt])}, not {k!r}"
            )
    use_cache = buf.size >= trace_cache.AUTO_CACHE_BYTES if cache is None else bool(cache)
    key = trace_cache.cache_key(buf, fmt, opts) if use_cache else ""
    if use_cache:
        hit = trace_cache.load(key, cache_dir)
        if hit is not None:
            return Trace(hit["time_ns"], hit["address"], hit["is_write"], name=str(p))
    if fmt == "dramsys":
        trace = _dramsys_from_bytes(p, buf, opts.get("clock_mhz", 1000.0))
    else:
        trace = _ramulator_from_bytes(p, buf, opts.get("interval_ns", 0.0))
    if use_cache:
        trace_cache.store(key, {c: getattr(trace, c) for c in trace_cache.COLUMNS}, cache_dir)
    return trace


def write_dramsys(trace: Trace, path: str | os.PathLike, header: str = "") -> None:
    """Write a trace in DRAMSys format with nanosecond stamps (integers when exact)."""
    p = Path(path)
    t = trace.time_ns
    integral = bool(np.all(t == np.round(t)))
    lines = []
    if header:
        lines += [f"# {h}" for h in header.splitlines()]
    ops = np.where(trace.is_write, "write", "read")
    if integral:
        lines += [f"{int(ti)}: {op} 0x{int(a):x}" for ti, op, a in zip(t, ops, trace.address)]
    else:
        lines += [f"{ti!r}: {op} 0x{int(a):x}" for ti, op, a in zip(t.tolist(), ops, trace.address)]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_ramulator(trace: Trace, path: str | os.PathLike) -> None:
    """Write a Ramulator memory trace (time stamps are dropped)."""
    ops = np.where(trace.is_write, "W", "R")
    Path(path).write_text(
        "".join(f"0x{int(a):x} {op}\n" for a, op in zip(trace.address, ops)), encoding="utf-8"
    )
