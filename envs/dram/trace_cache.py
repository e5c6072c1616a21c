"""Binary copies of parsed trace files, keyed by the file's content hash.

A text trace is parsed once; later reads of the same bytes (with the same format and options)
load a ``.npz`` of the three arrays instead, so an end-to-end run on a large trace is dominated
by simulation. The key is a BLAKE2b hash of the file's bytes plus the format, its options and
the parser version: renaming or touching a file keeps its entry, editing it makes a new one.

Where: ``$ARCHGYM_CACHE_DIR/traces`` if that variable is set, else the user cache directory
(``$XDG_CACHE_HOME/archgym/traces``, default ``~/.cache/archgym/traces``); never inside the
package. Entries are written atomically (:mod:`archgym.atomic`), so concurrent runs and
crashes never leave a torn entry; an unreadable entry is ignored and rewritten. Delete the
directory to clear the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from archgym.atomic import atomic_path

#: bump when parsing changes what a file yields
PARSER_VERSION = 1
#: files at least this large are cached when the caller does not say
AUTO_CACHE_BYTES = 4 << 20


def default_cache_dir() -> Path:
    """``$ARCHGYM_CACHE_DIR/traces``, else ``$XDG_CACHE_HOME/archgym/traces`` (``~/.cache``)."""
    root = os.environ.get("ARCHGYM_CACHE_DIR")
    if root:
        return Path(root).expanduser() / "traces"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg).expanduser() / "archgym" / "traces"


def cache_key(data: np.ndarray, fmt: str, options: Mapping[str, float]) -> str:
    """Hex key of a file's bytes read as ``fmt`` with ``options``."""
    h = hashlib.blake2b(np.ascontiguousarray(data).data, digest_size=16)
    h.update(json.dumps([PARSER_VERSION, fmt, sorted(options.items())]).encode())
    return h.hexdigest()


def _directory(cache_dir: str | os.PathLike | None) -> Path:
    return Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()


#: the columns of a cached trace (those of :class:`~.traces.Trace`)
COLUMNS: tuple[str, ...] = ("time_ns", "address", "is_write")


def load(key: str, cache_dir: str | os.PathLike | None = None) -> dict[str, np.ndarray] | None:
    """The cached trace columns of ``key`` (:data:`COLUMNS`), or None when there are none (or
    they cannot be read)."""
    path = _directory(cache_dir) / f"{key}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path) as z:
            return {c: z[c] for c in COLUMNS}
    except (OSError, ValueError, KeyError):
        return None  # torn or foreign file: parse again and overwrite it


def store(
    key: str, columns: Mapping[str, np.ndarray], cache_dir: str | os.PathLike | None = None
) -> Path | None:
    """Write a trace's :data:`COLUMNS` under ``key`` atomically; returns the path, or None if the
    cache directory cannot be written (the cache is an optimisation, never a reason to fail)."""
    d = _directory(cache_dir)
    try:
        d.mkdir(parents=True, exist_ok=True)
        path = d / f"{key}.npz"
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, time_ns=columns["time_ns"], address=columns["address"], is_write=columns["is_write"])
        return path
    except OSError:
        return None
