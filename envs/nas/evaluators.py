"""``NASSimulator``: the NAS "simulator" -- network evaluators plus the accelerator's hardware cost.

A design of a :class:`~.search_space.NetworkSpace` is scored by

* one or more **network evaluators**, chosen by name:

  - ``"proxy"`` -- zero-cost proxies (:mod:`.proxies`) on one minibatch: cheap (about a
    tenth of a second per network on one CPU core), the default;
  - ``"train"`` -- validation accuracy after a short seeded training run (:mod:`.training`);
  - ``"nb201"`` -- accuracy and training time of a cell looked up in a NAS-Bench-201 /
    NATS-Bench file the user has (:mod:`.nasbench`);

* and, optionally, **hardware cost** (:mod:`.hardware`): latency, energy and area of the
  network's traced layers on an accelerator design, from the accelerator environment's model.

Network results and traced layers are cached per architecture by the evaluators; the
simulator's metrics are the evaluators' metrics followed by the hardware metrics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from archgym.errors import ConfigError, InvalidWorkloadError
from archgym.simulator import Metric, Metrics, PreparedWorkload, Simulator

from .data import ImageData
from .hardware import HardwareCost
from .metrics import proxy_metrics
from .nasbench import NB201Evaluator
from .proxies import ProxyEvaluator, ProxySettings, check_proxy_names
from .search_space import NetworkSpace
from .training import TrainEvaluator, TrainSettings

EVALUATORS: tuple[str, ...] = ("proxy", "train", "nb201")


class NetworkEvaluator(Protocol):
    """Scores one network design: ``metrics`` declares what ``__call__`` returns."""

    metrics: tuple[Metric, ...]

    def __call__(self, design: Mapping[str, Any]) -> dict[str, float]: ...


class ProxyMetrics:
    """Zero-cost proxies as a :class:`NetworkEvaluator`."""

    def __init__(
        self, space: NetworkSpace, data: ImageData, names: Sequence[str], settings: ProxySettings
    ) -> None:
        self.evaluator = ProxyEvaluator(space, data, check_proxy_names(names), settings)
        self.metrics = proxy_metrics(self.evaluator.names)

    def __call__(self, design: Mapping[str, Any]) -> dict[str, float]:
        return self.evaluator(design)


class TrainMetrics:
    """Trained validation accuracy, last-epoch training loss and seconds per epoch as a
    :class:`NetworkEvaluator`."""

    metrics: tuple[Metric, ...] = (
        Metric("accuracy", "1", "higher", 1.0, "validation accuracy after a short seeded training run"),
        Metric("train_loss", "1", "lower", 1.0, "mean cross-entropy over the last training epoch"),
        Metric("epoch_time_s", "s", "lower", 1.0, "wall-clock seconds per training epoch on this machine"),
    )

    def __init__(self, space: NetworkSpace, data: ImageData, settings: TrainSettings) -> None:
        self.evaluator = TrainEvaluator(space, data, settings)

    def __call__(self, design: Mapping[str, Any]) -> dict[str, float]:
        return self.evaluator(design)


class NB201Metrics:
    """NAS-Bench-201 / NATS-Bench tabular results as a :class:`NetworkEvaluator`."""

    metrics: tuple[Metric, ...] = (
        Metric("accuracy", "1", "higher", 1.0, "NAS-Bench-201 validation accuracy (mean over seeds)"),
        Metric("test_accuracy", "1", "higher", 1.0, "NAS-Bench-201 test accuracy (report, do not search on)"),
        Metric("train_time_s", "s", "lower", 1e4, "NAS-Bench-201 measured training time of the schedule"),
    )

    def __init__(self, space: NetworkSpace, settings: Mapping[str, Any]) -> None:
        cfg = dict(settings)
        path = cfg.pop("path", None)
        if not path:
            raise ConfigError("evaluator 'nb201' needs benchmark_path= (a NAS-Bench-201 / NATS-Bench file)")
        try:
            self.evaluator = NB201Evaluator(space, path, **cfg)
        except TypeError as exc:
            raise ConfigError(f"benchmark settings: {exc}; allowed: path, dataset, epochs") from None

    def __call__(self, design: Mapping[str, Any]) -> dict[str, float]:
        return self.evaluator(design)


def make_network_evaluators(
    space: NetworkSpace,
    data: ImageData,
    evaluator: str | Sequence[str] = "proxy",
    *,
    proxies: Sequence[str],
    proxy_settings: ProxySettings | None = None,
    train_settings: TrainSettings | None = None,
    benchmark: Mapping[str, Any] | None = None,
) -> list[NetworkEvaluator]:
    """Network evaluators by name: ``"proxy"``, ``"train"``, ``"nb201"`` or a list of them.

    ``benchmark`` holds the ``nb201`` evaluator's ``path``, ``dataset`` and ``epochs``.
    """
    names = [evaluator] if isinstance(evaluator, str) else list(evaluator)
    bad = [n for n in names if n not in EVALUATORS]
    if bad or not names or len(set(names)) != len(names):
        raise ConfigError(
            f"evaluator must be one of {', '.join(EVALUATORS)} or a list of distinct ones; got {evaluator!r}"
        )
    out: list[NetworkEvaluator] = []
    for n in names:
        if n == "proxy":
            out.append(ProxyMetrics(space, data, proxies, proxy_settings or ProxySettings()))
        elif n == "train":
            out.append(TrainMetrics(space, data, train_settings or TrainSettings()))
        else:
            out.append(NB201Metrics(space, benchmark or {}))
    return out


class NASSimulator(Simulator[str]):
    """Network evaluators + hardware cost of a fixed accelerator design, behind the Simulator protocol.

    Args:
        space: the network space (designs are its parameter dicts).
        data: the dataset; its ``name`` is the workload the environment passes.
        evaluators: network evaluators (see :func:`make_network_evaluators`).
        hardware: hardware-cost model, or ``None`` to report no hardware metrics.
        accelerator: the fixed accelerator design (required with ``hardware``).
    """

    def __init__(
        self,
        space: NetworkSpace,
        data: ImageData,
        evaluators: Sequence[NetworkEvaluator],
        hardware: HardwareCost | None = None,
        accelerator: Mapping[str, Any] | None = None,
    ) -> None:
        if not evaluators and hardware is None:
            raise ConfigError("a NAS simulator needs at least one network evaluator or hardware cost")
        self.space = space
        self.data = data
        self.evaluators = tuple(evaluators)
        self.hardware = hardware
        self.accelerator: dict[str, Any] | None = None
        if hardware is not None:
            if accelerator is None:
                raise ConfigError("hardware cost needs an accelerator design")
            self.accelerator = hardware.accelerator_space.validate(accelerator)
        metrics = [m for e in self.evaluators for m in e.metrics]
        if hardware is not None:
            metrics += list(hardware.metrics)
        names = [m.name for m in metrics]
        if len(set(names)) != len(names):
            raise ConfigError(f"duplicate metric names across evaluators: {names}")
        self.metrics = tuple(metrics)
        hw = f"; hw: {hardware.simulator.version}" if hardware is not None else ""
        self.version = f"archgym-nas 0.1 ({space.name}[{space.config_key()}], {data.name}{hw})"

    def prepare(self, workload: object) -> PreparedWorkload[str]:
        """The dataset's name (``workload`` must be it, or None).

        Raises:
            InvalidWorkloadError: another workload than this simulator's dataset.
        """
        if workload not in (None, self.data.name):
            raise InvalidWorkloadError(
                f"this NAS simulator evaluates on {self.data.name!r}, not {workload!r}"
            )
        return PreparedWorkload(self.data.name, self.data.name, workload)

    def network_metrics(self, design: Mapping[str, Any]) -> dict[str, float]:
        """Metrics of the network evaluators only (cached per architecture)."""
        out: dict[str, float] = {}
        for e in self.evaluators:
            out.update(e(design))
        return out

    def evaluate_pairs(
        self, networks: Sequence[Mapping[str, Any]], accelerators: Sequence[Mapping[str, Any]] | None
    ) -> list[Metrics]:
        """Metrics of (network, accelerator) pairs; the hardware model runs once per distinct network.

        ``accelerators`` is ignored (may be ``None``) when there is no hardware cost.
        """
        nets = [self.space.space.validate(n) for n in networks]
        results: list[Metrics] = [self.network_metrics(n) for n in nets]
        if self.hardware is None:
            return results
        assert accelerators is not None and len(accelerators) == len(nets)
        groups: dict[str, list[int]] = {}
        for i, n in enumerate(nets):
            groups.setdefault(self.space.cache_key(n), []).append(i)
        for idx in groups.values():
            costs = self.hardware.cost(nets[idx[0]], [accelerators[i] for i in idx])
            for i, c in zip(idx, costs):
                results[i].update(c)
        return results

    def evaluate(self, design: Mapping[str, Any], workload: str) -> Metrics:
        return self.evaluate_many([design], workload)[0]

    def evaluate_many(self, designs: Sequence[Mapping[str, Any]], workload: str) -> list[Metrics]:
        self.workload_data(workload)  # a workload given directly is checked here
        accs = None if self.accelerator is None else [self.accelerator] * len(designs)
        return self.evaluate_pairs(designs, accs)


__all__ = [
    "EVALUATORS",
    "NASSimulator",
    "NB201Metrics",
    "NetworkEvaluator",
    "ProxyMetrics",
    "TrainMetrics",
    "make_network_evaluators",
]
