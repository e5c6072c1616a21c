"""``archgym/Accelerator-v0``: DNN-accelerator design as an ArchGym environment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import numpy as np

from archgym.env import ArchGymEnv
from archgym.errors import ConfigError
from archgym.objective import ConstraintSpec, objective_from_config, round_up_significant
from archgym.simulator import Simulator, check_settings

from .extended_simulator import ExtendedAcceleratorSimulator
from .layers import Layer
from .networks import Workload, as_workload
from .simulator import AcceleratorSimulator, HierarchySimulator, TemplateSimulator
from .space import accelerator_design_space, extended_design_space

ENV_ID = "archgym/Accelerator-v0"
TARGET_METRICS: tuple[str, ...] = ("latency_ms", "energy_uj", "area_mm2")
#: the design spaces: the 9-knob one and the Timeloop-sized extended one (26 knobs)
SPACES = {"default": accelerator_design_space, "extended": extended_design_space}


def default_targets(
    workload: Workload | str = "resnet18",
    n_samples: int = 512,
    seed: int = 0,
    simulator: AcceleratorSimulator | ExtendedAcceleratorSimulator | None = None,
    space: str = "default",
) -> dict[str, float]:
    """Achievable but demanding targets from the model's own range on ``workload``.

    The model is ``simulator``, by default the env's: the hierarchy model; the designs are
    drawn from the ``space`` (``default`` or ``extended``).

    Draws ``n_samples`` designs uniformly (fixed ``seed``), keeps those with area at most the
    sample's 25th percentile, and returns the metrics of the one with the least energy-delay
    product among them, rounded up to two significant digits. Deterministic.
    """
    sim = simulator or _hierarchy(space)
    ds = SPACES[space]()
    rng = np.random.default_rng(seed)
    designs = [ds.from_indices(i) for i in ds.sample_indices(rng, n_samples)]
    m = sim.evaluate_arrays(designs, sim.workload_data(workload))
    small = m["area_mm2"] <= np.percentile(m["area_mm2"], 25)
    best = int(np.argmin(np.where(small, m["edp"], np.inf)))
    return {k: round_up_significant(float(m[k][best])) for k in TARGET_METRICS}


def make_accelerator_env(
    workload: Workload | str | Sequence[Layer] = "resnet18",
    targets: Mapping[str, float] | None = None,
    constraints: Iterable[ConstraintSpec] | None = None,
    tolerance: float = 0.05,
    modes: Mapping[str, str] | None = None,
    episode_length: int = 32,
    area_budget_mm2: float | None = None,
    batch: int = 1,
    space: str = "default",
    mapper_objective: str = "latency",
    **kwargs: Any,
) -> ArchGymEnv:
    """Build the accelerator environment, on the hierarchy model.

    The model is chosen like every env's simulator, by ``env.simulator=<name>`` (or
    ``make_env(ENV_ID, simulator=...)``): ``hierarchy`` (the default: each design's template
    :class:`~.architecture.Architecture` costed by the compiled hierarchy model, a loop-order
    search per layer, port stalls, on/off-loading; within about 1.0x of ZigZag, some hundred
    ResNet-18 designs a second), ``template`` (the vectorised four-template roofline model, tens
    of thousands of designs a second, for bulk datasets; ranks designs less like ZigZag) or
    ``zigzag`` (ZigZag per layer in a worker process). Default targets always come from the
    hierarchy model.

    Args:
        workload: registered network name (see :func:`~.networks.workload_names`), a
            :class:`~.networks.Workload`, or a list of :class:`~.layers.Layer`.
        targets: ``{metric: value}``; default: :func:`default_targets` on the workload.
        constraints: hard limits such as ``"area_mm2<=20"``.
        tolerance: relative tolerance for success.
        modes: per-target ``exact`` / ``at_most`` / ``at_least``; default ``at_most`` for
            every target (targets are budgets: latency, energy and area below them).
        episode_length: steps per episode.
        area_budget_mm2: shorthand for the constraint ``area_mm2 <= area_budget_mm2``.
        batch: batch size when ``workload`` is a name.
        space: ``default`` (the 9 knobs of :func:`~.space.accelerator_design_space`) or
            ``extended``: the 26-knob Timeloop-sized space of
            :func:`~.space.extended_design_space` (per-operand scratchpads, an optional column
            buffer, a banked global buffer, separate weight and activation bits), costed by the
            hierarchy model only (:mod:`.extended_simulator`).
        mapper_objective: what the hierarchy model's mapper minimises per layer, as ZigZag's
            ``opt``: ``latency`` (default), ``energy`` or ``edp``
            (``+env.kwargs.mapper_objective=energy``); ``env.simulator=hierarchy`` and
            ``zigzag`` take it over unless their settings name another.
        **kwargs: passed to :class:`~archgym.env.ArchGymEnv` (``action_encoding``,
            ``observe_design``, ``render_mode``).
    """
    if isinstance(workload, str):
        from .networks import load_workload

        wl = load_workload(workload, batch)
    else:
        wl = (
            workload
            if isinstance(workload, Workload)
            else as_workload(tuple(cast(Iterable[Layer], workload)))
        )
    if space not in SPACES:
        raise ConfigError(f"env.kwargs.space must be one of {', '.join(SPACES)}, got {space!r}")
    sim = _hierarchy(space, mapper_objective=mapper_objective)
    objective = objective_from_config(
        sim.metrics,
        targets=targets,
        default_targets=lambda: default_targets(wl, simulator=sim, space=space),
        tolerance=tolerance,
        modes=modes,
        default_mode="at_most",
        constraints=constraints,
        budgets={"area_mm2": area_budget_mm2},
    )
    env = ArchGymEnv(
        SPACES[space](),
        sim,
        wl,
        objective,
        episode_length=episode_length,
        env_id=ENV_ID,
        workload_name=wl.name,
        **kwargs,
    )
    return env


def _hierarchy(
    space: str, im2col: bool = True, mapper_objective: str = "latency"
) -> AcceleratorSimulator | ExtendedAcceleratorSimulator:
    """The hierarchy model for designs of ``space`` (the extended space's mapper minimises latency)."""
    if space == "extended":
        if mapper_objective != "latency":
            raise ConfigError(
                f"mapper_objective={mapper_objective!r}: space=extended's mapper minimises latency only"
            )
        return ExtendedAcceleratorSimulator(im2col=im2col)
    return HierarchySimulator(im2col=im2col, mapper_objective=mapper_objective)


def _space_of(env: ArchGymEnv) -> str:
    return "extended" if "w_spad_words" in env.space.names else "default"


def _require_accelerator_env(env: ArchGymEnv, name: str) -> None:
    if env.env_id and env.env_id != ENV_ID:
        raise ConfigError(f"simulator {name!r} costs {ENV_ID} designs, not {env.env_id}'s")
    if name != "hierarchy" and _space_of(env) == "extended":
        raise ConfigError(
            f"simulator {name!r} costs the 9-knob space; space=extended is costed by hierarchy only"
        )


def _env_mapper_objective(env: ArchGymEnv) -> str:
    """The mapper goal of the env's own simulator (``latency`` if it has none)."""
    return str(getattr(getattr(env, "simulator", None), "mapper_objective", "latency"))


def hierarchy_simulator(
    env: ArchGymEnv, settings: Mapping[str, Any]
) -> AcceleratorSimulator | ExtendedAcceleratorSimulator:
    """``env.simulator=hierarchy`` (an ``archgym.simulators`` entry point): the hierarchy model
    (for ``space=extended``: :class:`~.extended_simulator.ExtendedAcceleratorSimulator`)."""
    _require_accelerator_env(env, "hierarchy")
    s = check_settings(
        "hierarchy",
        settings,
        {"device": "cpu", "im2col": True, "mapper_objective": _env_mapper_objective(env)},
    )
    if _space_of(env) == "extended":
        return _hierarchy("extended", bool(s["im2col"]), str(s["mapper_objective"]))
    return HierarchySimulator(
        device=str(s["device"]), im2col=bool(s["im2col"]), mapper_objective=str(s["mapper_objective"])
    )


def template_simulator(env: ArchGymEnv, settings: Mapping[str, Any]) -> TemplateSimulator:
    """``env.simulator=template`` (an ``archgym.simulators`` entry point): the template model."""
    _require_accelerator_env(env, "template")
    s = check_settings("template", settings, {"device": "cpu", "im2col": True, "rf_port_stalls": False})
    return TemplateSimulator(
        device=str(s["device"]), im2col=bool(s["im2col"]), rf_port_stalls=bool(s["rf_port_stalls"])
    )


def zigzag_simulator(env: ArchGymEnv, settings: Mapping[str, Any]) -> Simulator[Any]:
    """``env.simulator=zigzag`` (an ``archgym.simulators`` entry point): ZigZag per layer.

    Raises:
        ZigZagUnavailableError: zigzag-dse is not installed.
    """
    from .zigzag_simulator import ZigZagSimulator

    _require_accelerator_env(env, "zigzag")
    s = check_settings(
        "zigzag",
        settings,
        {"evaluation_timeout_s": 600.0, "im2col": True, "mapper_objective": _env_mapper_objective(env)},
    )
    return ZigZagSimulator(
        evaluation_timeout_s=float(s["evaluation_timeout_s"]),
        im2col=bool(s["im2col"]),
        mapper_objective=str(s["mapper_objective"]),
    )
