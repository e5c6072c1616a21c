"""Where a dataset row came from: package version, workload fingerprint, cost-model source.

These values go into every row (see :mod:`archgym.logger`) so that a row keeps its meaning
after datasets are merged: which archgym wrote it, on exactly which workload bytes, and
whether a simulator or a trained proxy produced its metrics.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

#: the ``source`` of rows whose metrics a simulator computed (proxies: ``proxy:<kind>:<hash>``)
SIMULATOR_SOURCE = "simulator"
PROXY_SOURCE_PREFIX = "proxy:"


def archgym_version() -> str:
    """The installed archgym version."""
    import archgym

    return str(archgym.__version__)


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def workload_hash(workload: Any) -> str:
    """SHA-256 (hex) of a trace file's bytes when ``workload`` names a file, else of its spec text.

    A generator spec (``"random:interval_ns=5"``), a standard workload name or a network name is
    hashed as text; the env's keyword arguments (sizes, seeds) are recorded next to it.
    """
    text = os.fspath(workload) if isinstance(workload, (str, os.PathLike)) else str(workload)
    try:
        path = Path(text).expanduser()
        if text and path.is_file():
            return file_sha256(path)
    except (OSError, ValueError):  # not a usable path (too long, NUL bytes): hash it as text
        pass
    return hashlib.sha256(text.encode()).hexdigest()


def simulator_source(simulator: Any) -> str:
    """``"simulator"``, or what a stand-in for the simulator says it is: its ``source``
    attribute (a proxy's ``proxy:<kind>:<hash>``, see :class:`archgym.proxy.simulator.ProxySimulator`)."""
    label = getattr(simulator, "source", None)
    return str(label) if label else SIMULATOR_SOURCE


def is_proxy_source(source: Any) -> bool:
    return isinstance(source, str) and source.startswith(PROXY_SOURCE_PREFIX)


__all__ = [
    "PROXY_SOURCE_PREFIX",
    "SIMULATOR_SOURCE",
    "archgym_version",
    "file_sha256",
    "is_proxy_source",
    "simulator_source",
    "workload_hash",
]
