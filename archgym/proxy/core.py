"""Train, score, save and load proxy cost models.

A :class:`ProxyModel` predicts every metric of one *(env, workload, simulator version)*
from the design parameters. :func:`training_table` turns a dataset (see
:mod:`archgym.dataset`) into unique successfully simulated designs of one such group;
:func:`train_proxy` fits a model on a random split and scores it on the held-out part with
:func:`score`: per metric RMSE, relative RMSE (RMSE / mean |true value|), MAPE, and the
Spearman and Kendall rank correlations.

A proxy file is a zip archive (written via a temporary file + rename) of ``proxy.json`` —
format tag, feature encoding, target scaling, provenance (env, workload, simulator
version, training data hash, settings) and held-out scores — ``arrays.safetensors`` (NumPy
arrays: network weights, GP training data and hyperparameters) and LightGBM text models.
Loading it executes nothing from the file; pickle/joblib files are refused.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from archgym.atomic import atomic_path
from archgym.errors import ProxyDataError as ProxyDataError
from archgym.errors import ProxyFileError
from archgym.logger import METRIC_PREFIX, PARAM_PREFIX
from archgym.provenance import is_proxy_source
from archgym.proxy.features import Designs, FeatureEncoder, TargetScaler
from archgym.proxy.fileformat import FILE_FORMAT, FILE_VERSION, pack, unpack
from archgym.proxy.models import MODELS, Payload, Regressor, limited_threads, make_regressor

GROUP_KEYS = ("env_id", "workload", "simulator_version")
#: batches smaller than this predict without limiting threads (BLAS does not thread them)
SMALL_BATCH = 64


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
    if "source" in df.columns:  # rows a proxy predicted are no training data (schema 2: `source`)
        df = df[~df["source"].map(is_proxy_source).astype(bool)]
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
    provenance: dict[str, Any] = field(default_factory=dict)  # training data and settings
    _controller: Any = field(default=None, repr=False, compare=False)  # cached thread-pool controller
    _digest: str = field(default="", repr=False, compare=False)

    @property
    def param_names(self) -> list[str]:
        return self.encoder.names

    @property
    def metric_names(self) -> list[str]:
        return list(self.scaler.names)

    @property
    def digest(self) -> str:
        """First 12 hex digits of the SHA-256 of the proxy file's bytes (what :meth:`save` writes)."""
        if not self._digest:
            self._digest = hashlib.sha256(self.to_bytes()).hexdigest()[:12]
        return self._digest

    def _limited(self, n: int = 0) -> Any:
        """One BLAS/torch thread while predicting ``n`` designs (small batches never start threads)."""
        if n and n < SMALL_BATCH:
            return contextlib.nullcontext()
        if self._controller is None:
            from threadpoolctl import ThreadpoolController

            self._controller = ThreadpoolController()
        return limited_threads(1, self._controller)

    def predict(self, designs: Designs) -> np.ndarray:
        """Predicted metrics, shape ``(n designs, n metrics)``, in the simulator's units."""
        x = self.encoder.transform(designs, self.regressor.input_dtype)
        with self._limited(len(x)):
            return self.scaler.inverse(self.regressor.predict(x))

    def predict_dist(self, designs: Designs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Predicted metrics, their predictive standard deviations (both ``(n, metrics)``, in
        the simulator's units) and, per design, whether it lies outside the training data's range."""
        x, outside = self.encoder.encode(designs, self.regressor.input_dtype)
        with self._limited(len(x)):
            z, z_std = self.regressor.predict_std(x)
        y = self.scaler.inverse(z)
        return y, self.scaler.inverse_std(y, z_std), outside

    def predict_arrays(self, designs: Designs) -> dict[str, np.ndarray]:
        """Every prediction as one array per name, no per-design Python object: each metric,
        its predictive standard deviation ``<metric>_std`` and ``out_of_range`` (1.0 for a
        design outside the training data's range). ``designs``: a frame, a mapping of
        parameter name -> column of values, or a sequence of design dicts."""
        names, table = self.predict_table(designs)
        return {name: table[:, j] for j, name in enumerate(names)}

    def predict_table(self, designs: Designs) -> tuple[tuple[str, ...], np.ndarray]:
        """``(names, table)``: the columns of :meth:`predict_arrays` as one ``(n, names)`` matrix."""
        y, std, outside = self.predict_dist(designs)
        names = (*self.metric_names, *(f"{m}_std" for m in self.metric_names), "out_of_range")
        return names, np.concatenate([y, std, outside[:, None]], axis=1)

    # ------------------------------------------------------------------ files
    def metadata(self) -> dict[str, Any]:
        """Everything but the fitted arrays and model texts: what ``proxy.json`` holds."""
        import archgym

        return {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "kind": self.kind,
            "encoder": self.encoder.to_dict(),
            "scaler": self.scaler.__dict__.copy(),
            "env_id": self.env_id,
            "workload": self.workload,
            "simulator_version": self.simulator_version,
            "n_train": self.n_train,
            "scores": self.scores,
            "train_time_s": self.train_time_s,
            "created": self.created,
            "provenance": {"archgym_version": archgym.__version__, **self.provenance},
        }

    def to_bytes(self) -> bytes:
        """The proxy file's content (see :mod:`archgym.proxy.fileformat`)."""
        payload = self.regressor.payload()
        return pack({**self.metadata(), "regressor": payload.config}, payload.arrays, payload.blobs)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the proxy to one file (temporary file + atomic rename); see :meth:`load`."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        data = self.to_bytes()
        with atomic_path(out) as tmp:
            Path(tmp).write_bytes(data)
        self._digest = hashlib.sha256(data).hexdigest()[:12]
        return out

    @classmethod
    def load(cls, path: str | os.PathLike) -> ProxyModel:
        """Read a proxy file written by :meth:`save`, without executing anything from it.

        The file is a zip archive holding JSON metadata, NumPy arrays in safetensors and
        LightGBM's text model format; nothing is unpickled. Pickle/joblib files (older proxies,
        or anything else) are refused, since loading them would run code they carry.

        Raises:
            FileNotFoundError: no file at ``path``.
            ProxyFileError: (a ValueError) the file is not an archgym proxy (a pickle, another
                format, a newer version, or unexpected content), saying which.
        """
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"no proxy file at {p}")
        data = p.read_bytes()
        model = cls.from_bytes(data, where=str(p))
        model._digest = hashlib.sha256(data).hexdigest()[:12]
        return model

    @classmethod
    def from_bytes(cls, data: bytes, where: str = "proxy") -> ProxyModel:
        """Rebuild a proxy from the bytes of a proxy file (see :meth:`load`).

        Raises:
            ProxyFileError: not a proxy file this archgym reads, saying why.
        """
        meta, arrays, texts = unpack(data, where)
        try:
            kind = meta["kind"]
            if kind not in MODELS:
                raise ProxyFileError(f"{where}: unknown proxy model kind {kind!r}")
            regressor = MODELS[kind].from_payload(Payload(meta["regressor"], arrays, texts))
            return cls(
                kind=kind,
                encoder=FeatureEncoder.from_dict(meta["encoder"]),
                scaler=TargetScaler(**meta["scaler"]),
                regressor=regressor,
                env_id=meta["env_id"],
                workload=meta["workload"],
                simulator_version=meta["simulator_version"],
                n_train=int(meta["n_train"]),
                scores=meta.get("scores", {}),
                train_time_s=float(meta.get("train_time_s", 0.0)),
                created=meta.get("created", ""),
                provenance={k: v for k, v in meta.get("provenance", {}).items() if k != "archgym_version"},
            )
        except ProxyFileError:
            raise
        except Exception as exc:  # missing fields, corrupt arrays or model text: the file, not a bug
            raise ProxyFileError(
                f"{where} is not a readable archgym proxy file ({type(exc).__name__}: {exc})"
            ) from exc


def split_indices(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random train/test split of ``range(n)``."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    perm = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(n * test_fraction)))
    return perm[n_test:], perm[:n_test]


def table_digest(table: TrainingTable) -> str:
    """First 12 hex digits of a hash of the table's designs and targets (the proxy's training data)."""
    h = pd.util.hash_pandas_object(pd.concat([table.designs, table.targets], axis=1), index=False)
    return hashlib.sha256(h.to_numpy().tobytes()).hexdigest()[:12]


def fit_proxy(
    table: TrainingTable,
    kind: str = "gbt",
    rows: np.ndarray | None = None,
    *,
    seed: int = 0,
    log_targets: bool = True,
    progress: bool = False,
    threads: int = 1,
    **params: Any,
) -> ProxyModel:
    """Fit a proxy on ``rows`` of the table (default all), without scoring it.

    ``threads`` caps OpenMP/BLAS/torch threads while fitting (1 is fastest for these model
    sizes on a shared machine); ``log_targets`` fits positive metrics in log space.
    """
    rows = np.arange(len(table.designs)) if rows is None else rows
    names = list(table.targets.columns)
    y = table.targets.to_numpy(dtype=np.float64)[rows]
    designs = table.designs.iloc[rows]
    enc = FeatureEncoder.fit(designs)
    sc = TargetScaler.fit(y, names, log=log_targets)
    t0 = time.perf_counter()
    with limited_threads(threads):
        reg = make_regressor(kind, seed, **params).fit(enc.transform(designs), sc.transform(y), progress)
    return ProxyModel(
        kind,
        enc,
        sc,
        reg,
        table.env_id,
        table.workload,
        table.simulator_version,
        int(getattr(reg, "n_fit", len(rows))),
        train_time_s=time.perf_counter() - t0,
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        provenance={
            "training_data_sha256": table_digest(table),
            "training_designs": int(len(rows)),
            "seed": int(seed),
            "log_targets": bool(log_targets),
            "params": dict(params),
        },
    )


def train_proxy(
    table: TrainingTable,
    kind: str = "gbt",
    *,
    test_fraction: float = 0.2,
    seed: int = 0,
    progress: bool = False,
    refit_all: bool = False,
    threads: int = 1,
    log_targets: bool = True,
    **params: Any,
) -> ProxyModel:
    """Fit a proxy on a random ``1 - test_fraction`` of the table and score it on the rest.

    With ``refit_all`` the returned model is refitted on every row after scoring (the
    reported scores stay those of the held-out split). The held-out scores and the split
    go into the proxy's metadata.
    """
    train, test = split_indices(len(table.designs), test_fraction, seed)
    names = list(table.targets.columns)
    y = table.targets.to_numpy(dtype=np.float64)
    opts: dict[str, Any] = dict(seed=seed, log_targets=log_targets, progress=progress, threads=threads)
    model = fit_proxy(table, kind, train, **opts, **params)
    scores = score(y[test], model.predict(table.designs.iloc[test]), names)
    if refit_all:
        model = fit_proxy(table, kind, None, **opts, **params)
    model.scores = scores
    model.provenance.update(test_fraction=test_fraction, held_out_designs=int(len(test)), refit_all=refit_all)
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
