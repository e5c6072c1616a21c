"""The NAS env's metrics: zero-cost proxies and the accelerator's costs (a light module:
``archgym envs`` reads the default metrics from here without loading torch)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from archgym.envs.accelerator.metrics import METRICS as ACCELERATOR_METRICS
from archgym.simulator import Metric

#: proxies whose larger value means a bigger (costlier) network, not a better one
COST_PROXIES: tuple[str, ...] = ("params_m", "flops_m")
#: typical magnitudes (for observation scaling) of each proxy on the default digits spaces
PROXY_SCALES: dict[str, float] = {
    "synflow": 20.0,
    "naswot": 500.0,
    "jacov": 1e5,
    "grad_norm": 10.0,
    "dss": 5.0,
    "params_m": 0.1,
    "flops_m": 5.0,
}
#: order in which proxies run: the ones that only read the network first, synflow (copies) any time
DEFAULT_PROXIES: tuple[str, ...] = ("synflow", "naswot", "grad_norm", "dss", "jacov", "params_m", "flops_m")

PROXY_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "synflow": ("1", "ln(1 + synaptic flow) at initialisation (Tanaka et al. 2020)"),
    "naswot": ("1", "log-determinant of the ReLU-code kernel (Mellor et al. 2021)"),
    "jacov": ("1", "Jacobian-covariance score (Mellor et al. 2020, v1)"),
    "grad_norm": ("1", "sum of per-layer loss-gradient norms at initialisation"),
    "dss": ("1", "ln(1 + attention synaptic diversity + synaptic saliency) (Zhou et al. 2022)"),
    "params_m": ("M", "trainable parameters, millions"),
    "flops_m": ("MFLOP", "2 x MACs of one image through conv/linear layers, millions"),
}

#: accelerator metrics a NAS environment reports, with scales sized for the small digits networks
HW_METRICS: tuple[str, ...] = ("latency_ms", "energy_uj", "area_mm2")
NAS_HW_SCALES: dict[str, float] = {"latency_ms": 0.05, "energy_uj": 20.0, "area_mm2": 5.0}


def proxy_metrics(names: Sequence[str]) -> tuple[Metric, ...]:
    """The :class:`Metric` of each named proxy (cost proxies lower-is-better, the rest higher)."""
    return tuple(
        Metric(
            n,
            PROXY_DESCRIPTIONS[n][0],
            "lower" if n in COST_PROXIES else "higher",
            PROXY_SCALES[n],
            PROXY_DESCRIPTIONS[n][1],
        )
        for n in names
    )


def hardware_metrics(known: Sequence[Metric], names: Sequence[str]) -> tuple[Metric, ...]:
    """The named accelerator metrics among ``known``, rescaled for the small NAS networks.

    Raises:
        ValueError: a name is not among ``known``.
    """
    table = {m.name: m for m in known}
    unknown = [m for m in names if m not in table]
    if unknown:
        raise ValueError(f"unknown accelerator metric(s) {', '.join(unknown)}; allowed: {', '.join(table)}")
    return tuple(dataclasses.replace(table[m], scale=NAS_HW_SCALES.get(m, table[m].scale)) for m in names)


def default_metrics() -> tuple[Metric, ...]:
    """``archgym/NAS-v0``'s metrics by default: every proxy, then the accelerator's costs."""
    return proxy_metrics(DEFAULT_PROXIES) + hardware_metrics(ACCELERATOR_METRICS, HW_METRICS)
