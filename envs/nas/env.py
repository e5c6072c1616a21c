"""``archgym/NAS-v0``: neural architecture search as an ArchGym environment.

One design is one network of the chosen space (``"cell"``: NAS-Bench-201 cells;
``"block"``: MobileNetV2/Once-for-All blocks). The simulator (:class:`~.evaluators.NASSimulator`)
scores it with zero-cost proxies (default; fast) or trained validation accuracy on the
digits data, and costs it on a fixed accelerator design with the accelerator environment's
model. Any archgym agent searches it like a hardware space.

Objective (default): a target specification that asks for the network metric (``naswot``
for proxies, ``accuracy`` for training) to reach a target and ``latency_ms`` to stay under
a budget. Without explicit ``targets``, they are calibrated on the space's reference
design (all-3x3-conv cell / largest block network): its proxy score (or an accuracy of
0.97 when training) and half its latency. Pass ``targets``/``modes``/``weights`` for other
trade-offs (e.g. add ``energy_uj`` for a multi-objective target), ``latency_budget_ms`` /
``energy_budget_uj`` or ``constraints`` for hard limits, or a full ``objective`` mapping
(``{"weights": {...}}`` gives a weighted sum, see :func:`archgym.objective.build_objective`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from archgym.env import ArchGymEnv
from archgym.errors import ConfigError, UnknownNameError
from archgym.objective import ConstraintSpec, Objective, objective_from_config

from .block_space import BlockSpace, BlockSpaceConfig
from .cell_space import CellSpace, CellSpaceConfig
from .data import ImageData, load_dataset
from .evaluators import NASSimulator, make_network_evaluators
from .hardware import HardwareCost, default_accelerator_design
from .hwnasbench import MeasuredHardware, parse_hardware
from .proxies import DEFAULT_PROXIES, ProxySettings
from .search_space import NetworkSpace
from .training import TrainSettings
from .vit_space import ViTSpace, ViTSpaceConfig

ENV_ID = "archgym/NAS-v0"
SPACES: tuple[str, ...] = ("cell", "block", "vit")
#: default accuracy target (digits, at least) when the train evaluator is used
DEFAULT_ACCURACY_TARGET = 0.97
#: default latency budget as a fraction of the reference design's latency
DEFAULT_LATENCY_FRACTION = 0.5


def make_space(
    space: str | NetworkSpace,
    input_shape: tuple[int, int, int],
    num_classes: int,
    config: Mapping[str, Any] | None = None,
) -> NetworkSpace:
    """A network space by name (``"cell"``, ``"block"`` or ``"vit"``) with settings ``config``."""
    if isinstance(space, NetworkSpace):
        if config:
            raise ConfigError("space_config applies to a space given by name, not to a NetworkSpace instance")
        return space
    cfg = dict(config or {})
    try:
        if space == "cell":
            return CellSpace(input_shape, num_classes, CellSpaceConfig(**cfg))
        if space == "block":
            return BlockSpace(input_shape, num_classes, BlockSpaceConfig(**cfg))
        if space == "vit":
            return ViTSpace(input_shape, num_classes, ViTSpaceConfig(**cfg))
    except TypeError as exc:
        raise ConfigError(f"space_config for {space!r}: {exc}") from None
    raise UnknownNameError(f"unknown NAS space {space!r}; allowed: {', '.join(SPACES)}")


@dataclass(frozen=True)
class NASOptions:
    """How NAS-v0 and CoDesign-v0 build their network space, data, evaluators and hardware model.

    The one home of these settings: the env factories take them as keywords (what the YAML
    configs set under ``env.kwargs``) and pass them on through this dataclass.
    """

    space: str | NetworkSpace = "cell"
    """``"cell"`` (NAS-Bench-201), ``"block"`` (MobileNetV2/OFA), ``"vit"`` (ViT/DeiT with
    AutoFormer-style per-layer choices), or a :class:`NetworkSpace`."""
    evaluator: str | Sequence[str] = "proxy"
    """``"proxy"`` (zero-cost proxies), ``"train"`` (trained accuracy), ``"nb201"``
    (NAS-Bench-201 / NATS-Bench table; cell space) or a list of them."""
    space_config: Mapping[str, Any] | None = None
    """Macro settings of a space given by name (:class:`~.cell_space.CellSpaceConfig` /
    :class:`~.block_space.BlockSpaceConfig` fields)."""
    dataset: str = "digits"
    """``"digits"`` (scikit-learn's 8x8; default, offline), ``"cifar10"``, ``"cifar100"`` or
    ``"imagefolder"`` read from :attr:`dataset_root`."""
    dataset_root: str | None = None
    """Directory of the local dataset files (CIFAR python-version batches or an
    ``<class>/<image>`` tree); nothing is downloaded."""
    dataset_options: Mapping[str, Any] | None = None
    """``val_fraction``, ``image_size`` (imagefolder), ``max_train``, ``max_val`` (seeded
    class-balanced subsets)."""
    data_seed: int = 0
    """Seed of the train/validation split."""
    proxies: Sequence[str] = DEFAULT_PROXIES
    """Proxy names for the proxy evaluator."""
    proxy_batch_size: int = 64
    """Minibatch size of the proxies."""
    train: Mapping[str, Any] | None = None
    """:class:`~.training.TrainSettings` fields (``epochs``, ``lr``...); its ``seed`` and
    ``device`` default to :attr:`seed` and :attr:`device`."""
    seed: int = 0
    """Seeds network initialisation, the proxies' minibatch and the training order."""
    device: str = "auto"
    """``"auto"`` (a CUDA GPU when present), ``"cpu"`` or ``"cuda"`` for proxies and training."""
    hardware: bool | str = True
    """Report the accelerator's latency/energy/area of each network (``True``), nothing
    (``False``), or also a device's measured HW-NAS-Bench latency/energy
    (``"hwnasbench:<device>"``, device one of edgegpu, raspi4, edgetpu, pixel3, eyeriss, fpga;
    cell space; metrics ``<device>_latency_ms`` / ``<device>_energy_uj``)."""
    accelerator: Mapping[str, Any] | None = None
    """The fixed accelerator design (default: Eyeriss-like, :data:`archgym.envs.accelerator.EYERISS_LIKE`)."""
    hw_batch: int = 1
    """Inference batch size for the hardware cost."""
    hw_metrics: Sequence[str] | None = None
    """Hardware metrics to report (default: all of :class:`~.hardware.HardwareCost`'s)."""
    benchmark_path: str | None = None
    """NAS-Bench-201 ``.pth``, NATS-Bench ``NATS-tss-*.pickle.pbz2`` or its archive directory
    (the ``nb201`` evaluator)."""
    benchmark_dataset: str = "cifar10"
    """``"cifar10"``, ``"cifar100"`` or ``"ImageNet16-120"``."""
    benchmark_epochs: int = 200
    """The benchmark's training schedule, 12 or 200 epochs."""
    hwnasbench_path: str | None = None
    """The HW-NAS-Bench pickle (``HW-NAS-Bench-v1_0.pickle``)."""
    hwnasbench_dataset: str | None = None
    """Whose HW-NAS-Bench figures (input size, classes); default :attr:`benchmark_dataset`."""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def split(cls, kwargs: Mapping[str, Any], **given: Any) -> tuple[NASOptions, dict[str, Any]]:
        """``(options from the keys that are fields, the other keys)``; ``given`` are fields too."""
        names = cls.names()
        own = {**given, **{k: v for k, v in kwargs.items() if k in names}}
        return cls(**own), {k: v for k, v in kwargs.items() if k not in names}


#: keyword arguments the NAS factories pass on to :class:`~archgym.env.ArchGymEnv`
ENV_OPTIONS: tuple[str, ...] = ("action_encoding", "observe_design", "render_mode")


def check_env_options(env_id: str, env_kwargs: Mapping[str, Any], allowed: Sequence[str]) -> None:
    """Reject keywords that are neither factory options nor :data:`ENV_OPTIONS`, listing the allowed ones."""
    unknown = [k for k in env_kwargs if k not in ENV_OPTIONS]
    if unknown:
        raise ConfigError(
            f"{env_id}: unknown option(s) {', '.join(unknown)}; allowed: {', '.join((*allowed, *ENV_OPTIONS))}"
        )


@dataclass
class NASParts:
    """What :func:`build_nas_simulator` assembles (shared by NAS-v0 and CoDesign-v0)."""

    space: NetworkSpace
    data: ImageData
    simulator: NASSimulator
    hardware: HardwareCost | None


def build_nas_simulator(options: NASOptions) -> NASParts:
    """Dataset, network space, evaluators and hardware model from :class:`NASOptions`."""
    o = options
    use_model, measured_device = parse_hardware(o.hardware)
    try:
        data = load_dataset(o.dataset, seed=o.data_seed, root=o.dataset_root, **dict(o.dataset_options or {}))
    except TypeError as exc:
        raise ConfigError(
            f"dataset_options: {exc}; allowed: val_fraction, image_size, max_train, max_val"
        ) from None
    net_space = make_space(o.space, data.input_shape, data.num_classes, o.space_config)
    try:
        train_settings = TrainSettings(**{"seed": o.seed, "device": o.device, **dict(o.train or {})})
    except TypeError as exc:
        raise ConfigError(f"train: {exc}; allowed: {', '.join(TrainSettings.__dataclass_fields__)}") from None
    evaluators = make_network_evaluators(
        net_space,
        data,
        o.evaluator,
        proxies=o.proxies,
        proxy_settings=ProxySettings(batch_size=o.proxy_batch_size, seed=o.seed, device=o.device),
        train_settings=train_settings,
        benchmark={"path": o.benchmark_path, "dataset": o.benchmark_dataset, "epochs": o.benchmark_epochs},
    )
    if measured_device is not None:
        evaluators.append(
            MeasuredHardware(
                net_space, measured_device, o.hwnasbench_path, o.hwnasbench_dataset or o.benchmark_dataset
            )
        )
    hw = None
    if use_model:
        hw = HardwareCost(
            net_space, batch=o.hw_batch, **({"metrics": tuple(o.hw_metrics)} if o.hw_metrics else {})
        )
    acc = dict(o.accelerator) if o.accelerator is not None else default_accelerator_design()
    sim = NASSimulator(net_space, data, evaluators, hw, acc if hw is not None else None)
    return NASParts(net_space, data, sim, hw)


def default_targets(
    sim: NASSimulator, reference: Mapping[str, Any], *, accelerator_metrics: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Targets calibrated on a reference design (see the module docstring).

    The network target is ``accuracy >= 0.97`` with the train evaluator, else the
    reference's benchmark ``accuracy`` (nb201), ``naswot`` (or the first proxy reported); the
    latency target is half the reference's latency on the fixed accelerator (or on
    ``accelerator_metrics`` when given).
    """
    names = sim.metric_names
    targets: dict[str, float] = {}
    if "accuracy" in names and "train_loss" in names:
        targets["accuracy"] = DEFAULT_ACCURACY_TARGET
    ref: dict[str, float] | None = None
    if not targets:
        ref = sim.network_metrics(reference)
        higher = [m.name for m in sim.metrics if m.better == "higher" and m.name in ref]
        key = next((k for k in ("accuracy", "naswot") if k in ref), higher[0] if higher else None)
        if key is not None and ref[key] != 0:
            targets[key] = ref[key]
    if "latency_ms" in names:
        lat = (accelerator_metrics or {}).get("latency_ms")
        if lat is None:
            assert sim.accelerator is not None and sim.hardware is not None
            lat = sim.hardware.cost(reference, [sim.accelerator])[0]["latency_ms"]
        targets["latency_ms"] = DEFAULT_LATENCY_FRACTION * lat
    if not targets:
        raise ConfigError("cannot derive default targets for these metrics; pass targets= or objective=")
    return targets


def make_nas_env(
    space: str | NetworkSpace = "cell",
    evaluator: str | Sequence[str] = "proxy",
    *,
    objective: Mapping | Objective | None = None,
    targets: Mapping[str, float] | None = None,
    modes: Mapping[str, str] | None = None,
    weights: Mapping[str, float] | None = None,
    constraints: Iterable[ConstraintSpec] | None = None,
    tolerance: float = 0.05,
    latency_budget_ms: float | None = None,
    energy_budget_uj: float | None = None,
    episode_length: int = 32,
    **options: Any,
) -> ArchGymEnv:
    """Build ``archgym/NAS-v0``.

    Args:
        space, evaluator, **options: the network, data, evaluator and hardware settings:
            any field of :class:`NASOptions` (``space_config``, ``dataset``, ``dataset_root``,
            ``dataset_options``, ``data_seed``, ``proxies``, ``proxy_batch_size``, ``train``,
            ``seed``, ``device``, ``hardware``, ``accelerator``, ``hw_batch``, ``hw_metrics``,
            ``benchmark_path``, ``benchmark_dataset``, ``benchmark_epochs``, ``hwnasbench_path``,
            ``hwnasbench_dataset``), and :class:`~archgym.env.ArchGymEnv`
            options (``action_encoding``, ``observe_design``, ``render_mode``).
        objective, targets, modes, weights, constraints, tolerance, latency_budget_ms,
            energy_budget_uj: see the module docstring and
            :func:`archgym.objective.objective_from_config`.
        episode_length: steps per episode.
    """
    opts, env_kwargs = NASOptions.split(options, space=space, evaluator=evaluator)
    check_env_options(ENV_ID, env_kwargs, NASOptions.names())
    parts = build_nas_simulator(opts)
    reference = parts.space.reference_design()
    obj = objective_from_config(
        parts.simulator.metrics,
        objective=objective,
        targets=targets,
        default_targets=lambda: default_targets(parts.simulator, reference),
        tolerance=tolerance,
        modes=modes,
        weights=weights,
        constraints=constraints,
        budgets={"latency_ms": latency_budget_ms, "energy_uj": energy_budget_uj},
    )
    return ArchGymEnv(
        parts.space.space,
        parts.simulator,
        parts.data.name,
        obj,
        episode_length=episode_length,
        env_id=ENV_ID,
        workload_name=parts.data.name,
        **env_kwargs,
    )


__all__ = [
    "DEFAULT_ACCURACY_TARGET",
    "ENV_ID",
    "ENV_OPTIONS",
    "NASOptions",
    "NASParts",
    "SPACES",
    "build_nas_simulator",
    "default_targets",
    "check_env_options",
    "make_nas_env",
    "make_space",
]
