"""The simulator protocol: what every cost model (real simulator or trained proxy) offers, and
the registry that names them.

A simulator declares the metrics it reports (name, unit, which direction is better), a
version/provenance string that goes into every dataset row, and evaluates designs on a
workload. ``evaluate_many`` is the batch form; the default loops over ``evaluate`` and
simulators override it when they can vectorise.

**Workloads are prepared once.** :meth:`Simulator.prepare` turns a workload as a user gives it
(a name, a file, a list of layers...) into a :class:`PreparedWorkload`: decoded and validated
(and hashed when asked); its ``data`` is the workload in the simulator's own form (its type
parameter ``W``). :class:`~archgym.env.ArchGymEnv` calls it once when it is built and hands
``data`` to every evaluation, so ``evaluate(design, workload: W)`` never decodes again. A
simulator that does not override ``prepare`` gets the workload as given, as before. Simulators
that do override it accept a raw workload in ``evaluate`` too (a script, a test), preparing it on
the spot (:meth:`Simulator.workload_data`); their ``prepare`` takes their own form back as is.

**Simulators are chosen by name** (``env.simulator=<name>``) through the entry-point group
``archgym.simulators``: name -> ``"module:factory"``, with ``factory(env, settings)`` returning
the :class:`Simulator` (or a :class:`SimulatorChoice` that also wraps the run's agent, as
``proxy_in_loop`` does). archgym's own (``native``, ``proxy``, ``proxy_in_loop``, ``template``,
``hierarchy``, ``zigzag``) are declared in its ``pyproject.toml`` exactly as another package's
would be; :func:`resolve_simulator` is the one place that looks a name up.

Simulators are deterministic: the same design, workload and seed give the same metrics.
Errors raised for one design are caught per design by :func:`evaluate_safely` so a run
continues and the failure is recorded in the dataset, never swallowed silently.
"""

from __future__ import annotations

import hashlib
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast

import numpy as np

from archgym.errors import ArchGymError, ConfigError, UnknownNameError
from archgym.errors import InvalidWorkloadError as InvalidWorkloadError
from archgym.errors import SimulationError as SimulationError
from archgym.plugins import SIMULATOR_GROUP, entry_point_table, load_object

if TYPE_CHECKING:
    from archgym.env import ArchGymEnv

Design = dict[str, Any]
Metrics = dict[str, float]
#: the form a simulator keeps its prepared workload in (a decoded trace, a tuple of layers...)
W = TypeVar("W")


def content_digest(*parts: object) -> str:
    """16 hex digits of BLAKE2b over ``parts`` (bytes and buffers as they are, anything else by
    ``repr``): the content hash of a :class:`PreparedWorkload`."""
    h = hashlib.blake2b(digest_size=8)
    for part in parts:
        if isinstance(part, (bytes, bytearray, memoryview)):
            h.update(part)
        elif hasattr(part, "__array__"):  # numpy arrays, without a copy when contiguous
            h.update(np.ascontiguousarray(part).data.cast("B"))
        else:
            h.update(repr(part).encode())
        h.update(b"\x00")
    return h.hexdigest()


@dataclass(frozen=True, eq=False)
class PreparedWorkload(Generic[W]):
    """A workload decoded and validated once by :meth:`Simulator.prepare`.

    Attributes:
        data: the simulator's own form of the workload (e.g. the DRAM simulator's decoded
            trace, the accelerator models' :class:`~archgym.envs.accelerator.networks.Workload`).
        name: a label for messages (the env's ``workload_name`` is what datasets record).
        source: the workload as it was given, so another simulator (a proxy, a second model
            swapped in with :meth:`~archgym.env.ArchGymEnv.set_simulator`) can prepare it too.
        content: what :attr:`digest` hashes (default: ``source``'s ``repr``).
    """

    data: W
    name: str
    source: object = field(repr=False)
    content: tuple[object, ...] = field(default=(), repr=False)

    @cached_property
    def digest(self) -> str:
        """Content hash of what is simulated (:func:`content_digest`), computed when first asked."""
        return content_digest(*(self.content or (self.source,)))


def _label(workload: object) -> str:
    if isinstance(workload, str):
        return workload
    return str(getattr(workload, "name", "") or type(workload).__name__)


