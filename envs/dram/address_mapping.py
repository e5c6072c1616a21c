"""Physical address -> (channel, bank group, bank, row, column) mapping.

A mapping is written as a string of field tokens from the most significant to the least
significant address bit, Ramulator-style: ``"RoBaCoBg"`` means row bits on top, then bank,
column, and bank-group bits just above the burst offset. Tokens:

* ``Ro`` row, ``Ba`` bank (within a group), ``Bg`` bank group, ``Co`` column (burst-aligned
  column address, i.e. ``columns / BL`` values), ``Ra`` rank, ``Ch`` channel.
* A token may carry a bit count to split a field, e.g. ``"RoBaCo5BgCo2"`` puts two column
  bits below the bank-group bits (256 B interleaving granule). Counts of one field must
  add up to its width; a token without a count takes the bits the others leave.
* Fields of width zero (``Bg`` on DDR3, ``Ch`` with one channel, ``Ra`` with one rank) may be
  omitted.

The lowest ``log2(access bytes)`` bits (6 for a 64 B burst) are the byte offset and are
ignored. Address bits above the mapped ones are ignored (addresses wrap modulo the channel
capacity), so traces recorded on larger machines still run.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from numba import njit

from archgym.errors import ConfigError

from .devices import DRAMDevice

FIELDS = ("Ro", "Ba", "Bg", "Co", "Ra", "Ch")
_RO, _BA, _BG, _CO, _RA, _CH = range(len(FIELDS))
_TOKEN = re.compile(r"(Ro|Ba|Bg|Co|Ra|Ch)(\d*)")


class AddressMappingError(ConfigError):
    """The mapping string is malformed or does not fit the device."""


def _log2(n: int, what: str) -> int:
    if n < 1 or n & (n - 1):
        raise AddressMappingError(f"{what} must be a power of two, got {n}")
    return int(math.log2(n))


@dataclass(frozen=True)
class AddressMapping:
    """A parsed mapping: ``segments`` are ``(field, width)`` from the LSB upward."""

    spec: str
    offset_bits: int
    segments: tuple[tuple[str, int], ...]
    widths: dict[str, int]

    @classmethod
    def parse(cls, spec: str, device: DRAMDevice, channels: int = 1, ranks: int = 1) -> AddressMapping:
        """Parse ``spec`` for ``device`` with ``channels`` channels of ``ranks`` ranks.

        Raises:
            AddressMappingError: unknown token, missing field, or widths that do not add up.
        """
        widths = {
            "Ro": _log2(device.rows, "rows"),
            "Ba": _log2(device.banks_per_group, "banks per group"),
            "Bg": _log2(device.bank_groups, "bank groups"),
            "Co": _log2(device.column_bursts, "column bursts"),
            "Ra": _log2(ranks, "ranks"),
            "Ch": _log2(channels, "channels"),
        }
        s = spec.replace("-", "").replace("_", "").replace(" ", "")
        tokens: list[tuple[str, int | None]] = []
        pos = 0
        while pos < len(s):
            m = _TOKEN.match(s, pos)
            if not m:
                raise AddressMappingError(
                    f"address mapping {spec!r}: cannot read token at {s[pos:]!r}; tokens are "
                    f"{', '.join(FIELDS)} optionally followed by a bit count (e.g. 'RoBaCoBg')"
                )
            tokens.append((m.group(1), int(m.group(2)) if m.group(2) else None))
            pos = m.end()
        resolved: list[tuple[str, int]] = []
        for f in FIELDS:
            mine = [w for (g, w) in tokens if g == f]
            fixed = sum(w for w in mine if w is not None)
            free = [w for w in mine if w is None]
            if not mine:
                if widths[f]:
                    raise AddressMappingError(
                        f"address mapping {spec!r} lacks field {f} ({widths[f]} bits on {device.name})"
                    )
                continue
            if len(free) > 1:
                raise AddressMappingError(
                    f"address mapping {spec!r}: field {f} appears twice without a bit count"
                )
            if fixed > widths[f] or (not free and fixed != widths[f]):
                raise AddressMappingError(
                    f"address mapping {spec!r}: field {f} has {widths[f]} bits on {device.name} "
                    f"(channels={channels}, ranks={ranks}), the counts give {fixed}"
                )
        remaining = {f: widths[f] - sum(w for (g, w) in tokens if g == f and w is not None) for f in FIELDS}
        for g, w in tokens:
            resolved.append((g, remaining[g] if w is None else w))
        segments = tuple((g, w) for (g, w) in reversed(resolved) if w > 0)
        return cls(
            spec=spec,
            offset_bits=_log2(device.access_bytes, "access bytes"),
            segments=segments,
            widths=widths,
        )

    @property
    def address_bits(self) -> int:
        return self.offset_bits + sum(w for _, w in self.segments)

    def decode(self, addresses: np.ndarray) -> dict[str, np.ndarray]:
        """Decode addresses (vectorised) into ``channel, rank, bankgroup, bank, row, column`` arrays."""
        a = np.asarray(addresses, dtype=np.uint64) >> np.uint64(self.offset_bits)
        out = {f: np.zeros(a.shape, dtype=np.int64) for f in FIELDS}
        filled = dict.fromkeys(FIELDS, 0)
        for f, w in self.segments:
            part = (a & np.uint64((1 << w) - 1)).astype(np.int64)
            out[f] |= part << filled[f]
            filled[f] += w
            a = a >> np.uint64(w)
        return {
            "channel": out["Ch"],
            "rank": out["Ra"],
            "bankgroup": out["Bg"],
            "bank": out["Ba"],
            "row": out["Ro"],
            "column": out["Co"],
        }

    def decode_channel_bank_row(
        self, addresses: np.ndarray, bank_groups: int, banks_per_group: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What the controller reads of each address, in one compiled pass: channel, bank within
        the channel (``(rank * bank_groups + group) * banks_per_group + bank``) and row, as int64
        arrays (the same values as :meth:`decode`)."""
        a = np.ascontiguousarray(addresses, dtype=np.uint64).reshape(-1)
        field = np.array([FIELDS.index(f) for f, _ in self.segments], np.int64)
        width = np.array([w for _, w in self.segments], np.int64)
        return _channel_bank_row(a, self.offset_bits, field, width, bank_groups, banks_per_group)

    def encode(
        self,
        channel: int = 0,
        bankgroup: int = 0,
        bank: int = 0,
        row: int = 0,
        column: int = 0,
        rank: int = 0,
    ) -> int:
        """The lowest address that decodes to the given coordinates (for tests and generators)."""
        vals = {"Ch": channel, "Ra": rank, "Bg": bankgroup, "Ba": bank, "Ro": row, "Co": column}
        addr, pos = 0, self.offset_bits
        used = dict.fromkeys(FIELDS, 0)
        for f, w in self.segments:
            addr |= ((vals[f] >> used[f]) & ((1 << w) - 1)) << pos
            used[f] += w
            pos += w
        return addr


