"""Design parameters -> model features, metrics -> model targets (and back).

Features are learnt from the data alone (a proxy needs no env to train):

* a column of strings (a categorical parameter) becomes a one-hot block; a value never
  seen in training encodes as all zeros;
* a numeric column whose values are all powers of two becomes ``log2(value)``;
* any other numeric column is used as is;

and every numeric feature is standardised (zero mean, unit variance on the training set).
Targets are ``log(value)`` when a metric is positive on every training row (relative
errors matter for latency, power, energy), then standardised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd


def _is_pow2(values: np.ndarray) -> bool:
    v = values[np.isfinite(values)]
    if v.size == 0 or np.any(v <= 0) or np.any(v != np.round(v)):
        return False
    ints = v.astype(np.int64)
    return bool(np.all(ints & (ints - 1) == 0)) and len(np.unique(ints)) > 2


@dataclass
class ParamFeature:
    """How one design parameter is encoded."""

    name: str
    kind: str  # "onehot" | "log2" | "linear"
    categories: list[str] = field(default_factory=list)
    mean: float = 0.0
    std: float = 1.0

    @property
    def width(self) -> int:
        return len(self.categories) if self.kind == "onehot" else 1


class FeatureEncoder:
    """Fitted encoding of design parameters into a float matrix (see module doc)."""

    def __init__(self, features: Sequence[ParamFeature]) -> None:
        self.features = list(features)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def width(self) -> int:
        return sum(f.width for f in self.features)

    @classmethod
    def fit(cls, designs: pd.DataFrame) -> "FeatureEncoder":
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
            feats.append(ParamFeature(name, kind, mean=float(np.nanmean(z)), std=std if std > 0 else 1.0))
        return cls(feats)

    def transform(self, designs: pd.DataFrame | Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Encode designs (a frame or a list of dicts keyed by parameter name)."""
        frame = isinstance(designs, pd.DataFrame)
        have = designs.columns if frame else (designs[0].keys() if len(designs) else self.names)
        missing = [f.name for f in self.features if f.name not in have]
        if missing:
            raise KeyError(f"designs lack parameter(s) {', '.join(missing)}; the proxy needs {', '.join(self.names)}")
        out = np.zeros((len(designs), self.width), dtype=np.float64)
        j = 0
        for f in self.features:
            col = designs[f.name].tolist() if frame else [d[f.name] for d in designs]
            if f.kind == "onehot":
                vals = np.array([str(v) for v in col], dtype=object)
                for k, cat in enumerate(f.categories):
                    out[:, j + k] = vals == cat
            else:
                x = np.asarray(col, dtype=np.float64)
                z = np.log2(np.maximum(x, 1e-300)) if f.kind == "log2" else x
                out[:, j] = (z - f.mean) / f.std
            j += f.width
        return out

    def to_dict(self) -> list[dict[str, Any]]:
        return [f.__dict__.copy() for f in self.features]

    @classmethod
    def from_dict(cls, data: Sequence[Mapping[str, Any]]) -> "FeatureEncoder":
        return cls([ParamFeature(**d) for d in data])


@dataclass
class TargetScaler:
    """Per-metric ``log`` (when positive) + standardisation of the training targets."""

    names: list[str]
    log: list[bool]
    mean: list[float]
    std: list[float]

    @classmethod
    def fit(cls, y: np.ndarray, names: Sequence[str]) -> "TargetScaler":
        logs = [bool(np.all(y[:, i] > 0)) for i in range(y.shape[1])]
        z = np.column_stack([np.log(y[:, i]) if logs[i] else y[:, i] for i in range(y.shape[1])])
        std = z.std(axis=0)
        return cls(list(names), logs, z.mean(axis=0).tolist(), np.where(std > 0, std, 1.0).tolist())

    def transform(self, y: np.ndarray) -> np.ndarray:
        z = np.column_stack([np.log(y[:, i]) if self.log[i] else y[:, i] for i in range(y.shape[1])])
        return (z - np.asarray(self.mean)) / np.asarray(self.std)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        y = z * np.asarray(self.std) + np.asarray(self.mean)
        for i, lg in enumerate(self.log):
            if lg:
                y[:, i] = np.exp(np.clip(y[:, i], -700, 700))
        return y
