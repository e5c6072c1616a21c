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

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from archgym.design_space import DesignSpace, Parameter
from archgym.env import ArchGymEnv
from archgym.envs.accelerator.env import default_targets as accelerator_default_targets
from archgym.objective import Constraint, Objective
from archgym.simulator import Metrics

from .env import build_nas_simulator, default_targets, make_objective
from .evaluators import NASSimulator
from .proxies import DEFAULT_PROXIES

ENV_ID = "archgym/CoDesign-v0"
NET_PREFIX = "net."
HW_PREFIX = "hw."


def _prefixed(param: Parameter, prefix: str) -> Parameter:
    """A copy of ``param`` under the name ``prefix + name``."""
    p = copy.copy(param)
    object.__setattr__(p, "name", prefix + param.name)
    return p


def joint_space(net: DesignSpace, hw: DesignSpace) -> DesignSpace:
    """``net.*`` parameters followed by ``hw.*`` parameters."""
    return DesignSpace(
        [_prefixed(p, NET_PREFIX) for p in net.params] + [_prefixed(p, HW_PREFIX) for p in hw.params]
    )


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
            raise ValueError("co-design needs hardware cost")
        super().__init__(base.space, base.data, base.evaluators, base.hardware, base.accelerator)
        self.joint = joint_space(base.space.space, base.hardware.accelerator_space)
        self.version = base.version.replace("archgym-nas", "archgym-codesign")

    def evaluate_many(self, designs: Sequence[Mapping[str, Any]], workload: Any) -> list[Metrics]:
        self._check_workload(workload)
        pairs = [split_design(self.joint.validate(d)) for d in designs]  # no unknown or missing key
        return self.evaluate_pairs([n for n, _ in pairs], [h for _, h in pairs])


def make_codesign_env(
    space: str = "cell",
    evaluator: str | Sequence[str] = "proxy",
    *,
    space_config: Mapping[str, Any] | None = None,
    dataset: str = "digits",
    data_seed: int = 0,
    proxies: Sequence[str] = DEFAULT_PROXIES,
    proxy_batch_size: int = 64,
    train: Mapping[str, Any] | None = None,
    seed: int = 0,
    device: str = "cpu",
    hw_batch: int = 1,
    objective: Mapping | Objective | None = None,
    targets: Mapping[str, float] | None = None,
    modes: Mapping[str, str] | None = None,
    weights: Mapping[str, float] | None = None,
    constraints: Iterable[Constraint | str | Mapping] | None = None,
    tolerance: float = 0.05,
    area_budget_mm2: float | None = None,
    latency_budget_ms: float | None = None,
    energy_budget_uj: float | None = None,
    episode_length: int = 32,
    **env_kwargs: Any,
) -> ArchGymEnv:
    """Build ``archgym/CoDesign-v0`` (arguments as :func:`~.env.make_nas_env`, plus
    ``area_budget_mm2``; there is no fixed accelerator, it is part of every design)."""
    parts = build_nas_simulator(
        space,
        evaluator,
        space_config=space_config,
        dataset=dataset,
        data_seed=data_seed,
        proxies=proxies,
        proxy_batch_size=proxy_batch_size,
        train=train,
        seed=seed,
        device=device,
        hardware=True,
        hw_batch=hw_batch,
    )
    sim = CoDesignSimulator(parts.simulator)
    reference = parts.space.reference_design()
    if objective is None and not targets:
        assert parts.hardware is not None
        hw_targets = accelerator_default_targets(
            list(parts.hardware.layers(reference)), simulator=parts.hardware.simulator
        )
        targets = {**default_targets(sim, reference, accelerator_metrics=hw_targets), **hw_targets}
    obj = make_objective(
        sim,
        reference,
        objective=objective,
        targets=targets,
        modes=modes,
        weights=weights,
        constraints=constraints,
        tolerance=tolerance,
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
