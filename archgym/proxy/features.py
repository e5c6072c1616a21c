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

:meth:`FeatureEncoder.encode` is vectorised, the hot path of
:meth:`~archgym.proxy.simulator.ProxySimulator.evaluate_arrays`: no Python loop over the designs.
Each design dict is read once, as a tuple (one C-level ``map``: reading dicts scattered in
memory is the cost), its categorical values looked up as one tuple in a memo of the
combinations seen (:class:`_CategoryMemo`), then one compiled pass
(:func:`~archgym.proxy.feature_kernel.fill_features`) writes every feature. Up to
``SMALL_BATCH`` design dicts are encoded in plain Python (calling NumPy costs more than the work).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

from archgym.proxy.feature_kernel import fill_features

#: numeric parameters with at most this many distinct training values also get a one-hot block
MAX_LEVELS = 16
#: designs: a frame, a mapping of parameter name -> column of values, or a sequence of design dicts
Designs = pd.DataFrame | Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]]
#: the most combinations of categorical values an encoder remembers (see :class:`_CategoryMemo`)
MEMO_SIZE = 1 << 14
#: up to this many design dicts are encoded in plain Python (faster than NumPy per parameter)
SMALL_BATCH = 8


def _is_pow2(values: np.ndarray) -> bool:
    v = values[np.isfinite(values)]
    if v.size == 0 or np.any(v <= 0) or np.any(v != np.round(v)):
        return False
    ints = v.astype(np.int64)
    return bool(np.all(ints & (ints - 1) == 0)) and len(np.unique(ints)) > 2


class _RowColumn:
    """One parameter's values in rows read from design dicts (a tuple per design)."""

    __slots__ = ("rows", "position", "get")

    def __init__(self, rows: Sequence[tuple[Any, ...]], position: int) -> None:
        self.rows, self.position, self.get = rows, position, itemgetter(position)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Any]:
        return map(self.get, self.rows)  # one C-level pass

    def __getitem__(self, i: int) -> Any:
        return self.rows[i][self.position]


#: one parameter's values: a sequence, an array, or read from design dicts
Column = Sequence[Any] | np.ndarray | _RowColumn


def _category_indices(col: Column, lookup: Mapping[Any, int]) -> np.ndarray:
    """Index of each value among the categories (-1: unseen); non-string values by their ``str``."""
    if isinstance(col, np.ndarray) and col.dtype.kind == "U" and len(col) > 64:
        uniq, inverse = np.unique(col, return_inverse=True)  # a few distinct values
        return np.array([lookup.get(v, -1) for v in uniq.tolist()], dtype=np.int64)[inverse.reshape(-1)]
    idx = np.fromiter(map(lookup.get, col, repeat(-1)), dtype=np.int64, count=len(col))  # no Python loop
    for i in np.flatnonzero(idx < 0).tolist():  # not found as given: a number or a bool naming a category
        idx[i] = lookup.get(str(col[i]), -1)
    return idx


def _numbers(col: Column) -> np.ndarray:
    """A column of numbers as float64 (``None`` as NaN)."""
    if not isinstance(col, np.ndarray):
        with contextlib.suppress(TypeError, ValueError):  # None or a string: NumPy's conversion below
            return np.fromiter(col, dtype=np.float64, count=len(col))
    return np.asarray(col, dtype=np.float64)


