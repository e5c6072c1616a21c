"""``archgym/SoC-v0``: allocate, connect and map an SoC for an AR/VR workload against its
latency, power and area budgets (ArchGym's FARSI case study) on the simulator of this package."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from archgym.env import ArchGymEnv
from archgym.objective import ConstraintSpec, objective_from_config

from .simulator import SoCSimulator
from .space import soc_design_space
from .taskgraph import TaskGraph, load_workload
from .technology import DEFAULT_NODE_NM, Technology

ENV_ID = "archgym/SoC-v0"
TARGET_METRICS: tuple[str, ...] = ("latency_ms", "power_mw", "area_mm2")


def default_targets(graph: TaskGraph) -> dict[str, float]:
    """The workload's budgets (FARSI's), as targets on latency, power and area."""
    return {k: graph.budgets[k] for k in TARGET_METRICS if k in graph.budgets}


def make_soc_env(
    workload: str | Path | TaskGraph = "audio_decoder",
    targets: Mapping[str, float] | None = None,
    tolerance: float = 0.05,
    modes: Mapping[str, str] | None = None,
    constraints: Iterable[ConstraintSpec] | None = None,
    episode_length: int = 32,
    n_pe: int = 3,
    n_mem: int = 3,
    n_bus: int = 3,
    node_nm: int = DEFAULT_NODE_NM,
    overlap: bool = True,
    dram_channels: str = "separate",
    interconnect: str = "bus",
    figures: str = "published",
    **kwargs: Any,
) -> ArchGymEnv:
    """Build the SoC environment.

    Args:
        workload: ``audio_decoder``, ``edge_detection``, ``hpvm_cava``, ``ar_vr_soc`` (all three
            at once), a workload file (format: ``envs/soc/taskgraph.py``) or a :class:`TaskGraph`.
        targets: ``{metric: value}``; default: the workload's budgets on ``latency_ms``,
            ``power_mw`` and ``area_mm2``.
        tolerance: relative tolerance for success (every target within it).
        modes: per target ``exact`` / ``at_most`` / ``at_least``; default ``at_most`` for every
            target (they are budgets).
        constraints: hard limits such as ``"latency_budget_met>=1"``.
        episode_length: steps per episode.
        n_pe, n_mem, n_bus: slots of each block kind (ArchGym uses 3 each).
        node_nm: technology node: 7 (default: FARSI's scaling of its database), 16, 22, 32 or 45
            (the database's figures as they are); see :mod:`.technology`.
        overlap: True (FARSI's model): a task's reads, computation and write overlap; False: they
            run one after the other.
        dram_channels: ``separate`` (FARSI's GMEM: a read and a write channel) or ``shared``
            (one data bus for both directions, one LPDDR4 channel's peak).
        interconnect: ``bus`` (a bus slot is one shared medium) or ``crossbar`` (FARSI's: a port
            per memory or bridged bus it leads to).
        figures: ``published`` (memory and wire figures of the literature, see
            :mod:`.technology`) or ``farsi`` (the placeholders FARSI's database uses with CACTI
            off; for cross-checks only).
        **kwargs: passed to :class:`~archgym.env.ArchGymEnv` (``action_encoding``,
            ``observe_design``, ``render_mode``).
    """
    graph = load_workload(workload)
    tech = Technology(node_nm=int(node_nm), figures=figures)
    sim = SoCSimulator(
        n_pe, n_mem, n_bus, tech, overlap=overlap, dram_channels=dram_channels, interconnect=interconnect
    )
    objective = objective_from_config(
        sim.metrics,
        targets=targets,
        default_targets=lambda: default_targets(graph),
        tolerance=tolerance,
        modes=modes,
        default_mode="at_most",
        constraints=constraints,
    )
    return ArchGymEnv(
        soc_design_space(graph, n_pe, n_mem, n_bus),
        sim,
        graph,
        objective,
        episode_length=episode_length,
        env_id=ENV_ID,
        workload_name=graph.name,
        **kwargs,
    )
