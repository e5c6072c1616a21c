"""archgym's exceptions and warnings, in one module (like ``gymnasium.error``).

Every exception archgym raises on purpose derives from :class:`ArchGymError`, and also from the
built-in exception a caller would expect (``ValueError`` for a bad value, ``RuntimeError`` for a
simulation that failed), so ``except ValueError`` keeps working. The command line turns the
*input* errors (:class:`ConfigError`, :class:`InvalidDesignError`, :class:`InputFormatError`,
:class:`InvalidWorkloadError`, ...) into one ``archgym: error: ...`` line and exit status 2;
anything else is a bug and keeps its traceback.

Env packages subclass these, e.g. ``class TraceFormatError(InputFormatError)`` in
:mod:`archgym.envs.dram.traces`, so code can catch a whole category without knowing every env::

    ArchGymError
    ├── ConfigError (ValueError)            a configuration value is invalid (names key + allowed values)
    │   ├── RunLockedError                  another live run writes to the directory
    │   ├── ReplayMismatchError             a resumed run proposed another design than its dataset holds
    │   ├── RenderModeError                 a render mode the env does not offer (also gymnasium's UnsupportedMode)
    │   └── UnknownNameError (KeyError)     a name that is not registered (env, agent, simulator, workload)
    ├── ObjectiveError (ValueError)         targets / weights / constraints that do not fit the metrics
    ├── InvalidDesignError (ValueError)     a design outside the design space (names the parameter)
    ├── InputFormatError (ValueError)       a malformed input file or description (trace, task graph, ONNX)
    │   └── ProxyFileError                  not a proxy file archgym can read (or a pickle: refused)
    ├── DatasetError (ValueError)           a dataset that cannot be used as asked
    │   ├── MixedDatasetError               merging / reporting runs that differ
    │   └── ProxyDataError                  too little or unusable data to train a proxy
    └── SimulationError (RuntimeError)      a simulator could not evaluate a design (recorded per design)
        └── InvalidWorkloadError (ValueError)  nothing can be simulated on the workload

    ArchGymWarning (UserWarning)
    ├── StaleLockWarning                    a run lock left by a dead process was taken over
    └── LeftOutWarning                      load_dataset left rows or runs out (the message says which)
"""

from __future__ import annotations

from gymnasium.error import UnsupportedMode


class ArchGymError(Exception):
    """Base class of every exception archgym raises on purpose."""


class ConfigError(ArchGymError, ValueError):
    """A configuration value is invalid; the message names the key and the allowed values."""


class RunLockedError(ConfigError):
    """The run directory is locked by another live run (``archgym run`` exits 2 naming it)."""


class ReplayMismatchError(ConfigError):
    """A resumed run proposed another design than its dataset records at some step (see archgym.replay)."""


class RenderModeError(ConfigError, UnsupportedMode):
    """A render mode archgym's envs do not offer; also Gymnasium's :class:`~gymnasium.error.UnsupportedMode`."""


class UnknownNameError(ConfigError, KeyError):
    """A name that nothing is registered under (an env, agent, simulator or workload name).

    A ``KeyError`` too, for lookups; its message is shown without ``KeyError``'s quotes.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ObjectiveError(ArchGymError, ValueError):
    """An objective does not fit the simulator's metrics (unknown metric, bad target or weight)."""


class InvalidDesignError(ArchGymError, ValueError):
    """A design is not a point of its design space (missing/unknown key, value not allowed)."""


class InputFormatError(ArchGymError, ValueError):
    """An input file or description is malformed (a trace, a task graph, an ONNX model...)."""


class ProxyFileError(InputFormatError):
    """A file that is not a proxy this archgym reads (another format or version, damaged, a pickle)."""


class DatasetError(ArchGymError, ValueError):
    """A dataset cannot be used as asked."""


class MixedDatasetError(DatasetError):
    """Runs that differ (env, objective, simulator, schema) would be pooled as one."""


class ProxyDataError(DatasetError):
    """The data given to train or score a proxy is unusable (too few rows, missing columns)."""


class SimulationError(ArchGymError, RuntimeError):
    """A simulator cannot evaluate a design (the run records it for that design and goes on)."""


class InvalidWorkloadError(SimulationError, ValueError):
    """Nothing can be simulated on the workload (e.g. a trace without requests)."""


class ArchGymWarning(UserWarning):
    """Base class of archgym's warnings."""


class StaleLockWarning(ArchGymWarning):
    """A run lock left by a process that no longer runs was taken over."""


class LeftOutWarning(ArchGymWarning):
    """:func:`archgym.dataset.load_dataset` left rows or runs out of what it returned."""


#: what the command line reports in one line with exit status 2 (bad input, not a bug)
INPUT_ERRORS: tuple[type[BaseException], ...] = (
    ConfigError,
    ObjectiveError,
    InvalidDesignError,
    InputFormatError,
    DatasetError,
    InvalidWorkloadError,
)

__all__ = [
    "INPUT_ERRORS",
    "ArchGymError",
    "ArchGymWarning",
    "ConfigError",
    "DatasetError",
    "InputFormatError",
    "InvalidDesignError",
    "InvalidWorkloadError",
    "LeftOutWarning",
    "MixedDatasetError",
    "ObjectiveError",
    "ReplayMismatchError",
    "ProxyDataError",
    "ProxyFileError",
    "RunLockedError",
    "SimulationError",
    "StaleLockWarning",
    "UnknownNameError",
]
