"""Design parameters -> model features, metrics -> model targets (and back).

Features are learnt from the data alone (a proxy needs no env to train):

* a column of strings (a categorical parameter) becomes a one-hot block; a value never
  seen in training encodes as all zeros;
* a numeric column whose values are all powers of two becomes ``log2(value)``;
* any other numeric column is used as is;
* a numeric column with at most ``max_levels`` (16) distinct values (an ordinal knob) also
  gets a one-hot block of its levels, so that a model can fit effects that are not smooth in
  the value (a queue that saturates below some size); a value between or outside the
  training levels encodes as all zeros there and keeps its numeric feature;

and every numeric feature is standardised (zero mean, unit variance on the training set).
Targets are ``log(value)`` when a metric is positive on every training row (relative
errors matter for latency, power, energy; ``log=False`` keeps raw values, which fits an
absolute-error score better for a metric spanning decades), then standardised.

:meth:`FeatureEncoder.transform` is vectorised per parameter (one pass over the designs to
pick the values, no per-value Python work beyond a dictionary look-up for categories): it is
the hot path of :meth:`~archgym.proxy.simulator.ProxySimulator.evaluate_many`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

#: numeric parameters with at most this many distinct training values also get a one-hot block
MAX_LEVELS = 16
#: designs: a frame, a mapping of parameter name -> column of values, or a sequence of design dicts
Designs = pd.DataFrame | Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]]
#: up to this many design dicts are encoded in plain Python (faster than NumPy per parameter)
SMALL_BATCH = 8


def _is_pow2(values: np.ndarray) -> bool:
    v = values[np.isfinite(values)]
    if v.size == 0 or np.any(v <= 0) or np.any(v != np.round(v)):
        return False
    ints = v.astype(np.int64)
    return bool(np.all(ints & (ints - 1) == 0)) and len(np.unique(ints)) > 2


def _category_indices(col: Sequence[Any] | np.ndarray, lookup: Mapping[Any, int]) -> np.ndarray:
    """Index of each value among the categories (-1: unseen); non-string values by their ``str``."""
    if isinstance(col, np.ndarray) and col.dtype.kind in "UO" and len(col) > 64:
        uniq, inverse = np.unique(col.astype(str), return_inverse=True)  # a few distinct values
        return np.array([lookup.get(v, -1) for v in uniq.tolist()], dtype=np.int64)[inverse.reshape(-1)]
    get = lookup.get
    idx = np.array([get(v, -1) for v in col], dtype=np.int64)
    for i in np.flatnonzero(idx < 0).tolist():  # not found as given: a number or a bool naming a category
        idx[i] = get(str(col[i]), -1)
    return idx


@dataclass
class ParamFeature:
    """How one design parameter is encoded."""

    name: str
    kind: str  # "onehot" | "log2" | "linear"
    categories: list[str] = field(default_factory=list)
    mean: float = 0.0
    std: float = 1.0
    levels: list[float] = field(default_factory=list)  # numeric kinds: one-hot levels (may be empty)
    low: float = float("-inf")  # numeric kinds: smallest training value
    high: float = float("inf")  # numeric kinds: largest training value

    @property
    def width(self) -> int:
        return len(self.categories) if self.kind == "onehot" else 1 + len(self.levels)


class FeatureEncoder:
    """Fitted encoding of design parameters into a float matrix (see module doc)."""

    def __init__(self, features: Sequence[ParamFeature]) -> None:
        self.features = list(features)
        self._getter = itemgetter(*self.names) if self.features else (lambda _d: ())
        self._lookup: list[dict[Any, int]] = [
            {c: k for k, c in enumerate(f.categories)}
            if f.kind == "onehot"
            else {v: k for k, v in enumerate(f.levels)}
            for f in self.features
        ]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def width(self) -> int:
        return sum(f.width for f in self.features)

    @classmethod
    def fit(cls, designs: pd.DataFrame, max_levels: int = MAX_LEVELS) -> FeatureEncoder:
        """Learn the encoding from a frame with one column per parameter (no ``param.`` prefix)."""
        feats = []
        for name in designs.columns:
            col = designs[name]
            if col.dtype == object or pd.api.types.is_string_dtype(col) or pd.api.types.is_bool_dtype(col):
                feats.append(ParamFeature(name, "onehot", sorted(col.astype(str).unique().tolist())))
                continue
            x = col.to_numpy(dtype=np.float64)
            kind = "log2" if _is_pow2(x) else "linear"
            z = np.log2(x) if kind == "log2" else x
            std = float(np.nanstd(z))
            uniq = np.unique(x[np.isfinite(x)])
            levels = uniq.tolist() if 2 < len(uniq) <= max_levels else []
            finite = x[np.isfinite(x)]
            feats.append(
                ParamFeature(
                    name,
                    kind,
                    mean=float(np.nanmean(z)),
                    std=std if std > 0 else 1.0,
                    levels=levels,
                    low=float(finite.min()) if finite.size else float("-inf"),
                    high=float(finite.max()) if finite.size else float("inf"),
                )
            )
        return cls(feats)

    def _columns(self, designs: Designs) -> list[Sequence[Any] | np.ndarray]:
        """The designs' values, one sequence per parameter (in encoder order)."""
        if isinstance(designs, pd.DataFrame):
            missing = [n for n in self.names if n not in designs.columns]
            if not missing:
                return [designs[n].to_numpy() for n in self.names]
        elif isinstance(designs, Mapping):  # columns: parameter name -> values
            missing = [n for n in self.names if n not in designs]
            if not missing:
                return [designs[n] for n in self.names]
        elif self._getter is None:
            return []
        else:
            getter = self._getter
            try:
                rows = [getter(d) for d in designs]
            except KeyError:
                rows = None
            if rows is not None:
                if len(self.features) == 1:
                    return [rows]
                return list(zip(*rows)) if rows else [() for _ in self.features]
            missing = sorted({n for d in designs for n in self.names if n not in d}, key=self.names.index)
        raise KeyError(
            f"designs lack parameter(s) {', '.join(missing)}; the proxy needs {', '.join(self.names)}"
        )

    def transform(self, designs: Designs, dtype: Any = np.float64) -> np.ndarray:
        """Encode designs (a frame or a list of dicts keyed by parameter name)."""
        return self.encode(designs, dtype)[0]

    def encode(self, designs: Designs, dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
        """Features and, per design, whether it lies outside the training data's range.

        A design is out of range when a numeric parameter is below the smallest or above the
        largest training value, or a categorical parameter takes a value never seen in training.
        """
        if len(designs) <= SMALL_BATCH and not isinstance(designs, (pd.DataFrame, Mapping)):
            return self._encode_few(designs, dtype)
        cols = self._columns(designs)
        n = len(cols[0]) if cols else len(designs)
        out = np.zeros((n, self.width), dtype=dtype)
        outside = np.zeros(n, dtype=bool)
        rows = np.arange(n)
        j = 0
        for f, lookup, col in zip(self.features, self._lookup, cols):
            if f.kind == "onehot":
                idx = _category_indices(col, lookup)
                hit = idx >= 0
                out[rows[hit], j + idx[hit]] = 1.0
                outside |= ~hit
            else:
                x = np.asarray(col, dtype=np.float64)
                z = np.log2(np.maximum(x, 1e-300)) if f.kind == "log2" else x
                out[:, j] = (z - f.mean) / f.std
                outside |= (x < f.low) | (x > f.high) | ~np.isfinite(x)
                if f.levels:
                    idx = np.searchsorted(f.levels, x)
                    idx_c = np.minimum(idx, len(f.levels) - 1)
                    hit = np.asarray(f.levels)[idx_c] == x
                    out[rows[hit], j + 1 + idx_c[hit]] = 1.0
            j += f.width
        return out, outside

    def _encode_few(self, designs: Sequence[Mapping[str, Any]], dtype: Any) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`encode` for a handful of design dicts, in plain Python (NumPy calls per
        parameter cost more than the work for one design)."""
        self._columns(designs)  # raises on a missing parameter
        n = len(designs)
        out = np.zeros((n, self.width), dtype=dtype)
        outside = np.zeros(n, dtype=bool)
        for i, d in enumerate(designs):
            row = out[i]
            j = 0
            for f, lookup in zip(self.features, self._lookup):
                v = d[f.name]
                if f.kind == "onehot":
                    k = lookup.get(v if type(v) is str else str(v), -1)
                    if k >= 0:
                        row[j + k] = 1.0
                    else:
                        outside[i] = True
                else:
                    x = float(v)
                    z = math.log2(max(x, 1e-300)) if f.kind == "log2" and x == x else x
                    row[j] = (z - f.mean) / f.std
                    if not (f.low <= x <= f.high) or not math.isfinite(x):
                        outside[i] = True
                    k = lookup.get(x, -1)
                    if k >= 0:
                        row[j + 1 + k] = 1.0
                j += f.width
        return out, outside

    def to_dict(self) -> list[dict[str, Any]]:
        return [f.__dict__.copy() for f in self.features]

    @classmethod
    def from_dict(cls, data: Sequence[Mapping[str, Any]]) -> FeatureEncoder:
        return cls([ParamFeature(**d) for d in data])


@dataclass
class TargetScaler:
    """Per-metric ``log`` (when positive) + standardisation of the training targets."""

    names: list[str]
    log: list[bool]
    mean: list[float]
    std: list[float]

    @classmethod
    def fit(cls, y: np.ndarray, names: Sequence[str], log: bool = True) -> TargetScaler:
        """Standardise each metric; with ``log``, the log of every metric positive on all rows."""
        logs = [bool(log and np.all(y[:, i] > 0)) for i in range(y.shape[1])]
        z = np.column_stack([np.log(y[:, i]) if logs[i] else y[:, i] for i in range(y.shape[1])])
        std = z.std(axis=0)
        return cls(list(names), logs, z.mean(axis=0).tolist(), np.where(std > 0, std, 1.0).tolist())

    def transform(self, y: np.ndarray) -> np.ndarray:
        z = np.column_stack([np.log(y[:, i]) if self.log[i] else y[:, i] for i in range(y.shape[1])])
        return (z - np.asarray(self.mean)) / np.asarray(self.std)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        y = z * np.asarray(self.std) + np.asarray(self.mean)
        logs = np.flatnonzero(self.log)
        if len(logs):
            y[:, logs] = np.exp(np.clip(y[:, logs], -700, 700))
        return y

    def inverse_std(self, y: np.ndarray, z_std: np.ndarray) -> np.ndarray:
        """A standard deviation in standardised units -> the metric's units at prediction ``y``.

        First order (delta method): ``std * s`` for a plain target, ``y * std * s`` for a
        log-transformed one (its relative spread is ``std * s``).
        """
        s = z_std * np.asarray(self.std)
        logs = np.asarray(self.log, dtype=bool)
        return np.where(logs, np.abs(y) * s, s)
