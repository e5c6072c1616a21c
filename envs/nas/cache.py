"""An explicit, evaluator-owned cache of per-architecture results."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class ArchCache(Generic[V]):
    """Results keyed by architecture (and evaluator settings), with hit/miss counters.

    Owned by one evaluator; nothing is global. ``max_entries`` bounds memory (oldest entries
    are dropped first); ``None`` keeps everything.
    """

    def __init__(self, max_entries: int | None = None) -> None:
        if max_entries is not None and max_entries < 1:
            raise ValueError(f"max_entries must be >= 1 or None, got {max_entries}")
        self.max_entries = max_entries
        self._data: dict[Hashable, V] = {}
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The cached value of ``key``, computing and storing it on a miss."""
        if key in self._data:
            self.hits += 1
            return self._data[key]
        self.misses += 1
        value = compute()
        self._data[key] = value
        if self.max_entries is not None and len(self._data) > self.max_entries:
            del self._data[next(iter(self._data))]
        return value

    def __contains__(self, key: Hashable) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        self._data.clear()
        self.hits = self.misses = 0


__all__ = ["ArchCache"]