@dataclass(frozen=True)
class Metric:
    """One quantity a simulator reports.

    Attributes:
        name: column name in datasets, e.g. ``"avg_read_latency_ns"``.
        unit: physical unit, e.g. ``"ns"``, ``"mW"``, ``"GB/s"``, ``"1"`` for ratios.
        better: ``"lower"`` or ``"higher"``.
        scale: a typical magnitude used to normalise observations (not a bound).
        description: one line for ``--help`` and docs.
    """

    name: str
    unit: str
    better: Literal["lower", "higher"] = "lower"
    scale: float = 1.0
    description: str = ""

    def __post_init__(self) -> None:
        if self.better not in ("lower", "higher"):
            raise ValueError(f"Metric {self.name!r}: better must be 'lower' or 'higher', got {self.better!r}")
        if not self.scale > 0:
            raise ValueError(f"Metric {self.name!r}: scale must be > 0, got {self.scale!r}")


class Simulator(ABC, Generic[W]):
    """Base class of all cost models, generic in the form ``W`` of their prepared workload.

    Subclasses set :attr:`metrics` and :attr:`version`, implement :meth:`evaluate` and, when
    their workload needs decoding or checking, :meth:`prepare`.
    """

    #: the metrics every evaluation returns, in a fixed order
    metrics: tuple[Metric, ...] = ()
    #: provenance string recorded in every dataset row (model name, version, device data)
    version: str = "unversioned"
    #: further per-design numbers an evaluation may report beside the metrics (e.g. a proxy's
    #: ``<metric>_std``); they are logged in ``extra.<name>`` columns, never scored
    extra_columns: tuple[str, ...] = ()

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.metrics)

    def metric(self, name: str) -> Metric:
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(f"unknown metric {name!r}; this simulator reports: {', '.join(self.metric_names)}")

    def prepare(self, workload: object) -> PreparedWorkload[W]:
        """Decode, validate and hash a workload once (the env calls this when it is built).

        Override to resolve names and files and to check the workload, raising
        :class:`InvalidWorkloadError` for one nothing can be simulated on (say, an empty trace),
        so it is a configuration error rather than a run of failed evaluations. Default: the
        workload as given.
        """
        return PreparedWorkload(cast(W, workload), _label(workload), workload)

    def prepared(self, workload: object) -> PreparedWorkload[W]:
        """``workload`` if it is already prepared, else :meth:`prepare` of it."""
        if isinstance(workload, PreparedWorkload):
            return cast(PreparedWorkload[W], workload)
        return self.prepare(workload)

    def workload_data(self, workload: object) -> W:
        """The simulator's own form of ``workload``: a prepared workload's ``data``, else
        ``prepare(workload).data`` (cheap when ``workload`` is already in that form)."""
        return self.prepared(workload).data

    @abstractmethod
    def evaluate(self, design: Mapping[str, Any], workload: W) -> Metrics:
        """Simulate one design on a workload (in the form :meth:`prepare` gives) and return
        ``{metric name: value}``."""

    def evaluate_many(
        self, designs: Sequence[Mapping[str, Any]], workload: W
    ) -> Sequence[Metrics | SimulationError]:
        """Simulate several designs; override to vectorise. Raises on the first failure.

        An override may instead put a :class:`~archgym.errors.SimulationError` in place of a
        design it cannot evaluate (say, an infeasible one); :func:`evaluate_safely` records it
        for that design alone, without re-running the batch one design at a time.
        """
        return [self.evaluate(d, workload) for d in designs]


@dataclass
class Outcome:
    """What one simulator call produced for one design: metrics, or the error that stopped it."""

    metrics: Metrics | None
    error: str | None = None
    wall_time_s: float = 0.0
    #: the numbers of :attr:`Simulator.extra_columns` the simulator reported for this design
    extra: dict[str, float] = field(default_factory=dict)


def _describe(exc: BaseException) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" (at {frame.filename}:{frame.lineno})" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}"


def evaluate_safely(
    simulator: Simulator[W], designs: Sequence[Mapping[str, Any]], workload: W
) -> list[Outcome]:
    """Evaluate designs, catching errors per design.

    Tries the (possibly vectorised) batch call first, recording the designs it answered with a
    :class:`~archgym.errors.SimulationError` as failed; if it raises, falls back to one
    call per design so that only the failing designs are marked as errors. Wall time is
    measured per design (the batch time is split evenly across the batch).
    """
    if not designs:
        return []
    start = time.perf_counter()
    try:
        results = simulator.evaluate_many(designs, workload)
        per = (time.perf_counter() - start) / len(designs)
        if len(results) != len(designs):
            raise SimulationError(
                f"{type(simulator).__name__}.evaluate_many returned {len(results)} results "
                f"for {len(designs)} designs"
            )
        return [
            Outcome(None, _describe(r), per)
            if isinstance(r, SimulationError)
            else _checked(simulator, r, per)
            for r in results
        ]
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception:
        pass  # retry one design at a time below, so only the failing designs are marked
    outcomes = []
    for d in designs:
        t0 = time.perf_counter()
        try:
            m = simulator.evaluate(d, workload)
            outcomes.append(_checked(simulator, m, time.perf_counter() - t0))
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # recorded, not swallowed: goes into the dataset's error column
            outcomes.append(Outcome(None, _describe(exc), time.perf_counter() - t0))
    return outcomes


