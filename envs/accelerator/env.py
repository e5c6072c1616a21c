"""``archgym/Accelerator-v0``: DNN-accelerator design as an ArchGym environment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import numpy as np

from archgym.env import ArchGymEnv
from archgym.objective import ConstraintSpec, objective_from_config, round_up_significant

from .layers import Layer
from .networks import Workload, as_workload
from .simulator import AcceleratorSimulator
from .space import accelerator_design_space

ENV_ID = "archgym/Accelerator-v0"
TARGET_METRICS: tuple[str, ...] = ("latency_ms", "energy_uj", "area_mm2")


def default_targets(
    workload: Workload | str = "resnet18",
    n_samples: int = 512,
    seed: int = 0,
    simulator: AcceleratorSimulator | None = None,
) -> dict[str, float]:
    """Achievable but demanding targets from the model's own range on ``workload``.

    The model is ``simulator``, by default the env's: the hierarchy model.

    Draws ``n_samples`` designs uniformly (fixed ``seed``), keeps those with area at most the
    sample's 25th percentile, and returns the metrics of the one with the least energy-delay
    product among them, rounded up to two significant digits. Deterministic.
    """
    sim = simulator or AcceleratorSimulator(model="hierarchy")
    space = accelerator_design_space()
    rng = np.random.default_rng(seed)
    designs = [space.from_indices(i) for i in space.sample_indices(rng, n_samples)]
    m = sim.evaluate_arrays(designs, workload)
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
    device: str = "cpu",
    simulator: str = "hierarchy",
    evaluation_timeout_s: float = 600.0,
    rf_port_stalls: bool = False,
    mapper_objective: str = "latency",
    **kwargs: Any,
) -> ArchGymEnv:
    """Build the accelerator environment.

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
        device: ``cpu`` or ``cuda`` for the model.
        simulator: ``hierarchy`` (default): each design's template
            :class:`~.architecture.Architecture` costed by the compiled hierarchy model (a
            loop-order search per layer, port stalls, on/off-loading; within about 1.0x of
            ZigZag, some hundred ResNet-18 designs a second); ``template``: the vectorised
            four-template roofline model (tens of thousands of designs a second, for bulk
            datasets; ranks designs less like ZigZag); ``zigzag``: ZigZag per layer in a
            worker process (:mod:`.zigzag_simulator`; its default targets come from the
            hierarchy model). ``native`` means the default. On the command line,
            ``env.simulator=template`` (or ``hierarchy``, ``zigzag``) does the same.
        evaluation_timeout_s: ZigZag's wall-clock limit per design (a timed-out design is
            logged as a failed evaluation and the run goes on).
        rf_port_stalls: the template model adds the register files' port stalls (see
            :class:`~.simulator.AcceleratorSimulator`; ``+env.kwargs.rf_port_stalls=true``).
        mapper_objective: what the hierarchy model's mapper minimises per layer, as ZigZag's
            ``opt``: ``latency`` (default), ``energy`` or ``edp``
            (``+env.kwargs.mapper_objective=energy``; the hierarchy and zigzag simulators).
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
    if simulator not in ("native", "hierarchy", "template", "zigzag"):
        raise ValueError(f"simulator must be hierarchy, template or zigzag, got {simulator!r}")
    model = "template" if simulator == "template" else "hierarchy"
    if rf_port_stalls and model != "template":
        raise ValueError(
            "rf_port_stalls applies to the template model: also set simulator=template "
            "(+env.kwargs.simulator=template); the hierarchy model has port stalls of its own"
        )
    if mapper_objective != "latency" and model != "hierarchy":
        raise ValueError("mapper_objective applies to the hierarchy and zigzag simulators, not template")
    sim = AcceleratorSimulator(
        device=device, rf_port_stalls=rf_port_stalls, model=model, mapper_objective=mapper_objective
    )
    objective = objective_from_config(
        sim.metrics,
        targets=targets,
        default_targets=lambda: default_targets(wl, simulator=sim),
        tolerance=tolerance,
        modes=modes,
        default_mode="at_most",
        constraints=constraints,
        budgets={"area_mm2": area_budget_mm2},
    )
    env = ArchGymEnv(
        accelerator_design_space(),
        _zigzag({"evaluation_timeout_s": evaluation_timeout_s, "mapper_objective": mapper_objective})
        if simulator == "zigzag"
        else sim,
        wl,
        objective,
        episode_length=episode_length,
        env_id=ENV_ID,
        workload_name=wl.name,
        **kwargs,
    )
    # env.simulator=zigzag / hierarchy / template
    env.simulator_factories = {  # type: ignore[attr-defined]
        "zigzag": _zigzag,
        "hierarchy": _hierarchy,
        "template": _template,
    }
    return env


def _hierarchy(spec: Mapping[str, Any]) -> AcceleratorSimulator:
    """The hierarchy-model :class:`~.simulator.AcceleratorSimulator` from an ``env.simulator`` config."""
    return AcceleratorSimulator(
        device=str(spec.get("device", "cpu")),
        model="hierarchy",
        ws_im2col=bool(spec.get("im2col", True)),
        mapper_objective=str(spec.get("mapper_objective", "latency")),
    )


def _template(spec: Mapping[str, Any]) -> AcceleratorSimulator:
    """The template-model :class:`~.simulator.AcceleratorSimulator` from an ``env.simulator`` config."""
    return AcceleratorSimulator(
        device=str(spec.get("device", "cpu")),
        model="template",
        ws_im2col=bool(spec.get("im2col", True)),
        rf_port_stalls=bool(spec.get("rf_port_stalls", False)),
    )


def _zigzag(spec: Mapping[str, Any]) -> Any:
    """A :class:`~.zigzag_simulator.ZigZagSimulator` from an ``env.simulator`` config."""
    from .zigzag_simulator import ZigZagSimulator

    return ZigZagSimulator(
        evaluation_timeout_s=float(spec.get("evaluation_timeout_s", 600.0)),
        im2col=bool(spec.get("im2col", True)),
        mapper_objective=str(spec.get("mapper_objective", "latency")),
    )