@njit(cache=True)
def _channel_bank_row(addresses, offset_bits, field, width, bank_groups, banks_per_group):
    """:meth:`AddressMapping.decode_channel_bank_row`: the segments (``FIELDS`` indices and
    widths, least significant first) each fill the next bits of their field."""
    n_seg = field.shape[0]
    shift = np.zeros(n_seg, np.int64)  # where each segment's bits land in its field
    filled = np.zeros(len(FIELDS), np.int64)
    mask = np.zeros(n_seg, np.uint64)
    for s in range(n_seg):
        shift[s] = filled[field[s]]
        filled[field[s]] += width[s]
        mask[s] = (np.uint64(1) << np.uint64(width[s])) - np.uint64(1)
    n = addresses.shape[0]
    channel = np.empty(n, np.int64)
    bank = np.empty(n, np.int64)
    row = np.empty(n, np.int64)
    val = np.zeros(len(FIELDS), np.int64)
    for i in range(n):
        a = addresses[i] >> np.uint64(offset_bits)
        val[:] = 0
        for s in range(n_seg):
            val[field[s]] |= np.int64(a & mask[s]) << shift[s]
            a = a >> np.uint64(width[s])
        channel[i] = val[_CH]
        bank[i] = (val[_RA] * bank_groups + val[_BG]) * banks_per_group + val[_BA]
        row[i] = val[_RO]
    return channel, bank, row
