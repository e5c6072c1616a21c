"""Train, score, save and load proxy cost models.

A :class:`ProxyModel` predicts every metric of one *(env, workload, simulator version)*
from the design parameters. :func:`training_table` turns a dataset (see
:mod:`archgym.dataset`) into unique successfully simulated designs of one such group;
:func:`train_proxy` fits a model on a random split and scores it on the held-out part with
:func:`score`: per metric RMSE, relative RMSE (RMSE / mean |true value|), MAPE, and the
Spearman and Kendall rank correlations.

A proxy file is written with joblib (via a temporary file + rename). It holds pickled
scikit-learn estimators: load only proxy files you trust.
"""

from __future__ import annotations

import datetime as _dt
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from archgym.atomic import atomic_path
from archgym.logger import METRIC_PREFIX, PARAM_PREFIX
from archgym.proxy.features import FeatureEncoder, TargetScaler
from archgym.proxy.models import MODELS, Regressor, limited_threads, make_regressor

FILE_FORMAT = "archgym-proxy"
FILE_VERSION = 1
GROUP_KEYS = ("env_id", "workload", "simulator_version")


class ProxyDataError(ValueError):
    """The dataset cannot train a proxy as asked (mixed groups, no rows, unknown metric)."""


@dataclass
class TrainingTable:
    """Unique, successfully simulated designs of one (env, workload, simulator version)."""

    designs: pd.DataFrame  # one column per parameter (no prefix)
    targets: pd.DataFrame  # one column per metric (no prefix)
    env_id: str
    workload: str
    simulator_version: str


def training_table(
    df: pd.DataFrame,
    workload: str | None = None,
    metrics: Sequence[str] | None = None,
    simulator_version: str | None = None,
) -> TrainingTable:
    """Select one group, drop failed rows and proxy-generated rows, dedupe designs.

    Raises:
        ProxyDataError: several groups remain (name the one to use), or nothing is left.
    """
    missing = [k for k in GROUP_KEYS if k not in df.columns]
    if missing:
        raise ProxyDataError(f"the dataset lacks column(s) {', '.join(missing)}: is it an archgym dataset?")
    df = df[~df["simulator_version"].astype(str).str.startswith("proxy")]
    if workload is not None:
        df = df[df["workload"] == workload]
    if simulator_version is not None:
        df = df[df["simulator_version"] == simulator_version]
    groups = df[list(GROUP_KEYS)].drop_duplicates()
    if len(groups) == 0:
        raise ProxyDataError(
            "no simulator rows left to train on" + (f" for workload {workload!r}" if workload else "")
        )
    if len(groups) > 1:
        listed = "; ".join(" / ".join(map(str, r)) for r in groups.itertuples(index=False))
        raise ProxyDataError(
            f"the dataset mixes {len(groups)} env/workload/simulator groups ({listed}); "
            "choose one with --workload (and --simulator-version)"
        )
    env_id, wl, ver = groups.iloc[0]
    df = df.loc[:, df.notna().any()]  # drop other envs' all-null columns
    all_metrics = [c[len(METRIC_PREFIX) :] for c in df.columns if c.startswith(METRIC_PREFIX)]
    chosen = list(metrics) if metrics else all_metrics
    unknown = [m for m in chosen if m not in all_metrics]
    if unknown:
        raise ProxyDataError(
            f"unknown metric(s) {', '.join(unknown)}; the dataset has {', '.join(all_metrics)}"
        )
    pcols = [c for c in df.columns if c.startswith(PARAM_PREFIX)]
    mcols = [METRIC_PREFIX + m for m in chosen]
    ok = df["error"].isna() if "error" in df else True
    df = df[ok & np.isfinite(df[mcols].to_numpy(dtype=np.float64)).all(axis=1)]
    df = df.drop_duplicates(subset=pcols).reset_index(drop=True)
    if len(df) < 4:
        raise ProxyDataError(f"only {len(df)} unique successful designs: too few to train a proxy")
    designs = df[pcols].rename(columns=lambda c: c[len(PARAM_PREFIX) :])
    targets = df[mcols].rename(columns=lambda c: c[len(METRIC_PREFIX) :]).astype(np.float64)
    return TrainingTable(designs, targets, str(env_id), str(wl), str(ver))


