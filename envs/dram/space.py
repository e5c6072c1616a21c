"""The DRAM controller design space: DRAMSys' memory-controller options as ArchGym exposes them."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from archgym.design_space import Categorical, DesignSpace, Integer

PAGE_POLICIES = ("Open", "OpenAdaptive", "Closed", "ClosedAdaptive")
SCHEDULERS = ("Fifo", "FrFcfs", "FrFcfsGrp")
SCHEDULER_BUFFERS = ("Bankwise", "ReadWrite", "Shared")
RESPONSE_QUEUES = ("Fifo", "Reorder")
REFRESH_POLICIES = ("NoRefresh", "AllBank", "PerBank", "SameBank")
ARBITERS = ("Simple", "Fifo", "Reorder")

#: DRAMSys' example controller configuration (configs/mcconfig), used as the default design.
DEFAULT_DESIGN: Mapping[str, Any] = MappingProxyType(
    {
        "page_policy": "Open",
        "scheduler": "FrFcfs",
        "scheduler_buffer": "Bankwise",
        "response_queue": "Fifo",
        "refresh_policy": "AllBank",
        "refresh_max_postponed": 8,
        "refresh_max_pulledin": 8,
        "arbiter": "Simple",
        "request_buffer_size": 8,
        "max_active_transactions": 128,
    }
)


def dram_design_space(max_active_encoding: str = "pow2") -> DesignSpace:
    """The ten controller knobs.

    Args:
        max_active_encoding: ``"pow2"`` (1, 2, 4, ..., 128: what ArchGym's RL agents use) or
            ``"linear"`` (every integer 1..128).
    """
    if max_active_encoding not in ("pow2", "linear"):
        raise ValueError(f"max_active_encoding must be 'pow2' or 'linear', got {max_active_encoding!r}")
    return DesignSpace(
        [
            Categorical("page_policy", PAGE_POLICIES),
            Categorical("scheduler", SCHEDULERS),
            Categorical("scheduler_buffer", SCHEDULER_BUFFERS),
            Categorical("response_queue", RESPONSE_QUEUES),
            Categorical("refresh_policy", REFRESH_POLICIES),
            Integer("refresh_max_postponed", 1, 8),
            Integer("refresh_max_pulledin", 1, 8),
            Categorical("arbiter", ARBITERS),
            Integer("request_buffer_size", 1, 8),
            Integer("max_active_transactions", 1, 128, log2=max_active_encoding == "pow2"),
        ]
    )
