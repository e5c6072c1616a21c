"""Design spaces: typed parameters and the encodings that agents and gymnasium need.

A :class:`DesignSpace` is an ordered list of parameters. A *design* is a plain dict
``{parameter name: value}``. One object converts a design to and from

* an **index vector** (one integer per parameter, ``0 <= i < n``): used by evolution, ant
  colony and random walk (neighbours, mutation), and as the ``MultiDiscrete`` action;
* a **unit-cube vector** (one float in ``[0, 1]`` per parameter): used by Bayesian optimisation
  and as the ``Box`` action (rescaled to ``[-1, 1]``);
* gymnasium spaces: ``MultiDiscrete``, ``Box`` and a ``Dict`` view.

Parameter kinds: :class:`Categorical` (unordered choices), :class:`Integer` (a linear range,
or powers of two with ``log2=True``), :class:`Ordinal` (an explicit ordered list of numbers)
and :class:`Real` (a continuous interval, discretised into ``steps`` values for the index
encoding).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from archgym.errors import InvalidDesignError as InvalidDesignError

#: the hashable identity of a canonical design (see :func:`design_key`)
DesignKey = tuple[Any, ...]


def design_key(design: Mapping[str, Any]) -> DesignKey:
    """Hashable identity of a canonical design (one validated by its :class:`DesignSpace`, so its
    keys are in the space's order): for caches and duplicate checks."""
    return tuple(design.values())


class Parameter(ABC):
    """One design knob. Subclasses define its domain and the index / unit encodings."""

    name: str

    @property
    @abstractmethod
    def n(self) -> int:
        """Number of index values (the discretisation for :class:`Real`)."""

    @abstractmethod
    def from_index(self, i: int) -> Any: ...

    @abstractmethod
    def to_index(self, value: Any) -> int: ...

    @abstractmethod
    def allowed(self) -> str:
        """Human-readable description of the allowed values (for error messages)."""

    @property
    def is_categorical(self) -> bool:
        return False

    @property
    def is_discrete(self) -> bool:
        return True

    def validate(self, value: Any) -> Any:
        """Return the value in canonical form, or raise :class:`InvalidDesignError`."""
        try:
            return self.from_index(self.to_index(value))
        except (InvalidDesignError, ValueError, TypeError):
            raise InvalidDesignError(
                f"parameter {self.name!r}: invalid value {value!r}; allowed: {self.allowed()}"
            ) from None

    def to_unit(self, value: Any) -> float:
        """Position in ``[0, 1]``: index centres for discrete parameters."""
        return (self.to_index(value) + 0.5) / self.n

    def from_unit(self, u: float) -> Any:
        i = int(math.floor(float(np.clip(u, 0.0, 1.0)) * self.n))
        return self.from_index(min(i, self.n - 1))


@dataclass(frozen=True)
class Categorical(Parameter):
    """Unordered choices, e.g. a page policy. Values are usually strings."""

    name: str
    choices: tuple[Any, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", tuple(self.choices))
        if not self.choices or len(set(self.choices)) != len(self.choices):
            raise ValueError(f"Categorical {self.name!r}: choices must be non-empty and distinct")

    @property
    def n(self) -> int:
        return len(self.choices)

    @property
    def is_categorical(self) -> bool:
        return True

    def from_index(self, i: int) -> Any:
        if not 0 <= int(i) < self.n:
            raise InvalidDesignError(f"parameter {self.name!r}: index {i} outside 0..{self.n - 1}")
        return self.choices[int(i)]

    def to_index(self, value: Any) -> int:
        try:
            return self.choices.index(value)
        except ValueError:
            raise InvalidDesignError(
                f"parameter {self.name!r}: invalid value {value!r}; allowed: {self.allowed()}"
            ) from None

    def allowed(self) -> str:
        return ", ".join(map(str, self.choices))


@dataclass(frozen=True)
class Ordinal(Parameter):
    """An ordered list of numeric values, e.g. buffer sizes ``(16, 32, 64, 128)``."""

    name: str
    values: tuple[float | int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(self.values))
        if not self.values or list(self.values) != sorted(set(self.values)):
            raise ValueError(f"Ordinal {self.name!r}: values must be non-empty, distinct and increasing")

    @property
    def n(self) -> int:
        return len(self.values)

    def from_index(self, i: int) -> Any:
        if not 0 <= int(i) < self.n:
            raise InvalidDesignError(f"parameter {self.name!r}: index {i} outside 0..{self.n - 1}")
        return self.values[int(i)]

    def to_index(self, value: Any) -> int:
        if isinstance(value, (bool, str)) or value is None:
            raise InvalidDesignError(
                f"parameter {self.name!r}: invalid value {value!r}; allowed: {self.allowed()}"
            )
        for i, v in enumerate(self.values):
            if v == value:
                return i
        raise InvalidDesignError(
            f"parameter {self.name!r}: invalid value {value!r}; allowed: {self.allowed()}"
        )

    def allowed(self) -> str:
        return ", ".join(map(str, self.values))


class Integer(Ordinal):
    """An integer range ``low..high``; with ``log2=True`` only the powers of two in it."""

    low: int
    high: int
    log2: bool

    def __init__(self, name: str, low: int, high: int, log2: bool = False) -> None:
        if low > high:
            raise ValueError(f"Integer {name!r}: low {low} > high {high}")
        if log2:
            if low < 1 or low & (low - 1) or high & (high - 1):
                raise ValueError(f"Integer {name!r}: log2 range needs powers of two, got {low}..{high}")
            values = tuple(2**k for k in range(int(math.log2(low)), int(math.log2(high)) + 1))
        else:
            values = tuple(range(int(low), int(high) + 1))
        super().__init__(name, values)
        object.__setattr__(self, "low", int(low))
        object.__setattr__(self, "high", int(high))
        object.__setattr__(self, "log2", bool(log2))

    def to_index(self, value: Any) -> int:
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise InvalidDesignError(
                f"parameter {self.name!r}: invalid value {value!r}; allowed: {self.allowed()}"
            )
        return super().to_index(int(value))

    def from_index(self, i: int) -> int:
        return int(super().from_index(i))

    def allowed(self) -> str:
        if self.log2:
            return "powers of two " + ", ".join(map(str, self.values))
        return f"integers {self.low}..{self.high}"

    def __repr__(self) -> str:
        return f"Integer({self.name!r}, {self.low}, {self.high}, log2={self.log2})"


@dataclass(frozen=True)
class Real(Parameter):
    """A continuous interval ``[low, high]`` (log-scaled with ``log=True``).

    The index encoding discretises it into ``steps`` evenly spaced values (in log space
    when ``log=True``); the unit encoding is exact.
    """

    name: str
    low: float
    high: float
    log: bool = False
    steps: int = 64

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"Real {self.name!r}: need low < high, got {self.low}..{self.high}")
        if self.log and self.low <= 0:
            raise ValueError(f"Real {self.name!r}: log scale needs low > 0")
        if self.steps < 2:
            raise ValueError(f"Real {self.name!r}: steps must be >= 2")

    @property
    def n(self) -> int:
        return self.steps

    @property
    def is_discrete(self) -> bool:
        return False

    def _fwd(self, x: float) -> float:
        lo, hi, x = (
            (math.log(self.low), math.log(self.high), math.log(x)) if self.log else (self.low, self.high, x)
        )
        return (x - lo) / (hi - lo)

    def _inv(self, u: float) -> float:
        if self.log:
            v = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            v = self.low + u * (self.high - self.low)
        return float(min(max(v, self.low), self.high))  # rounding must not step outside the bounds

    def from_index(self, i: int) -> float:
        if not 0 <= int(i) < self.n:
            raise InvalidDesignError(f"parameter {self.name!r}: index {i} outside 0..{self.n - 1}")
        return self._inv(int(i) / (self.n - 1))

    def to_index(self, value: Any) -> int:
        v = self._check(value)
        return int(round(self._fwd(v) * (self.n - 1)))

    def _check(self, value: Any) -> float:
        if isinstance(value, (bool, str)) or value is None:
            raise InvalidDesignError(
                f"parameter {self.name!r}: invalid value {value!r}; allowed: {self.allowed()}"
            )
        v = float(value)
        if not (self.low <= v <= self.high):
            raise InvalidDesignError(
                f"parameter {self.name!r}: invalid value {value!r}; allowed: {self.allowed()}"
            )
        return v

    def validate(self, value: Any) -> float:
        try:
            return self._check(value)
        except (TypeError, ValueError) as exc:
            if isinstance(exc, InvalidDesignError):
                raise
            raise InvalidDesignError(
                f"parameter {self.name!r}: invalid value {value!r}; allowed: {self.allowed()}"
            ) from None

    def to_unit(self, value: Any) -> float:
        return self._fwd(self._check(value))

    def from_unit(self, u: float) -> float:
        return self._inv(float(np.clip(u, 0.0, 1.0)))

    def allowed(self) -> str:
        return f"reals in [{self.low}, {self.high}]" + (" (log scale)" if self.log else "")


def _finite_number(name: str, value: Any, what: str = "value") -> float:
    """``value`` as a float, or :class:`InvalidDesignError` naming ``name`` (None, bool, text, NaN, inf)."""
    if value is None or isinstance(value, (bool, np.bool_, str, bytes)):
        raise InvalidDesignError(f"parameter {name!r}: {what} {value!r} is not a number")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidDesignError(f"parameter {name!r}: {what} {value!r} is not a number") from None
    if not math.isfinite(x):
        raise InvalidDesignError(f"parameter {name!r}: {what} {value!r} is not a finite number")
    return x


def check_design_fields(
    design: Mapping[str, Any],
    fields: Sequence[str],
    *,
    counts: Iterable[str] = (),
    numbers: Iterable[str] = (),
    where: str = "design",
) -> None:
    """The input check of a simulator that takes designs outside a :class:`DesignSpace`.

    Refuses a design with a missing or an extra key, a ``numbers`` field that is not a finite
    number, and a ``counts`` field that is not a whole number >= 1.

    Raises:
        InvalidDesignError: naming the key or parameter and the value.
    """
    if not isinstance(design, Mapping):
        raise InvalidDesignError(
            f"{where}: must be a mapping of parameter -> value, got {type(design).__name__}"
        )
    missing = [k for k in fields if k not in design]
    if missing:
        raise InvalidDesignError(
            f"{where} lacks parameter(s) {', '.join(missing)}; it needs: {', '.join(fields)}"
        )
    extra = [str(k) for k in design if k not in fields]
    if extra:
        raise InvalidDesignError(
            f"{where} has unknown parameter(s) {', '.join(extra)}; it takes: {', '.join(fields)}"
        )
    for name in numbers:
        _finite_number(name, design[name])
    for name in counts:
        x = _finite_number(name, design[name])
        if not x.is_integer() or x < 1:
            raise InvalidDesignError(f"parameter {name!r}: {design[name]!r} is not a whole number >= 1")


class DesignSpace:
    """An ordered collection of :class:`Parameter` with conversions between encodings."""

    def __init__(self, params: Iterable[Parameter]) -> None:
        self.params: tuple[Parameter, ...] = tuple(params)
        names = [p.name for p in self.params]
        if not names:
            raise ValueError("a design space needs at least one parameter")
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate parameter names in design space: {names}")
        self._by_name = {p.name: p for p in self.params}

    # ------------------------------------------------------------------ basics
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def nvec(self) -> np.ndarray:
        """Number of index values per parameter (the ``MultiDiscrete`` shape)."""
        return np.array([p.n for p in self.params], dtype=np.int64)

    @property
    def size(self) -> float:
        """Number of distinct designs (``inf`` when a parameter is real-valued)."""
        if any(not p.is_discrete for p in self.params):
            return math.inf
        return float(math.prod(int(p.n) for p in self.params))

    def __len__(self) -> int:
        return len(self.params)

    def __getitem__(self, name: str) -> Parameter:
        return self._by_name[name]

    def __repr__(self) -> str:
        return f"DesignSpace({list(self.params)!r})"

    # -------------------------------------------------------------- validation
    def validate(self, design: Mapping[str, Any]) -> dict[str, Any]:
        """Check a design and return it in canonical form (ordered, canonical values).

        Raises:
            InvalidDesignError: naming the parameter, the bad value and the allowed values.
        """
        if not isinstance(design, Mapping):
            raise InvalidDesignError(
                f"a design must be a mapping of parameter -> value, got {type(design).__name__}"
            )
        unknown = [k for k in design if k not in self._by_name]
        if unknown:
            raise InvalidDesignError(
                f"unknown parameter(s) {', '.join(map(repr, unknown))}; "
                f"parameters are: {', '.join(self.names)}"
            )
        missing = [n for n in self.names if n not in design]
        if missing:
            raise InvalidDesignError(f"design is missing parameter(s): {', '.join(missing)}")
        return {p.name: p.validate(design[p.name]) for p in self.params}

    def check_indices(self, action: Any) -> np.ndarray:
        """An index-vector action (``MultiDiscrete``) as int64, refusing what would be silently cast.

        Raises:
            InvalidDesignError: wrong length, or an entry that is None, not a number, NaN/inf,
                not a whole number, or outside ``0..n-1`` (naming the parameter).
        """
        entries = self._entries(action, "index vector")
        out = np.empty(len(self), dtype=np.int64)
        for i, (p, v) in enumerate(zip(self.params, entries)):
            x = _finite_number(p.name, v, "action index")
            if not float(x).is_integer():
                raise InvalidDesignError(f"parameter {p.name!r}: action index {v!r} is not a whole number")
            if not 0 <= x < p.n:
                raise InvalidDesignError(f"parameter {p.name!r}: action index {v!r} outside 0..{p.n - 1}")
            out[i] = int(x)
        return out

    def check_box(self, action: Any) -> np.ndarray:
        """A ``[-1, 1]`` box action as float64, refusing None, non-numbers and NaN/inf (naming the parameter).

        Finite values outside ``[-1, 1]`` are clipped, as gymnasium's wrappers expect.
        """
        entries = self._entries(action, "box action")
        return np.array(
            [_finite_number(p.name, v, "action value") for p, v in zip(self.params, entries)],
            dtype=np.float64,
        )

    def _entries(self, action: Any, what: str) -> list[Any]:
        if action is None or isinstance(action, (str, bytes, Mapping)):
            raise InvalidDesignError(f"{what}: expected {len(self)} numbers, got {action!r}")
        flat = np.asarray(action, dtype=object).reshape(-1).tolist()
        if len(flat) != len(self):
            raise InvalidDesignError(
                f"{what} has {len(flat)} entries, the design space has {len(self)} parameters"
            )
        return flat

    # ---------------------------------------------------------------- sampling
    def sample_indices(self, rng: np.random.Generator, n: int | None = None) -> np.ndarray:
        """Uniform random index vectors: shape ``(len(self),)`` or ``(n, len(self))``."""
        shape = (len(self),) if n is None else (n, len(self))
        return rng.integers(0, self.nvec, size=shape)

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """One design drawn uniformly (real parameters uniformly in their unit encoding)."""
        return self.from_unit(rng.random(len(self)))

    # ---------------------------------------------------------- index encoding
    def to_indices(self, design: Mapping[str, Any]) -> np.ndarray:
        d = self.validate(design)
        return np.array([p.to_index(d[p.name]) for p in self.params], dtype=np.int64)

    def from_indices(self, idx: Sequence[int] | np.ndarray) -> dict[str, Any]:
        idx = np.asarray(idx).reshape(-1)
        if idx.shape[0] != len(self):
            raise InvalidDesignError(
                f"index vector has {idx.shape[0]} entries, the design space has {len(self)} parameters"
            )
        return {p.name: p.from_index(int(i)) for p, i in zip(self.params, idx)}

    def neighbour(self, idx: np.ndarray, rng: np.random.Generator, step: int = 1) -> np.ndarray:
        """A random neighbour: one parameter moved by ``1..step`` index positions.

        Ordered parameters move up or down (clipped to the range); categorical ones jump to
        another choice uniformly.
        """
        out = np.array(idx, dtype=np.int64, copy=True)
        movable = np.flatnonzero(self.nvec > 1)
        if movable.size == 0:
            return out
        j = int(rng.choice(movable))
        p = self.params[j]
        if p.is_categorical:
            others = [k for k in range(p.n) if k != out[j]]
            out[j] = int(rng.choice(others))
        else:
            delta = int(rng.integers(1, max(1, step) + 1)) * (1 if rng.random() < 0.5 else -1)
            new = int(np.clip(out[j] + delta, 0, p.n - 1))
            if new == out[j]:
                new = int(np.clip(out[j] - delta, 0, p.n - 1))
            out[j] = new
        return out

    # ----------------------------------------------------------- unit encoding
    def to_unit(self, design: Mapping[str, Any]) -> np.ndarray:
        d = self.validate(design)
        return np.array([p.to_unit(d[p.name]) for p in self.params], dtype=np.float64)

    def from_unit(self, u: Sequence[float] | np.ndarray) -> dict[str, Any]:
        u = np.asarray(u, dtype=np.float64).reshape(-1)
        if u.shape[0] != len(self):
            raise InvalidDesignError(
                f"unit vector has {u.shape[0]} entries, the design space has {len(self)} parameters"
            )
        return {p.name: p.from_unit(float(x)) for p, x in zip(self.params, u)}

    @property
    def categorical_dims(self) -> list[int]:
        """Positions of categorical parameters (for mixed-variable GP kernels)."""
        return [i for i, p in enumerate(self.params) if p.is_categorical]

    # --------------------------------------------------------- gymnasium views
    def multidiscrete_space(self) -> spaces.MultiDiscrete:
        return spaces.MultiDiscrete(self.nvec)

    def box_space(self) -> spaces.Box:
        """Symmetric ``[-1, 1]`` box (what SB3 expects); map with :meth:`from_box`."""
        return spaces.Box(-1.0, 1.0, shape=(len(self),), dtype=np.float32)

    def from_box(self, a: np.ndarray) -> dict[str, Any]:
        return self.from_unit((np.asarray(a, dtype=np.float64) + 1.0) / 2.0)

    def to_box(self, design: Mapping[str, Any]) -> np.ndarray:
        return (self.to_unit(design) * 2.0 - 1.0).astype(np.float32)

    def dict_space(self) -> spaces.Dict:
        """Per-parameter view: ``Discrete`` for discrete parameters, ``Box`` for reals."""
        out: dict[str, spaces.Space] = {}
        for p in self.params:
            if p.is_discrete:
                out[p.name] = spaces.Discrete(p.n)
            else:
                assert isinstance(p, Real)
                out[p.name] = spaces.Box(p.low, p.high, shape=(), dtype=np.float64)
        return spaces.Dict(out)

    def describe(self) -> str:
        """A table of parameters and allowed values, for ``--help`` and docs."""
        width = max(len(n) for n in self.names)
        return "\n".join(f"  {p.name:<{width}}  {p.allowed()}" for p in self.params)