def score(y_true: np.ndarray, y_pred: np.ndarray, names: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per metric: ``rmse``, ``rel_rmse`` (RMSE / mean |y|), ``mape``, ``spearman``, ``kendall``, ``n``."""
    from scipy.stats import kendalltau, spearmanr

    out = {}
    for i, name in enumerate(names):
        t, p = y_true[:, i], y_pred[:, i]
        rmse = float(np.sqrt(np.mean((t - p) ** 2)))
        denom = float(np.mean(np.abs(t)))
        nz = np.abs(t) > 0
        const = np.ptp(t) == 0 or np.ptp(p) == 0
        out[name] = {
            "rmse": rmse,
            "rel_rmse": rmse / denom if denom > 0 else float("nan"),
            "mape": float(np.mean(np.abs((t[nz] - p[nz]) / t[nz]))) if nz.any() else float("nan"),
            "spearman": float("nan") if const else float(spearmanr(t, p).statistic),
            "kendall": float("nan") if const else float(kendalltau(t, p).statistic),
            "n": int(len(t)),
        }
    return out


@dataclass
class ProxyModel:
    """A fitted proxy: encoder + target scaler + regressor + provenance."""

    kind: str
    encoder: FeatureEncoder
    scaler: TargetScaler
    regressor: Regressor
    env_id: str
    workload: str
    simulator_version: str
    n_train: int
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    train_time_s: float = 0.0
    created: str = ""
    _controller: Any = field(default=None, repr=False, compare=False)  # cached thread-pool controller

    @property
    def param_names(self) -> list[str]:
        return self.encoder.names

    @property
    def metric_names(self) -> list[str]:
        return list(self.scaler.names)

    def predict(self, designs: pd.DataFrame | Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Predicted metrics, shape ``(n designs, n metrics)``, in the simulator's units."""
        x = self.encoder.transform(designs)
        if self._controller is None:
            from threadpoolctl import ThreadpoolController

            self._controller = ThreadpoolController()
        with limited_threads(1, self._controller):
            return self.scaler.inverse(self.regressor.predict(x))

    def save(self, path: str | os.PathLike) -> Path:
        """Write the proxy to one file (joblib; temporary file + atomic rename)."""
        import joblib

        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "kind": self.kind,
            "encoder": self.encoder.to_dict(),
            "scaler": self.scaler.__dict__.copy(),
            "regressor": self.regressor.state(),
            "env_id": self.env_id,
            "workload": self.workload,
            "simulator_version": self.simulator_version,
            "n_train": self.n_train,
            "scores": self.scores,
            "train_time_s": self.train_time_s,
            "created": self.created,
        }
        with atomic_path(out) as tmp:
            joblib.dump(payload, tmp, compress=3)
        return out

    @classmethod
    def load(cls, path: str | os.PathLike) -> ProxyModel:
        """Read a proxy file written by :meth:`save`.

        Raises:
            FileNotFoundError: no file at ``path``.
            ValueError: the file is not an archgym proxy (or of a newer format).
        """
        import joblib

        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"no proxy file at {p}")
        try:
            data = joblib.load(p)
        except Exception as exc:
            raise ValueError(
                f"{p} is not a readable archgym proxy file ({type(exc).__name__}: {exc})"
            ) from None
        if not isinstance(data, dict) or data.get("format") != FILE_FORMAT:
            raise ValueError(f"{p} is not an archgym proxy file")
        if int(data.get("version", 0)) > FILE_VERSION:
            raise ValueError(
                f"{p} has proxy file version {data['version']}; this archgym reads up to {FILE_VERSION}"
            )
        return cls(
            kind=data["kind"],
            encoder=FeatureEncoder.from_dict(data["encoder"]),
            scaler=TargetScaler(**data["scaler"]),
            regressor=MODELS[data["kind"]].from_state(data["regressor"]),
            env_id=data["env_id"],
            workload=data["workload"],
            simulator_version=data["simulator_version"],
            n_train=int(data["n_train"]),
            scores=data.get("scores", {}),
            train_time_s=float(data.get("train_time_s", 0.0)),
            created=data.get("created", ""),
        )


def split_indices(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random train/test split of ``range(n)``."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    perm = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(n * test_fraction)))
    return perm[n_test:], perm[:n_test]


def train_proxy(
    table: TrainingTable,
    kind: str = "rf",
    *,
    test_fraction: float = 0.2,
    seed: int = 0,
    progress: bool = False,
    refit_all: bool = False,
    threads: int = 1,
    **params: Any,
) -> ProxyModel:
    """Fit a proxy on a random ``1 - test_fraction`` of the table and score it on the rest.

    With ``refit_all`` the returned model is refitted on every row after scoring (the
    reported scores stay those of the held-out split). ``threads`` caps OpenMP/BLAS/torch
    threads while fitting (1 is fastest for these model sizes on a shared machine).
    """
    train, test = split_indices(len(table.designs), test_fraction, seed)
    names = list(table.targets.columns)
    y = table.targets.to_numpy(dtype=np.float64)

    def fit(rows: np.ndarray) -> tuple[FeatureEncoder, TargetScaler, Regressor, float]:
        enc = FeatureEncoder.fit(table.designs.iloc[rows])
        sc = TargetScaler.fit(y[rows], names)
        t0 = time.perf_counter()
        with limited_threads(threads):
            reg = make_regressor(kind, seed, **params).fit(
                enc.transform(table.designs.iloc[rows]), sc.transform(y[rows]), progress
            )
        return enc, sc, reg, time.perf_counter() - t0

    enc, sc, reg, elapsed = fit(train)
    model = ProxyModel(
        kind,
        enc,
        sc,
        reg,
        table.env_id,
        table.workload,
        table.simulator_version,
        int(getattr(reg, "n_fit", len(train))),
        train_time_s=elapsed,
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    )
    model.scores = score(y[test], model.predict(table.designs.iloc[test]), names)
    if refit_all:
        model.encoder, model.scaler, model.regressor, model.train_time_s = fit(np.arange(len(y)))
        model.n_train = int(getattr(model.regressor, "n_fit", len(y)))
    return model


def format_scores(scores: Mapping[str, Mapping[str, float]], title: str = "") -> str:
    """A fixed-width table of :func:`score` results."""
    lines = [title] if title else []
    lines.append(
        f"  {'metric':<28} {'RMSE':>12} {'rel RMSE':>9} {'MAPE':>8} {'Spearman':>9} {'Kendall':>8} {'n':>6}"
    )
    for name, s in scores.items():
        lines.append(
            f"  {name:<28} {s['rmse']:>12.5g} {100 * s['rel_rmse']:>8.3f}% {100 * s['mape']:>7.3f}% "
            f"{s['spearman']:>9.4f} {s['kendall']:>8.4f} {s['n']:>6d}"
        )
    return "\n".join(lines)
