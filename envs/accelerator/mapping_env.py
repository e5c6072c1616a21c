"""``archgym/AcceleratorMapping-v0``: search the mapping of layers onto fixed accelerator hardware.

ArchGym's MAESTRO case study searches the mapping (tiling, loop order, parallel dimension)
of DNN layers for a fixed accelerator with GAMMA-style agents; this env does the same on the
hierarchy model. The hardware is a design of the 9-knob ``archgym/Accelerator-v0`` space
(``"eyeriss"``: the Eyeriss-like point) or a ZigZag hardware file (a path, or the stem of
one zigzag-dse bundles, e.g. ``"tpu_like"``); the workload is one layer of a network or the
whole network. The design is the mapping (:mod:`.mapping_space`), costed by
:func:`~.mapping_cost.cost_mapping`; a mapping the hardware cannot run (capacity, ports)
is a failed evaluation whose error names the reason, and scores the objective's infeasible
reward (0).

Metrics: latency (ms and cycles), energy (uJ), their product and the array utilisation,
summed over the layers (each layer as often as the network runs it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archgym.env import ArchGymEnv
from archgym.errors import ConfigError, InvalidWorkloadError
from archgym.objective import ConstraintSpec, objective_from_config, round_up_significant
from archgym.simulator import Metrics, PreparedWorkload, Simulator, check_settings

from .architecture import Architecture
from .hierarchy_model import evaluate_layers, unique_layers
from .layers import Layer
from .mapping_cost import InfeasibleMappingError, cost_mapping
from .mapping_space import LayerMappingSpace, mapping_design_space
from .metrics import MAPPING_METRICS as METRICS
from .networks import Workload, as_workload, load_workload
from .space import EYERISS_LIKE
from .templates import template_architecture

ENV_ID = "archgym/AcceleratorMapping-v0"


@dataclass(frozen=True)
class MappingProblem:
    """Fixed hardware + the layers to map: what the mapping env's simulator evaluates on."""

    arch: Architecture
    layers: tuple[Layer, ...]
    spatial: str = "search"
    name: str = "mapping"
    spaces: tuple[LayerMappingSpace, ...] = field(init=False)
    where: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.layers:
            raise InvalidWorkloadError("the mapping env needs at least one layer")
        distinct, where = unique_layers(self.layers)
        many = len(distinct) > 1
        spaces = tuple(
            LayerMappingSpace(
                self.arch.for_kind(layer.kind), layer, self.spatial, prefix=f"l{i}." if many else ""
            )
            for i, layer in enumerate(distinct)
        )
        object.__setattr__(self, "spaces", spaces)
        object.__setattr__(self, "where", where)

    def design_space(self):
        return mapping_design_space(list(self.spaces))

    def counts(self) -> np.ndarray:
        """How often each distinct layer runs in the workload."""
        return np.bincount(self.where, minlength=len(self.spaces)).astype(np.float64)


def _totals(problem: MappingProblem, cycles: np.ndarray, energy_pj: np.ndarray) -> Metrics:
    n = problem.counts()
    cyc, e_pj = float(cycles @ n), float(energy_pj @ n)
    ms = cyc / (problem.arch.clock_mhz * 1e3)
    macs = float(sum(s.layer.macs * k for s, k in zip(problem.spaces, n)))
    return {
        "latency_ms": ms,
        "latency_cycles": cyc,
        "energy_uj": e_pj * 1e-6,
        "edp": e_pj * 1e-6 * ms,
        "utilization": macs * problem.arch.array.cycles_per_iteration / (cyc * problem.arch.array.units),
    }


class MappingSimulator(Simulator[MappingProblem]):
    """Costs a mapping design on a :class:`MappingProblem` (hierarchy model, given mapping)."""

    metrics = METRICS
    version = "archgym-accelerator mapping cost 0.1 (hierarchy model on a given mapping)"

    def prepare(self, workload: object) -> PreparedWorkload[MappingProblem]:
        """The problem as given (anything else is an :class:`InvalidWorkloadError`)."""
        if not isinstance(workload, MappingProblem):
            raise InvalidWorkloadError(
                f"the mapping simulator needs a MappingProblem, got {type(workload).__name__}"
            )
        content = (
            workload.name,
            workload.spatial,
            [x.shape_key for x in workload.layers],
            repr(workload.arch),
        )
        return PreparedWorkload(workload, workload.name, workload, content)

    def evaluate(self, design: Mapping[str, Any], workload: MappingProblem) -> Metrics:
        problem = self.workload_data(workload)
        cycles, energy = np.zeros(len(problem.spaces)), np.zeros(len(problem.spaces))
        for i, space in enumerate(problem.spaces):
            mapping = space.decode(design)
            try:
                cost = cost_mapping(problem.arch, space.layer, mapping)
            except InfeasibleMappingError as exc:
                where = f"layer {space.layer.name!r}: " if len(problem.spaces) > 1 else ""
                raise InfeasibleMappingError(f"{where}{exc}") from None
            cycles[i], energy[i] = cost.latency_cycles, cost.energy_pj
        return _totals(problem, cycles, energy)


def mapping_simulator(env: Any, settings: Mapping[str, Any]) -> MappingSimulator:
    """``env.simulator=mapping`` (an ``archgym.simulators`` entry point): the mapping env's cost."""
    check_settings("mapping", settings, {})
    if getattr(env, "env_id", "") not in ("", ENV_ID):
        raise ConfigError(f"simulator 'mapping' costs {ENV_ID} designs, not {env.env_id}'s")
    return MappingSimulator()