class _CategoryMemo:
    """Each combination of categorical values seen in design dicts -> its categories' indices.

    Looking categories up costs a dictionary look-up per parameter and design; with the memo
    it is one for all of a design's categorical values, as a tuple (a design space has few
    combinations). It remembers at most ``size`` combinations, of strings only; the others are
    looked up per parameter every time. The indices are those :func:`_category_indices` gives.
    """

    def __init__(self, positions: Sequence[int], lookups: Sequence[Mapping[Any, int]], size: int) -> None:
        self.positions, self.lookups, self.size = list(positions), list(lookups), size
        self.key = itemgetter(*self.positions) if self.positions else (lambda _r: ())
        self.rows: dict[Any, int] = {}  # combination -> row of ``table`` (row 0: not remembered)
        self.table = np.full((1, len(self.positions)), -1, dtype=np.int64)

    def indices(self, rows: Sequence[tuple[Any, ...]]) -> np.ndarray:
        """``(n designs, n categorical parameters)`` indices (-1: unseen) from rows of values."""
        try:
            at = np.fromiter(map(self.rows.get, map(self.key, rows), repeat(0)), np.int64, len(rows))
        except TypeError:  # an unhashable value: no memo
            at = np.zeros(len(rows), dtype=np.int64)
        out = self.table[at]
        miss = np.flatnonzero(at == 0)
        if miss.size:
            sub = [rows[i] for i in miss.tolist()]
            idx = [_category_indices(_RowColumn(sub, p), lk) for p, lk in zip(self.positions, self.lookups)]
            out[miss] = np.column_stack(idx)
            with contextlib.suppress(TypeError):
                self._remember(sub, out[miss])
        return out

    def _remember(self, rows: Sequence[tuple[Any, ...]], idx: np.ndarray) -> None:
        single = len(self.positions) == 1
        new: dict[Any, np.ndarray] = {}
        for key, row in dict(zip(map(self.key, rows), idx)).items():  # each combination once
            if len(self.rows) + len(new) >= self.size:
                break
            if all(type(v) is str for v in ((key,) if single else key)):
                new[key] = row  # strings only: 1, 1.0 and True are equal keys, not equal categories
        if new:  # the table grows before the keys that point into it
            start = len(self.table)
            self.table = np.concatenate([self.table, np.array(list(new.values()), dtype=np.int64)])
            self.rows.update((k, start + j) for j, k in enumerate(new))


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
        self._lookup: list[dict[Any, int]] = [
            {c: k for k, c in enumerate(f.categories)}
            if f.kind == "onehot"
            else {v: k for k, v in enumerate(f.levels)}
            for f in self.features
        ]
        # the vectorised encoding's constants (see :func:`fill_features`): the categorical and
        # numeric features' positions and first columns, the numeric ones' scaling, ranges and levels
        start = np.cumsum([0] + [f.width for f in self.features])[:-1].astype(np.int64)
        self._cat = [k for k, f in enumerate(self.features) if f.kind == "onehot"]
        self._num = [k for k, f in enumerate(self.features) if f.kind != "onehot"]
        num = [self.features[k] for k in self._num]
        counts = np.array([len(f.levels) for f in num], dtype=np.int64)
        self._consts = (
            start[self._cat],
            start[self._num],
            np.array([f.kind == "log2" for f in num], dtype=bool),
            *(
                np.array([getattr(f, a) for f in num], dtype=np.float64)
                for a in ("mean", "std", "low", "high")
            ),
            np.array([v for f in num for v in f.levels], dtype=np.float64),
            (np.cumsum(counts) - counts).astype(np.int64),
            counts,
        )
        self._memo = _CategoryMemo(self._cat, [self._lookup[k] for k in self._cat], MEMO_SIZE)
        names = self.names
        self._row = itemgetter(*names) if len(names) > 1 else (lambda d: tuple(d[n] for n in names))

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

    def _columns(self, designs: Designs) -> list[Column]:
        """The designs' values, one sequence per parameter (in encoder order)."""
        if isinstance(designs, pd.DataFrame):
            if all(n in designs.columns for n in self.names):
                return [designs[n].to_numpy() for n in self.names]
        elif isinstance(designs, Mapping):  # columns: parameter name -> values
            if all(n in designs for n in self.names):
                return [designs[n] for n in self.names]
        else:
            try:  # each design dict read once (one C-level pass), as a tuple
                rows = list(map(self._row, designs))
            except KeyError:
                raise self._missing(designs) from None
            return [_RowColumn(rows, j) for j in range(len(self.names))]
        raise self._missing(designs)

    def _missing(self, designs: Designs) -> KeyError:
        """The error for designs that lack some of the proxy's parameters."""
        if isinstance(designs, (pd.DataFrame, Mapping)):
            missing = [n for n in self.names if n not in designs]
        else:
            missing = sorted({n for d in designs for n in self.names if n not in d}, key=self.names.index)
        return KeyError(
            f"designs lack parameter(s) {', '.join(missing)}; the proxy needs {', '.join(self.names)}"
        )

    def transform(self, designs: Designs, dtype: Any = np.float64) -> np.ndarray:
        """Encode designs (a frame or a list of dicts keyed by parameter name)."""
        return self.encode(designs, dtype)[0]

    def encode(self, designs: Designs, dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
        """Features and, per design, whether it lies outside the training data's range.

        A design is out of range when a numeric parameter is below the smallest or above the
        largest training value, or a categorical parameter takes a value never seen in training.
        Vectorised: one C-level pass per parameter reads the values (categories of design dicts
        through :class:`_CategoryMemo`), then one compiled pass writes the features
        (:func:`~archgym.proxy.feature_kernel.fill_features`).
        """
        if len(designs) <= SMALL_BATCH and not isinstance(designs, (pd.DataFrame, Mapping)):
            return self._encode_few(designs, dtype)
        cols = self._columns(designs)
        n = len(cols[0]) if cols else len(designs)
        cat = np.empty((n, len(self._cat)), dtype=np.int64)
        x = np.empty((n, len(self._num)))
        if self._cat and isinstance(cols[0], _RowColumn):
            cat[:] = self._memo.indices(cols[0].rows)
        else:
            for b, k in enumerate(self._cat):
                cat[:, b] = _category_indices(cols[k], self._lookup[k])
        for c, k in enumerate(self._num):
            x[:, c] = _numbers(cols[k])
        out = np.zeros((n, self.width), dtype=dtype)
        outside = np.empty(n, dtype=bool)
        cat_col, num_col, *consts = self._consts
        fill_features(out, outside, cat, cat_col, x, num_col, *consts)
        return out, outside

    def _encode_few(self, designs: Sequence[Mapping[str, Any]], dtype: Any) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`encode` for a handful of design dicts, in plain Python (NumPy calls per
        parameter cost more than the work for one design)."""
        if any(n not in d for d in designs for n in self.names):
            raise self._missing(designs)
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
