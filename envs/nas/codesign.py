"""``archgym/CoDesign-v0``: joint search of a network and the accelerator that runs it.

In the spirit of NASAIC (Yang et al., "Co-Exploration of Neural Architectures and
Heterogeneous ASIC Accelerator Designs Targeting Multiple Tasks", DAC 2020): one design is
a network of a NAS space *and* an accelerator design; the reward asks for accuracy (or a
zero-cost proxy of it) and for the accelerator's latency, energy and area to meet targets.

The joint design space concatenates the network space with parameters prefixed ``net.``
(e.g. ``net.edge_0_1``) and the accelerator space of ``archgym/Accelerator-v0`` prefixed
``hw.`` (e.g. ``hw.pe_rows``). Network metrics are cached per architecture and the
accelerator model runs once per distinct network on all the accelerators it is paired with
in a batch (vectorised).

Default targets: the network target as in ``archgym/NAS-v0`` (the reference design's
``naswot``, or accuracy 0.97 when training), and latency/energy/area from the accelerator
environment's :func:`~archgym.envs.accelerator.env.default_targets` applied to the
reference network's traced layers (a sampled small-area accelerator with the least
energy-delay product), all as budgets (``at_most``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from archgym.env import ArchGymEnv
from archgym.envs.accelerator.env import default_targets as accelerator_default_targets
from archgym.errors import ConfigError
from archgym.objective import ConstraintSpec, Objective, objective_from_config
from archgym.simulator import Metrics

from .env import NASOptions, build_nas_simulator, check_env_options, default_targets
from .evaluators import NASSimulator
from .joint_space import HW_PREFIX, NET_PREFIX, joint_space
from .search_space import NetworkSpace

ENV_ID = "archgym/CoDesign-v0"


def split_design(design: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A joint design -> ``(network design, accelerator design)`` with the prefixes removed."""
    net = {k[len(NET_PREFIX) :]: v for k, v in design.items() if k.startswith(NET_PREFIX)}
    hw = {k[len(HW_PREFIX) :]: v for k, v in design.items() if k.startswith(HW_PREFIX)}
    return net, hw


def join_design(net: Mapping[str, Any], hw: Mapping[str, Any]) -> dict[str, Any]:
    """``(network design, accelerator design)`` -> a joint design."""
    return {**{NET_PREFIX + k: v for k, v in net.items()}, **{HW_PREFIX + k: v for k, v in hw.items()}}


class CoDesignSimulator(NASSimulator):
    """A :class:`NASSimulator` whose designs carry the accelerator (``hw.*``) with the network (``net.*``)."""

    def __init__(self, base: NASSimulator) -> None:
        if base.hardware is None:
            raise ConfigError("co-design needs hardware cost")
        super().__init__(base.space, base.data, base.evaluators, base.hardware, base.accelerator)
        self.joint = joint_space(base.space.space, base.hardware.accelerator_space)
        self.version = base.version.replace("archgym-nas", "archgym-codesign")

    def evaluate_many(self, designs: Sequence[Mapping[str, Any]], workload: str) -> list[Metrics]:
        self.workload_data(workload)  # a workload given directly is checked here
        pairs = [split_design(self.joint.validate(d)) for d in designs]  # no unknown or missing key
        return self.evaluate_pairs([n for n, _ in pairs], [h for _, h in pairs])


def make_codesign_env(
    space: str | NetworkSpace = "cell",
    evaluator: str | Sequence[str] = "proxy",
    *,
    objective: Mapping | Objective | None = None,
    targets: Mapping[str, float] | None = None,
    modes: Mapping[str, str] | None = None,
    weights: Mapping[str, float] | None = None,
    constraints: Iterable[ConstraintSpec] | None = None,
    tolerance: float = 0.05,
    area_budget_mm2: float | None = None,
    latency_budget_ms: float | None = None,
    energy_budget_uj: float | None = None,
    episode_length: int = 32,
    **options: Any,
) -> ArchGymEnv:
    """Build ``archgym/CoDesign-v0`` (arguments as :func:`~.env.make_nas_env`, plus
    ``area_budget_mm2``; there is no fixed accelerator, it is part of every design, so the
    :class:`~.env.NASOptions` ``accelerator`` does not apply and ``hardware`` may only add a
    device's HW-NAS-Bench figures, ``"hwnasbench:<device>"``)."""
    if "accelerator" in options:
        raise ConfigError(f"{ENV_ID}: accelerator does not apply: the accelerator is part of every design")
    hardware = options.pop("hardware", True)
    if hardware is not True and not (isinstance(hardware, str) and hardware.startswith("hwnasbench:")):
        raise ConfigError(
            f"{ENV_ID}: hardware={hardware!r} does not apply: the accelerator is part of every design "
            "(only 'hwnasbench:<device>' may add a device's measured figures)"
        )
    opts, env_kwargs = NASOptions.split(options, space=space, evaluator=evaluator, hardware=hardware)
    check_env_options(ENV_ID, env_kwargs, [n for n in NASOptions.names() if n != "accelerator"])
    parts = build_nas_simulator(opts)
    sim = CoDesignSimulator(parts.simulator)
    reference = parts.space.reference_design()

    def calibrated_targets() -> dict[str, float]:
        assert parts.hardware is not None  # hardware=True above
        hw_targets = accelerator_default_targets(
            list(parts.hardware.layers(reference)), simulator=parts.hardware.simulator
        )
        return {**default_targets(sim, reference, accelerator_metrics=hw_targets), **hw_targets}

    obj = objective_from_config(
        sim.metrics,
        objective=objective,
        targets=targets,
        default_targets=calibrated_targets,
        tolerance=tolerance,
        modes=modes,
        weights=weights,
        constraints=constraints,
        budgets={"latency_ms": latency_budget_ms, "energy_uj": energy_budget_uj, "area_mm2": area_budget_mm2},
    )
    return ArchGymEnv(
        sim.joint,
        sim,
        parts.data.name,
        obj,
        episode_length=episode_length,
        env_id=ENV_ID,
        workload_name=parts.data.name,
        **env_kwargs,
    )


__all__ = [
    "ENV_ID",
    "HW_PREFIX",
    "NET_PREFIX",
    "CoDesignSimulator",
    "join_design",
    "joint_space",
    "make_codesign_env",
    "split_design",
]
