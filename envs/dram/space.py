"""The DRAM controller design space: DRAMSys' memory-controller options as ArchGym exposes them.

Two spaces:

* ``space="standard"``: the ten knobs of ArchGym's DRAMSys case study (page policy, scheduler,
  scheduler buffer, response queue, refresh policy and its postpone / pull-in limits, arbiter,
  request buffer size, max active transactions);
* ``space="extended"``: those plus DRAMSys' command multiplexer (``cmd_mux``), the grouping and
  watermark schedulers (``GrpFrFcfs``, ``GrpFrFcfsWm`` with ``high_watermark`` /
  ``low_watermark``), Ramulator's FR-FCFS row-hit cap (``row_hit_cap``) and power-down
  (``power_down`` with ``power_down_timeout``).

The simulator fills nothing in: a design gives the ten standard knobs, and the six extended ones
all or none (without them the controller is the standard one, :data:`EXTENDED_DEFAULTS`).
:data:`DEFAULT_DESIGN` is DRAMSys' example configuration, a starting point to copy from.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from archgym.design_space import Categorical, DesignSpace, Integer, Ordinal
from archgym.errors import ConfigError

PAGE_POLICIES = ("Open", "OpenAdaptive", "Closed", "ClosedAdaptive")
SCHEDULERS = ("Fifo", "FrFcfs", "FrFcfsGrp")
EXTENDED_SCHEDULERS = (*SCHEDULERS, "GrpFrFcfs", "GrpFrFcfsWm")
SCHEDULER_BUFFERS = ("Bankwise", "ReadWrite", "Shared")
RESPONSE_QUEUES = ("Fifo", "Reorder")
REFRESH_POLICIES = ("NoRefresh", "AllBank", "PerBank", "SameBank")
ARBITERS = ("Simple", "Fifo", "Reorder")
CMD_MUXES = ("Oldest", "Strict")
POWER_DOWN_POLICIES = ("NoPowerDown", "Staggered")
#: row-hit cap values of the extended space (0 = no cap, plain FR-FCFS)
ROW_HIT_CAPS = (0, 1, 2, 4, 8, 16, 32, 64)
ENCODINGS = ("pow2", "linear")
SPACES = ("standard", "extended")

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

#: Defaults of the extended knobs: DRAMSys' Oldest multiplexer, no row-hit cap, no power-down;
#: the watermarks act only with ``GrpFrFcfsWm``.
EXTENDED_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {
        "cmd_mux": "Oldest",
        "high_watermark": 8,
        "low_watermark": 4,
        "row_hit_cap": 0,
        "power_down": "NoPowerDown",
        "power_down_timeout": 16,
    }
)


def _check(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")


def _policy_knobs(schedulers: tuple[str, ...]) -> list[Any]:
    """The knobs every space shares, with the same values: policies, refresh and arbitration."""
    return [
        Categorical("page_policy", PAGE_POLICIES),
        Categorical("scheduler", schedulers),
        Categorical("scheduler_buffer", SCHEDULER_BUFFERS),
        Categorical("response_queue", RESPONSE_QUEUES),
        Categorical("refresh_policy", REFRESH_POLICIES),
        Integer("refresh_max_postponed", 1, 8),
        Integer("refresh_max_pulledin", 1, 8),
        Categorical("arbiter", ARBITERS),
    ]


def dram_design_space(
    max_active_encoding: str = "pow2", buffer_encoding: str = "pow2", space: str = "standard"
) -> DesignSpace:
    """The controller knobs.

    Args:
        max_active_encoding: ``"pow2"`` (1, 2, 4, ..., 128: what ArchGym's RL agents use) or
            ``"linear"`` (every integer 1..128).
        buffer_encoding: ``request_buffer_size`` (and the watermarks) as ``"pow2"`` (1, 2, 4,
            ..., 128: ArchGym's GA/RL decoders) or ``"linear"`` (1..8: ArchGym's random walker).
        space: ``"standard"`` (ten knobs) or ``"extended"`` (sixteen, see the module docstring).
    """
    _check("max_active_encoding", max_active_encoding, ENCODINGS)
    _check("buffer_encoding", buffer_encoding, ENCODINGS)
    _check("space", space, SPACES)
    pow2_buf = buffer_encoding == "pow2"
    params: list[Any] = [
        *_policy_knobs(SCHEDULERS if space == "standard" else EXTENDED_SCHEDULERS),
        Integer("request_buffer_size", 1, 128 if pow2_buf else 8, log2=pow2_buf),
        Integer("max_active_transactions", 1, 128, log2=max_active_encoding == "pow2"),
    ]
    if space == "extended":
        params += [
            Categorical("cmd_mux", CMD_MUXES),
            Integer("high_watermark", 1, 128 if pow2_buf else 8, log2=pow2_buf),
            Ordinal("low_watermark", (0, 1, 2, 4, 8, 16, 32, 64) if pow2_buf else tuple(range(8))),
            Ordinal("row_hit_cap", ROW_HIT_CAPS),
            Categorical("power_down", POWER_DOWN_POLICIES),
            Integer("power_down_timeout", 1, 1024, log2=True),
        ]
    return DesignSpace(params)


def simulator_design_space() -> DesignSpace:
    """Every design the simulator accepts: the extended knobs with integer ranges
    (``request_buffer_size`` and the watermarks 1..128 in steps of one, ``row_hit_cap`` 0..1024,
    ``power_down_timeout`` 1..4096 cycles)."""
    return DesignSpace(
        [
            *_policy_knobs(EXTENDED_SCHEDULERS),
            Integer("request_buffer_size", 1, 128),
            Integer("max_active_transactions", 1, 128),
            Categorical("cmd_mux", CMD_MUXES),
            Integer("high_watermark", 1, 128),
            Integer("low_watermark", 0, 127),
            Integer("row_hit_cap", 0, 1024),
            Categorical("power_down", POWER_DOWN_POLICIES),
            Integer("power_down_timeout", 1, 4096),
        ]
    )
