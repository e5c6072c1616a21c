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
from dataclasses import dataclass
from typing import Any

from archgym.env import ArchGymEnv
from archgym.objective import Constraint, Objective, TargetSpec, build_objective

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
            raise ValueError("space_config applies to a space given by name, not to a NetworkSpace instance")
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
        raise ValueError(f"space_config for {space!r}: {exc}") from None
    raise ValueError(f"unknown NAS space {space!r}; allowed: {', '.join(SPACES)}")


@dataclass
class NASParts:
    """What :func:`build_nas_simulator` assembles (shared by NAS-v0 and CoDesign-v0)."""

    space: NetworkSpace
    data: ImageData
    simulator: NASSimulator
    hardware: HardwareCost | None


def build_nas_simulator(
    space: str | NetworkSpace = "cell",
    evaluator: str | Sequence[str] = "proxy",
    *,
    space_config: Mapping[str, Any] | None = None,
    dataset: str = "digits",
    dataset_root: str | None = None,
    dataset_options: Mapping[str, Any] | None = None,
    data_seed: int = 0,
    proxies: Sequence[str] = DEFAULT_PROXIES,
    proxy_batch_size: int = 64,
    train: Mapping[str, Any] | None = None,
    seed: int = 0,
    device: str = "auto",
    hardware: bool | str = True,
    accelerator: Mapping[str, Any] | None = None,
    hw_batch: int = 1,
    hw_metrics: Sequence[str] | None = None,
    benchmark_path: str | None = None,
    benchmark_dataset: str = "cifar10",
    benchmark_epochs: int = 200,
    hwnasbench_path: str | None = None,
    hwnasbench_dataset: str | None = None,
) -> NASParts:
    """Dataset, network space, evaluators and hardware model from plain config values.

    ``train`` holds :class:`~.training.TrainSettings` fields (``epochs``, ``lr``...); its
    ``seed`` and ``device`` default to ``seed`` and ``device``. ``benchmark_*`` configure the
    ``nb201`` evaluator (:class:`~.nasbench.NB201Evaluator`). ``hardware`` is ``True``
    (accelerator model), ``False``, or ``"hwnasbench:<device>"`` (the model plus the device's
    HW-NAS-Bench figures from ``hwnasbench_path`` for ``hwnasbench_dataset``, default
    ``benchmark_dataset``).
    """
    use_model, measured_device = parse_hardware(hardware)
    try:
        data = load_dataset(dataset, seed=data_seed, root=dataset_root, **dict(dataset_options or {}))
    except TypeError as exc:
        raise ValueError(
            f"dataset_options: {exc}; allowed: val_fraction, image_size, max_train, max_val"
        ) from None
    net_space = make_space(space, data.input_shape, data.num_classes, space_config)
    try:
        train_settings = TrainSettings(**{"seed": seed, "device": device, **dict(train or {})})
    except TypeError as exc:
        raise ValueError(f"train: {exc}; allowed: {', '.join(TrainSettings.__dataclass_fields__)}") from None
    evaluators = make_network_evaluators(
        net_space,
        data,
        evaluator,
        proxies=proxies,
        proxy_settings=ProxySettings(batch_size=proxy_batch_size, seed=seed, device=device),
        train_settings=train_settings,
        benchmark={"path": benchmark_path, "dataset": benchmark_dataset, "epochs": benchmark_epochs},
    )
    if measured_device is not None:
        evaluators.append(
            MeasuredHardware(
                net_space, measured_device, hwnasbench_path, hwnasbench_dataset or benchmark_dataset
            )
        )
    hw = None
    if use_model:
        hw = HardwareCost(net_space, batch=hw_batch, **({"metrics": tuple(hw_metrics)} if hw_metrics else {}))
    acc = dict(accelerator) if accelerator is not None else default_accelerator_design()
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
        raise ValueError("cannot derive default targets for these metrics; pass targets= or objective=")
    return targets


def make_objective(
    sim: NASSimulator,
    reference: Mapping[str, Any],
    *,
    objective: Mapping | Objective | None,
    targets: Mapping[str, float] | None,
    modes: Mapping[str, str] | None,
    weights: Mapping[str, float] | None,
    constraints: Iterable[Constraint | str | Mapping] | None,
    tolerance: float,
    budgets: Mapping[str, float | None],
) -> Objective:
    """The objective from config: a full ``objective`` spec, or a target spec with budgets.

    Target modes default to ``at_least`` for metrics where higher is better and ``at_most``
    otherwise; ``budgets`` (``{metric: bound or None}``) become ``<=`` constraints.
    """
    cons = [Constraint.parse(c) for c in (constraints or ())]
    cons += [Constraint(m, "<=", float(b)) for m, b in budgets.items() if b is not None]
    if objective is not None:
        if isinstance(objective, Objective):
            if cons:
                raise ValueError(
                    "constraints/budgets cannot be added to an Objective instance; put them in it"
                )
            return objective
        spec = dict(objective)
        spec["constraints"] = list(spec.get("constraints") or ()) + cons
        return build_objective(spec)
    tgt = dict(targets) if targets else default_targets(sim, reference)
    better = {m.name: m.better for m in sim.metrics}
    unknown = [k for k in tgt if k not in better]
    if unknown:
        raise ValueError(f"unknown target metric(s) {', '.join(unknown)}; allowed: {', '.join(better)}")
    md = {k: ("at_least" if better[k] == "higher" else "at_most") for k in tgt}
    md.update(dict(modes or {}))
    return TargetSpec(tgt, tolerance=tolerance, modes=md, weights=weights, constraints=cons)  # type: ignore[arg-type]