def _checked(simulator: Simulator[Any], metrics: Mapping[str, float], wall: float) -> Outcome:
    missing = [n for n in simulator.metric_names if n not in metrics]
    if missing:
        return Outcome(None, f"SimulationError: simulator returned no value for {', '.join(missing)}", wall)
    extra = {n: float(metrics[n]) for n in simulator.extra_columns if n in metrics}
    return Outcome({n: float(metrics[n]) for n in simulator.metric_names}, None, wall, extra)


# --------------------------------------------------------------------------- the registry
@dataclass(frozen=True)
class SimulatorChoice:
    """What an ``env.simulator`` config resolves to.

    Attributes:
        simulator: the simulator the env evaluates with.
        wrap_agent: turns the run's agent into the one that searches, or None to keep it
            (``proxy_in_loop`` wraps it so that it searches on a proxy).
    """

    simulator: Simulator[Any]
    wrap_agent: Callable[[Any], Any] | None = None


#: an ``archgym.simulators`` entry point: ``factory(env, settings)``, where ``settings`` is the
#: ``env.simulator`` config without its ``name``
SimulatorFactory = Callable[["ArchGymEnv", Mapping[str, Any]], "Simulator[Any] | SimulatorChoice"]


def simulator_entry_points() -> dict[str, str]:
    """Name -> ``"module:factory"`` of every installed ``archgym.simulators`` entry point."""
    return entry_point_table(SIMULATOR_GROUP)


def resolve_simulator(env: ArchGymEnv, spec: str | Mapping[str, Any] | None) -> SimulatorChoice:
    """The simulator an ``env.simulator`` config names, for ``env`` (which is left unchanged).

    ``spec`` is a name (``"template"``), a mapping ``{name: ..., <settings>}`` or None (the
    env's own simulator, as ``native``).

    Raises:
        UnknownNameError: no ``archgym.simulators`` entry point has that name (the message
            lists those installed).
        ConfigError: the factory refused the settings or this env, prefixed with
            ``env.simulator (<name>):``.
    """
    if spec is None:
        spec = {}
    settings = {"name": spec} if isinstance(spec, str) else dict(spec)
    name = str(settings.pop("name", "native"))
    registered = simulator_entry_points()
    if name not in registered:
        raise UnknownNameError(
            f"env.simulator.name: unknown simulator {name!r}; installed: {', '.join(sorted(registered))}"
        )
    factory = cast(SimulatorFactory, load_object(registered[name]))
    try:
        made = factory(env, settings)
    except ArchGymError as exc:  # a bad setting, ZigZag not installed, a proxy file that cannot be read
        message = str(exc)  # named once: a message that already names its env.simulator key keeps it
        prefix = "" if message.startswith("env.simulator") else f"env.simulator ({name}): "
        raise ConfigError(f"{prefix}{message}") from exc
    return made if isinstance(made, SimulatorChoice) else SimulatorChoice(made)


def use_simulator(env: ArchGymEnv, spec: str | Mapping[str, Any] | None) -> SimulatorChoice:
    """:func:`resolve_simulator`, then swap the simulator into ``env`` (what ``archgym run`` and
    ``archgym validate`` do with ``env.simulator``); the caller applies ``wrap_agent``.

    Raises:
        ConfigError: as :func:`resolve_simulator`, or the simulator reports other metrics than
            the env's.
    """
    choice = resolve_simulator(env, spec)
    if choice.simulator is not env.simulator:
        env.set_simulator(choice.simulator)
    return choice


def check_settings(name: str, settings: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``defaults`` updated with ``settings``, refusing keys it does not have (for factories).

    Raises:
        ConfigError: an unknown setting, naming the allowed ones.
    """
    unknown = sorted(set(settings) - set(defaults))
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {', '.join(unknown)} for simulator {name!r}; allowed: "
            f"{', '.join(defaults) or 'none'}"
        )
    return {**defaults, **settings}


def native_simulator(env: ArchGymEnv, settings: Mapping[str, Any]) -> Simulator[Any]:
    """``env.simulator=native``: the simulator the env was built with."""
    check_settings("native", settings, {})
    return env.simulator
