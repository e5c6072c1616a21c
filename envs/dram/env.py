"""``archgym/DRAMController-v0``: tune a DRAM memory controller for a trace against latency
and power targets (ArchGym's DRAMSys case study) on the simulator of this package."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from archgym.design_space import DesignSpace
from archgym.env import ArchGymEnv
from archgym.objective import ConstraintSpec, objective_from_config, round_up_significant

from .simulator import DecodedTrace, DRAMSimulator
from .space import dram_design_space
from .traces import Trace
from .workloads import STANDARD_WORKLOADS, load_workload

ENV_ID = "archgym/DRAMController-v0"
TARGET_METRICS: tuple[str, ...] = ("avg_read_latency_ns", "power_mw")

#: Default targets of the standard workloads on DDR4-2400 (default mapping, one channel, standard
#: space), as produced by :func:`default_objective` (``n_samples=256, seed=0``) and stored so
#: that making an env costs no simulation. ``tests/test_dram_env.py`` checks they still match.
STANDARD_TARGETS: Mapping[str, Mapping[str, float]] = {
    "stream": {"avg_read_latency_ns": 86.0, "power_mw": 2100.0},
    "random": {"avg_read_latency_ns": 60.0, "power_mw": 2500.0},
    "cloud-1": {"avg_read_latency_ns": 33.0, "power_mw": 1700.0},
    "cloud-2": {"avg_read_latency_ns": 71.0, "power_mw": 2500.0},
}
#: The keep-up constraints that go with :data:`STANDARD_TARGETS` (see :func:`default_objective`).
STANDARD_CONSTRAINTS: Mapping[str, tuple[str, ...]] = {
    "stream": ("bandwidth_gbps>=12",),
    "random": ("bandwidth_gbps>=7.7",),
    "cloud-1": ("bandwidth_gbps>=10",),
    "cloud-2": ("bandwidth_gbps>=10",),
}


#: the configuration :data:`STANDARD_TARGETS` were measured on: ``make_dram_env``'s keyword
#: arguments (normalised: the device by its name, the mapping by its spec) besides the workload
STANDARD_CONFIG: Mapping[str, Any] = {
    "device": "DDR4-2400",
    "address_mapping": None,  # the device's default mapping, however it is spelled
    "channels": 1,
    "ranks": 1,
    "space": "standard",
    "max_active_encoding": "pow2",
    "buffer_encoding": "pow2",
    "n_requests": None,
    "seed": 0,
}


def _is_standard(workload: object, sim: DRAMSimulator, config: Mapping[str, Any]) -> bool:
    """Whether ``workload`` with ``config`` is a standard workload in :data:`STANDARD_CONFIG`."""
    default_mapping = DRAMSimulator(sim.device, None, sim.channels, sim.ranks).mapping.spec
    normalised = {
        **config,
        "device": sim.device.name,
        "address_mapping": None if sim.mapping.spec == default_mapping else sim.mapping.spec,
    }
    return (
        isinstance(workload, str)
        and workload in STANDARD_WORKLOADS
        and all(normalised[k] == v for k, v in STANDARD_CONFIG.items())
    )


def _round_down_significant(x: float, digits: int = 2) -> float:
    if x <= 0:
        return 0.0
    step = 10.0 ** (math.floor(math.log10(x)) - digits + 1)
    return float(f"{math.floor(x / step + 1e-9) * step:.{digits + 2}g}")


def default_objective(
    workload: Trace | str | DecodedTrace = "stream",
    n_samples: int = 256,
    seed: int = 0,
    simulator: DRAMSimulator | None = None,
    space: DesignSpace | None = None,
) -> tuple[dict[str, float], list[str]]:
    """Reachable but demanding latency and power budgets, and the keep-up constraint.

    Latency is counted inside the controller (see :mod:`.simulator`), so a design that throttles
    the workload (one active transaction, a one-entry buffer) has a short latency and a low
    power while the trace waits outside. The objective therefore requires the design to keep
    up: ``bandwidth_gbps >= 0.95 x min(offered bandwidth, best sampled bandwidth)`` (rounded
    down to two significant digits). Samples ``n_samples`` designs uniformly (``seed``); among
    those that keep up, normalises average read latency and power by their best values and
    takes the design with the smallest sum, rounded up to two significant digits: a design
    close to the best latency and the best power at once. Deterministic. ``space`` is the env's
    design space (default: the standard space with the default encodings).

    Returns:
        ``(targets, constraints)``, e.g. ``({"avg_read_latency_ns": 41, "power_mw": 2000},
        ["bandwidth_gbps>=12"])``.
    """
    sim = simulator or DRAMSimulator()
    decoded = sim.workload_data(workload)
    trace = decoded.trace
    space = space or dram_design_space()
    rng = np.random.default_rng(seed)
    designs = [space.from_indices(i) for i in space.sample_indices(rng, n_samples)]
    ms = sim.evaluate_many(designs, decoded)
    lat = np.array([m["avg_read_latency_ns"] for m in ms])
    pw = np.array([m["power_mw"] for m in ms])
    bw = np.array([m["bandwidth_gbps"] for m in ms])
    span_ns = trace.duration_ns
    offered = len(trace) * sim.device.access_bytes / span_ns if span_ns > 0 else math.inf
    floor = _round_down_significant(0.95 * min(offered, float(bw.max())))
    ok = bw >= floor
    score = np.where(ok, lat / lat[ok].min() + pw / pw[ok].min(), np.inf)
    best = int(np.argmin(score))
    targets = {
        "avg_read_latency_ns": round_up_significant(float(lat[best])),
        "power_mw": round_up_significant(float(pw[best])),
    }
    return targets, [f"bandwidth_gbps>={floor:g}"]


def default_targets(
    workload: Trace | str | DecodedTrace = "stream",
    n_samples: int = 256,
    seed: int = 0,
    simulator: DRAMSimulator | None = None,
    space: DesignSpace | None = None,
) -> dict[str, float]:
    """The targets of :func:`default_objective` (without its keep-up constraint)."""
    return default_objective(workload, n_samples, seed, simulator, space)[0]


def make_dram_env(
    workload: str | Trace = "stream",
    targets: Mapping[str, float] | None = None,
    tolerance: float = 0.05,
    modes: Mapping[str, str] | None = None,
    constraints: Iterable[ConstraintSpec] | None = None,
    episode_length: int = 32,
    device: str = "DDR4-2400",
    address_mapping: str | None = None,
    channels: int = 1,
    max_active_encoding: str = "pow2",
    n_requests: int | None = None,
    seed: int = 0,
    buffer_encoding: str = "pow2",
    space: str = "standard",
    ranks: int = 1,
    trace_format: str | None = None,
    **kwargs: Any,
) -> ArchGymEnv:
    """Build the DRAM controller environment.

    Args:
        workload: ``stream``, ``random``, ``cloud-1``, ``cloud-2``, a generator spec
            (``"random:interval_ns=5"``), a trace file path, or a :class:`Trace`.
        targets: ``{metric: value}``, e.g. ``{"avg_read_latency_ns": 40, "power_mw": 900}``;
            default: :data:`STANDARD_TARGETS` for the standard workloads on DDR4-2400 with the
            default mapping, else :func:`default_targets` on the workload.
        tolerance: relative tolerance for success (every target within it).
        modes: per target ``exact`` / ``at_most`` / ``at_least``; default ``at_most`` for every
            target (latency and power are budgets).
        constraints: hard limits such as ``"bandwidth_gbps>=10"``; default (None): the
            keep-up constraint of :func:`default_objective` for the workload
            (:data:`STANDARD_CONSTRAINTS` for the standard workloads, also with given targets;
            derived with derived targets; none with given targets on other workloads). ``[]``
            for none.
        episode_length: steps per episode.
        device: DRAM device name (``DDR4-2400``, ``DDR3-1600``, ``DDR5-4800``, ``LPDDR4-3200``).
        address_mapping: mapping string (device default if None).
        channels: number of channels.
        max_active_encoding: ``pow2`` (ArchGym's RL encoding) or ``linear`` (1..128).
        n_requests: truncate / size the workload.
        seed: generator seed for generated workloads.
        buffer_encoding: ``request_buffer_size`` as ``pow2`` (1, 2, ..., 128: ArchGym's GA/RL
            decoders) or ``linear`` (1..8: ArchGym's random walker).
        space: ``standard`` (ArchGym's ten knobs) or ``extended`` (plus cmd_mux, the grouping
            and watermark schedulers, row-hit cap, power-down; see :mod:`.space`).
        ranks: ranks per channel (1, 2, 4).
        trace_format: for a trace file: ``dramsys`` / ``ramulator`` with optional options
            (``"ramulator:interval_ns=1.25"``); None or ``auto`` detects it from the content.
        **kwargs: passed to :class:`~archgym.env.ArchGymEnv` (``action_encoding``,
            ``observe_design``, ``render_mode``).
    """
    sim = DRAMSimulator(device=device, address_mapping=address_mapping, channels=channels, ranks=ranks)
    design_space = dram_design_space(max_active_encoding, buffer_encoding, space)
    trace = load_workload(workload, n_requests=n_requests, seed=seed, trace_format=trace_format)
    prepared = sim.prepare(trace)  # decoded and checked once, for the targets and the env
    config = {
        "device": device,
        "address_mapping": address_mapping,
        "channels": channels,
        "ranks": ranks,
        "space": space,
        "max_active_encoding": max_active_encoding,
        "buffer_encoding": buffer_encoding,
        "n_requests": n_requests,
        "seed": seed,
    }
    standard = _is_standard(workload, sim, config)
    # targets and the keep-up constraint are derived together (derivation costs simulations)
    derived: list[str] = []
    tg: Mapping[str, float] | None = targets
    if targets:
        if standard:
            derived = list(STANDARD_CONSTRAINTS[str(workload)])
    elif standard:
        tg = dict(STANDARD_TARGETS[str(workload)])
        derived = list(STANDARD_CONSTRAINTS[str(workload)])
    else:
        tg, derived = default_objective(prepared.data, simulator=sim, space=design_space)
    objective = objective_from_config(
        sim.metrics,
        targets=tg,
        tolerance=tolerance,
        modes=modes,
        default_mode="at_most",
        constraints=derived if constraints is None else constraints,
    )
    name = workload if isinstance(workload, str) else trace.name
    return ArchGymEnv(
        design_space,
        sim,
        prepared,
        objective,
        episode_length=episode_length,
        env_id=ENV_ID,
        workload_name=str(name),
        **kwargs,
    )