def make_nas_env(
    space: str = "cell",
    evaluator: str | Sequence[str] = "proxy",
    *,
    space_config: Mapping[str, Any] | None = None,
    dataset: str = "digits",
    dataset_root: str | None = None,
    dataset_options: Mapping[str, Any] | None = None,
    data_seed: int = 0,
    proxies: Sequence[str] = DEFAULT_PROXIES,
    proxy_batch_size: int = 64,
    train: Mapping[str, Any] | None = None,
    seed: int = 0,
    device: str = "auto",
    hardware: bool | str = True,
    accelerator: Mapping[str, Any] | None = None,
    hw_batch: int = 1,
    benchmark_path: str | None = None,
    benchmark_dataset: str = "cifar10",
    benchmark_epochs: int = 200,
    hwnasbench_path: str | None = None,
    hwnasbench_dataset: str | None = None,
    objective: Mapping | Objective | None = None,
    targets: Mapping[str, float] | None = None,
    modes: Mapping[str, str] | None = None,
    weights: Mapping[str, float] | None = None,
    constraints: Iterable[Constraint | str | Mapping] | None = None,
    tolerance: float = 0.05,
    latency_budget_ms: float | None = None,
    energy_budget_uj: float | None = None,
    episode_length: int = 32,
    **env_kwargs: Any,
) -> ArchGymEnv:
    """Build ``archgym/NAS-v0``.

    Args:
        space: ``"cell"`` (NAS-Bench-201), ``"block"`` (MobileNetV2/OFA) or ``"vit"``
            (ViT/DeiT with AutoFormer-style per-layer choices).
        evaluator: ``"proxy"`` (zero-cost proxies, default), ``"train"`` (trained accuracy),
            ``"nb201"`` (NAS-Bench-201 / NATS-Bench table; cell space) or a list of them.
        space_config: macro settings of the space (:class:`~.cell_space.CellSpaceConfig` /
            :class:`~.block_space.BlockSpaceConfig` fields).
        dataset: ``"digits"`` (scikit-learn's, 8x8; default, offline), ``"cifar10"``,
            ``"cifar100"`` or ``"imagefolder"`` read from ``dataset_root``.
        dataset_root: directory of the local dataset files (CIFAR python-version batches or
            an ``<class>/<image>`` tree); nothing is downloaded.
        dataset_options: ``val_fraction``, ``image_size`` (imagefolder), ``max_train``,
            ``max_val`` (seeded class-balanced subsets).
        data_seed: seed of the train/validation split.
        proxies: proxy names for the proxy evaluator.
        proxy_batch_size: minibatch size of the proxies.
        train: :class:`~.training.TrainSettings` fields (``epochs``, ``batch_size``, ``lr``...).
        seed: seeds network initialisation, proxy minibatch and training order.
        device: ``"auto"`` (default: a CUDA GPU when present), ``"cpu"`` or ``"cuda"`` for
            proxies and training.
        hardware: report the accelerator's latency/energy/area of each network (``True``),
            nothing (``False``), or also a device's measured HW-NAS-Bench latency/energy
            (``"hwnasbench:<device>"``, device one of edgegpu, raspi4, edgetpu, pixel3,
            eyeriss, fpga; cell space; metrics ``<device>_latency_ms``/``<device>_energy_uj``).
        accelerator: the fixed accelerator design (default: Eyeriss-like, see
            :data:`archgym.envs.accelerator.EYERISS_LIKE`).
        hw_batch: inference batch size for hardware cost.
        benchmark_path: NAS-Bench-201 ``.pth``, NATS-Bench ``NATS-tss-*.pickle.pbz2`` or its
            archive directory (the ``nb201`` evaluator).
        benchmark_dataset: ``"cifar10"``, ``"cifar100"`` or ``"ImageNet16-120"``.
        benchmark_epochs: the benchmark's training schedule, 12 or 200 epochs.
        hwnasbench_path: the HW-NAS-Bench pickle (``HW-NAS-Bench-v1_0.pickle``).
        hwnasbench_dataset: whose figures (input size, classes); default ``benchmark_dataset``.
        objective, targets, modes, weights, constraints, tolerance, latency_budget_ms,
            energy_budget_uj: see the module docstring.
        episode_length: steps per episode.
        **env_kwargs: :class:`~archgym.env.ArchGymEnv` options (``action_encoding``,
            ``observe_design``, ``render_mode``).
    """
    parts = build_nas_simulator(
        space,
        evaluator,
        space_config=space_config,
        dataset=dataset,
        dataset_root=dataset_root,
        dataset_options=dataset_options,
        data_seed=data_seed,
        proxies=proxies,
        proxy_batch_size=proxy_batch_size,
        train=train,
        seed=seed,
        device=device,
        hardware=hardware,
        accelerator=accelerator,
        hw_batch=hw_batch,
        benchmark_path=benchmark_path,
        benchmark_dataset=benchmark_dataset,
        benchmark_epochs=benchmark_epochs,
        hwnasbench_path=hwnasbench_path,
        hwnasbench_dataset=hwnasbench_dataset,
    )
    obj = make_objective(
        parts.simulator,
        parts.space.reference_design(),
        objective=objective,
        targets=targets,
        modes=modes,
        weights=weights,
        constraints=constraints,
        tolerance=tolerance,
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
    "NASParts",
    "SPACES",
    "build_nas_simulator",
    "default_targets",
    "make_nas_env",
    "make_objective",
    "make_space",
]
