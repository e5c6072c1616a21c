"""Memory traces: the :class:`Trace` container, file parsers and writers.

Two text formats are read:

* **DRAMSys** (``.stl`` / ``.trace``): ``<time>: [(<length>)] read|write 0x<addr> [0x<data>]``.
  The time is a cycle count of the initiator clock (``clock_mhz``, default 1000 MHz, so
  plain nanoseconds); ``#`` starts a comment. A length above one burst is split into
  consecutive bursts at the same time.
* **Ramulator** memory traces: ``0x<addr> R|W`` (no time stamps; requests are sent
  ``interval_ns`` apart, default 0 = as fast as the controller accepts them).

Malformed lines raise :class:`TraceFormatError` naming the file, the line number and the
line. Synthetic generators live in :mod:`.generators`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BURST_BYTES = 64


class TraceFormatError(ValueError):
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
            raise ValueError(
                f"trace {self.name!r}: time_ns, address and is_write must be 1-D arrays of equal length"
            )
        if t.size and (not np.all(np.isfinite(t)) or np.any(t < 0)):
            raise ValueError(f"trace {self.name!r}: times must be finite and >= 0")
        if t.size > 1 and np.any(np.diff(t) < 0):
            raise ValueError(f"trace {self.name!r}: times must be non-decreasing")
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
def _lines(path: Path) -> Iterator[tuple[int, str, str]]:
    """Yield ``(line number, stripped content without comment, raw line)`` of non-empty lines."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, raw in enumerate(fh, 1):
            body = raw.split("#", 1)[0].strip()
            if body:
                yield lineno, body, raw.rstrip("\n")


def _err(path: Path, lineno: int, raw: str, msg: str) -> TraceFormatError:
    return TraceFormatError(f"{path}:{lineno}: {msg}: {raw.strip()!r}")


def _parse_length(tok: str, path: Path, lineno: int, raw: str) -> int:
    """A DRAMSys ``(len)`` field in bytes (> 0)."""
    try:
        length = int(tok.strip("()"))
    except ValueError:
        raise _err(path, lineno, raw, f"length {tok!r} is not an integer in parentheses") from None
    if length <= 0:
        raise _err(path, lineno, raw, "length must be > 0")
    return length


def _parse_addr(tok: str) -> int:
    """Hexadecimal address, with or without the ``0x`` prefix."""
    return int(tok, 16)


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
    if not p.is_file():
        raise FileNotFoundError(f"trace file not found: {p}")
    if not clock_mhz > 0:
        raise ValueError(f"clock_mhz must be > 0, got {clock_mhz}")
    scale = 1000.0 / clock_mhz
    times: list[float] = []
    addrs: list[int] = []
    writes: list[bool] = []
    last = -1.0
    for lineno, body, raw in _lines(p):
        head, sep, rest = body.partition(":")
        if not sep:
            raise _err(p, lineno, raw, "expected '<time>: read|write 0x<address>'")
        try:
            t = float(head.strip()) * scale
        except ValueError:
            raise _err(p, lineno, raw, f"time stamp {head.strip()!r} is not a number") from None
        if not (t >= 0 and np.isfinite(t)):
            raise _err(p, lineno, raw, "time stamp must be finite and >= 0")
        if t < last:
            raise _err(p, lineno, raw, f"time stamp {t:g} ns is earlier than the previous one ({last:g} ns)")
        last = t
        toks = rest.split()
        length = BURST_BYTES
        if toks and toks[0].startswith("("):
            length = _parse_length(toks[0], p, lineno, raw)
            toks = toks[1:]
        if len(toks) < 2:
            raise _err(p, lineno, raw, "expected a command (read|write) and a hex address")
        cmd = toks[0].lower()
        if cmd not in ("read", "write"):
            raise _err(p, lineno, raw, f"command {toks[0]!r} is neither 'read' nor 'write'")
        try:
            a = _parse_addr(toks[1])
        except ValueError:
            raise _err(p, lineno, raw, f"address {toks[1]!r} is not hexadecimal") from None
        if a < 0 or a >= 1 << 64:
            raise _err(p, lineno, raw, "address out of the 64-bit range")
        nb = max(1, -(-length // BURST_BYTES))
        for k in range(nb):
            times.append(t)
            addrs.append(a + k * BURST_BYTES)
            writes.append(cmd == "write")
    return Trace(
        np.array(times, np.float64), np.array(addrs, np.uint64), np.array(writes, np.bool_), name=str(p)
    )


def read_ramulator(path: str | os.PathLike, interval_ns: float = 0.0) -> Trace:
    """Read a Ramulator memory trace (``0x<addr> R|W`` per line).

    Requests get arrival times ``0, interval_ns, 2*interval_ns, ...``; with the default 0 the
    initiator sends as fast as the controller accepts (closed loop through back-pressure).

    Raises:
        FileNotFoundError: no such file.
        TraceFormatError: a malformed line (file, line number and content in the message).
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"trace file not found: {p}")
    if interval_ns < 0:
        raise ValueError(f"interval_ns must be >= 0, got {interval_ns}")
    addrs: list[int] = []
    writes: list[bool] = []
    for lineno, body, raw in _lines(p):
        toks = body.split()
        if len(toks) != 2:
            raise _err(p, lineno, raw, "expected '0x<address> R|W'")
        try:
            a = _parse_addr(toks[0])
        except ValueError:
            raise _err(p, lineno, raw, f"address {toks[0]!r} is not hexadecimal") from None
        if a < 0 or a >= 1 << 64:
            raise _err(p, lineno, raw, "address out of the 64-bit range")
        op = toks[1].upper()
        if op not in ("R", "W"):
            raise _err(p, lineno, raw, f"operation {toks[1]!r} is neither 'R' nor 'W'")
        addrs.append(a)
        writes.append(op == "W")
    n = len(addrs)
    return Trace(
        np.arange(n, dtype=np.float64) * interval_ns,
        np.array(addrs, np.uint64),
        np.array(writes, np.bool_),
        name=str(p),
    )


def sniff_format(path: str | os.PathLike) -> str:
    """``"dramsys"`` or ``"ramulator"`` from the extension or the first data line."""
    p = Path(path)
    if p.suffix in (".stl", ".trace"):
        return "dramsys"
    for _, body, _ in _lines(p):
        return "dramsys" if ":" in body else "ramulator"
    return "dramsys"


def read_trace(path: str | os.PathLike, format: str | None = None, **kwargs: float) -> Trace:
    """Read a trace file in either format (``format`` = ``"dramsys"``, ``"ramulator"`` or sniffed)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"trace file not found: {p}")
    fmt = format or sniff_format(p)
    if fmt == "dramsys":
        return read_dramsys(p, **kwargs)
    if fmt == "ramulator":
        return read_ramulator(p, **kwargs)
    raise ValueError(f"unknown trace format {format!r}; use 'dramsys' or 'ramulator'")


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
