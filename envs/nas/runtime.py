"""Small torch helpers shared by the NAS evaluators: device choice and seeded construction."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"cuda"`` without a GPU is an error."""
    if isinstance(device, torch.device):
        return device
    if device not in DEVICES and not str(device).startswith("cuda:"):
        raise ValueError(f"device must be one of {', '.join(DEVICES)} (or 'cuda:<n>'), got {device!r}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but no CUDA GPU is available; use 'cpu' or 'auto'")
    return torch.device(device)


@contextlib.contextmanager
def seeded(seed: int, device: torch.device | None = None) -> Iterator[None]:
    """Run a block with torch's global RNG seeded to ``seed``, restoring the caller's RNG state after.

    Network construction (weight initialisation) uses torch's global generator; wrapping it
    here makes every build deterministic without leaking state into the caller.
    """
    devices = [device.index or 0] if device is not None and device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        yield


@contextlib.contextmanager
def cpu_threads(n: int | None, device: torch.device | None = None) -> Iterator[None]:
    """Run a block with ``n`` torch intra-op CPU threads, restoring the previous count after.

    These networks are small: on a shared or loaded machine more threads cost far more in
    synchronisation than they gain (10x slower with 2 threads was measured here), so the
    evaluators default to one. ``None`` (or a CUDA device) leaves torch's setting alone.
    """
    if n is None or (device is not None and device.type != "cpu"):
        yield
        return
    if n < 1:
        raise ValueError(f"cpu threads must be >= 1 or None, got {n}")
    before = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


__all__ = ["DEVICES", "cpu_threads", "resolve_device", "seeded"]
