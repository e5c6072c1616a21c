"""Atomic file writes: write to a hidden temporary file beside the target, fsync, rename.

Every file archgym writes (dataset shards, summaries, exports, proxies, report tables and
figures) goes through :func:`atomic_path`, so a crash or SIGKILL leaves either the old file or
the complete new one, never a torn file. Temporary files are named ``.<stem>.tmp<suffix>``:
hidden (loaders skip dot files) and keeping the suffix that format-sniffing writers such as
matplotlib need.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write; on success it is fsynced and renamed onto ``path``.

    On an exception the temporary file is removed and ``path`` is left untouched.
    """
    final = Path(path)
    tmp = final.with_name(f".{final.stem}.tmp{final.suffix}")
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write a text file atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
