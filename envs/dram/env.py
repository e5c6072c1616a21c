"""``archgym/DRAMController-v0``: tune a DRAM memory controller for a trace against latency
and power targets (ArchGym's DRAMSys case study) on the simulator of this package."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from archgym.env import ArchGymEnv
from archgym.objective import ConstraintSpec, objective_from_config, round_up_significant

from .simulator import DRAMSimulator
from .space import dram_design_space
from .traces import Trace
from .workloads import STANDARD_WORKLOADS, load_workload

ENV_ID = "archgym/DRAMController-v0"
TARGET_METRICS: tuple[str, ...] = ("avg_read_latency_ns", "power_mw")

#: Default targets of the standard workloads on DDR4-2400 (default mapping, one channel), as
#: produced by :func:`default_targets` (``n_samples=256, seed=0``) and stored so that making
#: an env costs no simulation. ``tests/test_dram_env.py`` checks they still match the model.
STANDARD_TARGETS: Mapping[str, Mapping[str, float]] = {
    "stream": {"avg_read_latency_ns": 120.0, "power_mw": 2000.0},
    "random": {"avg_read_latency_ns": 67.0, "power_mw": 2500.0},
    "cloud-1": {"avg_read_latency_ns": 110.0, "power_mw": 1700.0},
    "cloud-2": {"avg_read_latency_ns": 240.0, "power_mw": 2700.0},
}


def default_targets(
    workload: Trace | str = "stream",
    n_samples: int = 256,
    seed: int = 0,
    simulator: DRAMSimulator | None = None,
) -> dict[str, float]:
    """Reachable but demanding latency and power budgets from the simulator's own range.

    Samples ``n_samples`` designs uniformly (``seed``), normalises each design's average read
    latency and power by the best (smallest) values in the sample, and returns the metrics of
    the design with the smallest sum of the two, rounded up to two significant digits: a design
    that is close to the best latency and the best power at once. Deterministic. Typically only
    a few percent of random designs meet both budgets.
    """
    sim = simulator or DRAMSimulator()
    trace = load_workload(workload)
    space = dram_design_space("pow2")
    rng = np.random.default_rng(seed)
    designs = [space.from_indices(i) for i in space.sample_indices(rng, n_samples)]
    ms = sim.evaluate_many(designs, trace)
    lat = np.array([m["avg_read_latency_ns"] for m in ms])
    pw = np.array([m["power_mw"] for m in ms])
    best = int(np.argmin(lat / lat.min() + pw / pw.min()))
    return {
        "avg_read_latency_ns": round_up_significant(float(lat[best])),
        "power_mw": round_up_significant(float(pw[best])),
    }


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
        constraints: hard limits such as ``"bandwidth_gbps>=10"``.
        episode_length: steps per episode.
        device: DRAM device name (``DDR4-2400``, ``DDR3-1600``).
        address_mapping: mapping string (device default if None).
        channels: number of channels.
        max_active_encoding: ``pow2`` (ArchGym's RL encoding) or ``linear`` (1..128).
        n_requests: truncate / size the workload.
        seed: generator seed for generated workloads.
        **kwargs: passed to :class:`~archgym.env.ArchGymEnv` (``action_encoding``,
            ``observe_design``, ``render_mode``).
    """
    sim = DRAMSimulator(device=device, address_mapping=address_mapping, channels=channels)
    trace = load_workload(workload, n_requests=n_requests, seed=seed)

    def standard_or_derived_targets() -> dict[str, float]:
        if (
            isinstance(workload, str)
            and workload in STANDARD_WORKLOADS
            and n_requests is None
            and seed == 0
            and sim.device.name == "DDR4-2400"
            and address_mapping is None
            and channels == 1
        ):
            return dict(STANDARD_TARGETS[workload])
        return default_targets(trace, simulator=sim)

    objective = objective_from_config(
        sim.metrics,
        targets=targets,
        default_targets=standard_or_derived_targets,
        tolerance=tolerance,
        modes=modes,
        default_mode="at_most",
        constraints=constraints,
    )
    name = workload if isinstance(workload, str) else trace.name
    return ArchGymEnv(
        dram_design_space(max_active_encoding),
        sim,
        trace,
        objective,
        episode_length=episode_length,
        env_id=ENV_ID,
        workload_name=str(name),
        **kwargs,
    )
