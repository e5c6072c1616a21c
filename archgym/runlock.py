"""One writer per run directory: an exclusive lock held for a run's whole life.

A run locks ``<run dir>/.archgym.lock`` (an OS-level lock through :mod:`filelock`, released
by the kernel when the process dies) and writes its holder (pid, host, start time) into the
file. A second run aimed at the same directory fails at once with :class:`RunLockedError`
naming the directory and the holder. A clean release empties the file; a lock file that still
names a holder when it is acquired was left by a process that died (``kill -9``, a lost node):
it is taken over with a warning.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import socket
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any

from filelock import FileLock, Timeout

from archgym.errors import RunLockedError as RunLockedError
from archgym.errors import StaleLockWarning as StaleLockWarning

LOCK_FILE = ".archgym.lock"


def _holder_text(info: dict[str, Any]) -> str:
    return f"pid {info.get('pid', '?')} on host {info.get('host', '?')} since {info.get('since', '?')}"


def read_holder(directory: str | os.PathLike) -> dict[str, Any] | None:
    """The holder recorded in a directory's lock file, or ``None`` (no lock file, or released)."""
    path = Path(directory) / LOCK_FILE
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if not text:
        return None
    try:
        info = json.loads(text)
    except ValueError:
        return {"pid": "?", "host": "?", "since": "?", "raw": text[:80]}
    return info if isinstance(info, dict) else None


class RunLock:
    """Exclusive, non-blocking lock on a run directory (use as a context manager).

    Raises:
        RunLockedError: from :meth:`acquire` when another live process holds the lock.
    """

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOCK_FILE
        self._lock = FileLock(str(self.path), timeout=0)
        self.took_over: dict[str, Any] | None = None

    @property
    def held(self) -> bool:
        return bool(self._lock.is_locked)

    def acquire(self) -> RunLock:
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            holder = read_holder(self.directory)
            who = _holder_text(holder) if holder else "another process"
            raise RunLockedError(
                f"{self.directory} is in use by another run ({who}); wait for it to finish or choose "
                "another directory (hydra.run.dir / hydra.sweep.dir)"
            ) from None
        stale = read_holder(self.directory)
        if stale is not None:
            self.took_over = stale
            warnings.warn(
                f"{self.directory}: taking over the lock left by a run that is no longer running "
                f"({_holder_text(stale)})",
                StaleLockWarning,
                stacklevel=2,
            )
        self._write(
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "since": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            }
        )
        return self

    def _write(self, info: dict[str, Any] | None) -> None:
        with open(self.path, "r+") as f:
            f.truncate(0)
            if info is not None:
                f.write(json.dumps(info))
            f.flush()
            os.fsync(f.fileno())

    def release(self, remove: bool = False) -> None:
        """Mark the lock released (empty file) and unlock; a no-op when not held.

        With ``remove`` the lock file is deleted instead, while still held (a process that
        opened it before then finds it locked; one that opens it later gets a new file).
        """
        if not self.held:
            return
        try:
            if remove:
                self.path.unlink(missing_ok=True)
            else:
                self._write(None)
        finally:
            self._lock.release()

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


__all__ = ["LOCK_FILE", "RunLock", "RunLockedError", "StaleLockWarning", "read_holder"]
