"""A trained proxy as a :class:`~archgym.simulator.Simulator`, and swapping it into an env.

``ProxySimulator.load(path)`` gives a simulator with the same protocol as the real one, so any
env and any agent run against it unchanged; every dataset row it produces records
``simulator_version = "proxy-<kind>[<simulator version it was trained on>]"`` and
``source = "proxy:<kind>:<file hash>"``.
:func:`proxy_simulator` is what ``env.simulator=proxy env.simulator.path=FILE`` resolves to
(the ``proxy`` entry point of ``archgym.simulators``): it checks that the proxy was trained on
this env (same parameters, metrics, env id and, by default, workload).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from archgym.env import unwrap
from archgym.errors import ConfigError, ProxyFileError
from archgym.proxy.core import ProxyModel
from archgym.simulator import Metric, Metrics, Simulator, check_settings

#: suffix of the column beside each predicted metric that holds its predictive standard deviation
STD_SUFFIX = "_std"
#: column flagging a design outside the proxy's training data (1.0) or inside it (0.0)
OUT_OF_RANGE = "out_of_range"


class ProxySimulator(Simulator):
    """Predicts metrics with a :class:`ProxyModel`; ``evaluate_many`` is one vectorised call.

    Besides the metrics, every evaluation reports :attr:`extra_columns`: ``<metric>_std``
    (the proxy's predictive standard deviation, in the metric's unit) and ``out_of_range``
    (1.0 when a parameter lies outside the training data's range or takes an unseen value).
    """

    def __init__(self, model: ProxyModel, metrics: Sequence[Metric] | None = None, path: str = "") -> None:
        self.model = model
        self.path = path
        names = model.metric_names
        if metrics is None:
            metrics = [Metric(n, "", "lower", 1.0, f"proxy prediction of {n}") for n in names]
        if [m.name for m in metrics] != names:
            given = ", ".join(m.name for m in metrics)
            raise ValueError(f"proxy predicts {', '.join(names)}; metric definitions given for {given}")
        self.metrics = tuple(metrics)
        self.version = f"proxy-{model.kind}[{model.simulator_version}]"
        self.extra_columns = (*(n + STD_SUFFIX for n in names), OUT_OF_RANGE)

    @property
    def source(self) -> str:
        """``proxy:<kind>:<first 12 hex digits of the SHA-256 of the proxy file>``."""
        return f"proxy:{self.model.kind}:{self.model.digest}"

    @classmethod
    def load(cls, path: str | os.PathLike, metrics: Sequence[Metric] | None = None) -> ProxySimulator:
        """Load a proxy file (see :meth:`ProxyModel.load`)."""
        return cls(ProxyModel.load(path), metrics, path=str(path))

    def evaluate(self, design: Mapping[str, Any], workload: Any) -> Metrics:
        return self.evaluate_many([design], workload)[0]

    def evaluate_many(self, designs: Sequence[Mapping[str, Any]], workload: Any) -> list[Metrics]:
        """One dict of metrics (and :attr:`extra_columns`) per design (from
        :meth:`ProxyModel.predict_table`); the workload is the one the proxy was trained on
        (checked by :func:`check_compatible`), so it is not read."""
        keys, table = self.model.predict_table(designs)
        return [dict(zip(keys, row)) for row in table.tolist()]  # tolist: Python floats, fast

    def evaluate_arrays(self, designs: Any, workload: Any) -> dict[str, np.ndarray]:
        """The predictions as one array per metric and extra column, no dict per design
        (:meth:`ProxyModel.predict_arrays`)."""
        return self.model.predict_arrays(designs)


def check_compatible(model: ProxyModel, env: Any, check_workload: bool = True) -> None:
    """Raise :class:`~archgym.errors.ConfigError` (saying what differs) unless ``model`` was
    trained on ``env``'s task (``env`` may be wrapped)."""
    base = unwrap(env)
    where = f"proxy trained on {model.env_id} [{model.workload}]"
    if base.env_id and model.env_id != base.env_id:
        raise ConfigError(f"{where} cannot stand in for {base.env_id}")
    if list(base.space.names) != model.param_names:
        theirs = ", ".join(base.space.names)
        raise ConfigError(
            f"{where}: parameters {', '.join(model.param_names)} differ from the env's {theirs}"
        )
    if list(base.simulator.metric_names) != model.metric_names:
        raise ConfigError(
            f"{where}: it predicts {', '.join(model.metric_names)}, the env needs "
            f"{', '.join(base.simulator.metric_names)} (train on every metric)"
        )
    if check_workload and str(base.workload_name) != model.workload:
        raise ConfigError(
            f"{where}: the env runs workload {base.workload_name!r} "
            "(train a proxy on that workload, or set env.simulator.check_workload=false)"
        )


def proxy_simulator(env: Any, settings: Mapping[str, Any]) -> ProxySimulator:
    """``env.simulator=proxy env.simulator.path=FILE``: the trained proxy in ``FILE`` for ``env``
    (the ``proxy`` entry point of ``archgym.simulators``).

    Raises:
        archgym.errors.ConfigError: an unknown setting, a missing path or file, a file that is
            not a proxy, or a proxy trained on another task.
    """
    s = check_settings("proxy", settings, {"path": None, "check_workload": True})
    path = s["path"]
    if not path or path == "???":
        raise ConfigError("env.simulator.path: missing; give the file written by `archgym proxy train`")
    try:
        model = ProxyModel.load(path)
    except (FileNotFoundError, ProxyFileError) as exc:  # ProxyModel.load's own refusals
        raise ConfigError(f"env.simulator.path: {exc}") from exc
    check_compatible(model, env, bool(s["check_workload"]))
    return ProxySimulator(model, env.simulator.metrics, path=str(path))