def mapper_metrics(problem: MappingProblem) -> Metrics:
    """The built-in mapper's result on the problem (its own loop-order search and allocation)."""
    costs = evaluate_layers(problem.arch, [s.layer for s in problem.spaces])
    return _totals(
        problem, np.array([c.latency_cycles for c in costs]), np.array([c.energy_pj for c in costs])
    )


def resolve_hardware(
    hardware: str | Mapping[str, Any] | Architecture, mapping: str | None = None
) -> Architecture:
    """``"eyeriss"`` (the Eyeriss-like 9-knob design), a 9-knob design, an Architecture, a ZigZag
    hardware YAML path, or the stem of a hardware file zigzag-dse bundles (``"tpu_like"``)."""
    if isinstance(hardware, Architecture):
        return hardware
    if isinstance(hardware, Mapping):
        return template_architecture(hardware)
    if hardware == "eyeriss":
        return template_architecture(EYERISS_LIKE)
    path = Path(hardware)
    if not path.suffix:
        from .zigzag_bridge import zigzag_inputs_dir

        inputs = zigzag_inputs_dir()
        path = inputs / "hardware" / f"{hardware}.yaml"
        if not path.is_file():
            known = sorted(p.stem for p in (inputs / "hardware").glob("*.yaml"))
            raise ConfigError(
                f"unknown hardware {hardware!r}; allowed: eyeriss, a YAML path, {', '.join(known)}"
            )
        if mapping is None:
            own = inputs / "mapping" / f"{hardware}.yaml"
            mapping = str(own if own.is_file() else inputs / "mapping" / "default.yaml")
    return Architecture.from_zigzag(path, mapping)


def _layers(
    workload: Workload | str | Sequence[Layer], layer: str | int | None, batch: int
) -> tuple[str, tuple[Layer, ...]]:
    """The workload's name and the layers to map."""
    wl = load_workload(workload, batch) if isinstance(workload, str) else as_workload(workload)
    if layer is None or layer == "all":
        return wl.name, tuple(wl.layers)
    if isinstance(layer, int) or str(layer).isdigit():
        i = int(layer)
        if not 0 <= i < len(wl.layers):
            raise ConfigError(f"layer index {i} outside 0..{len(wl.layers) - 1} of workload {wl.name!r}")
        return wl.name, (wl.layers[i],)
    named = [x for x in wl.layers if x.name == layer]
    if not named:
        names = ", ".join(x.name for x in wl.layers[:8])
        raise ConfigError(
            f"workload {wl.name!r} has no layer {layer!r}; its layers: {names}, ... (or an index, or 'all')"
        )
    return wl.name, (named[0],)


def make_accelerator_mapping_env(
    hardware: str | Mapping[str, Any] = "eyeriss",
    workload: Workload | str | Sequence[Layer] = "resnet18",
    layer: str | int | None = "stages.1.conv2",
    mapping: str | None = None,
    spatial: str = "search",
    targets: Mapping[str, float] | None = None,
    constraints: Iterable[ConstraintSpec] | None = None,
    tolerance: float = 0.05,
    modes: Mapping[str, str] | None = None,
    episode_length: int = 32,
    batch: int = 1,
    **kwargs: Any,
) -> ArchGymEnv:
    """Build the mapping-search environment.

    Args:
        hardware: see :func:`resolve_hardware`.
        workload: a registered network name, a :class:`~.networks.Workload` or a list of layers.
        layer: the layer to map (its name or index in the workload), or ``None`` / ``"all"``:
            every layer, one block of knobs per distinct layer shape (prefix ``l<i>.``).
        mapping: a ZigZag mapping YAML for ``hardware`` (its spatial mapping and operand
            links; default: the file of the same name, else ZigZag's ``default.yaml``).
        spatial: ``"search"`` (default): the spatial unrolling is part of the design;
            ``"fixed"``: the hardware's own spatial mapping, only the temporal mapping is searched.
        targets: ``{metric: value}``; default: the built-in mapper's latency and energy
            (:func:`mapper_metrics`), rounded up to two significant digits.
        constraints, tolerance, modes, episode_length: as for ``archgym/Accelerator-v0``.
        batch: batch size when ``workload`` is a name.
        **kwargs: passed to :class:`~archgym.env.ArchGymEnv`.
    """
    arch = resolve_hardware(hardware, mapping)
    wl_name, layers = _layers(workload, layer, batch)
    one = f":{layers[0].name}" if len(layers) == 1 else ""
    problem = MappingProblem(arch, layers, spatial, name=f"{arch.name}/{wl_name}{one}")
    sim = MappingSimulator()

    def default_targets() -> dict[str, float]:
        m = mapper_metrics(problem)
        return {k: round_up_significant(m[k]) for k in ("latency_ms", "energy_uj")}

    objective = objective_from_config(
        sim.metrics,
        targets=targets,
        default_targets=default_targets,
        tolerance=tolerance,
        modes=modes,
        default_mode="at_most",
        constraints=constraints,
    )
    return ArchGymEnv(
        problem.design_space(),
        sim,
        problem,
        objective,
        episode_length=episode_length,
        env_id=ENV_ID,
        workload_name=problem.name,
        **kwargs,
    )
