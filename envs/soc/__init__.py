"""FARSI-style system-on-chip environment for AR/VR workloads (ArchGym's third case study).

Public names: :class:`SoCSimulator`, :func:`soc_design_space`, :func:`default_design`,
:func:`load_workload`, :func:`read_task_graph`, :class:`TaskGraph`, :class:`Technology` and
:func:`make_soc_env`. See ``envs/soc/README.md``.
"""

from typing import Any

from .simulator import SoCResult, SoCSimulator, soc_metrics
from .space import default_design, soc_design_space
from .taskgraph import (
    Edge,
    Task,
    TaskGraph,
    WorkloadFormatError,
    load_workload,
    read_task_graph,
    standard_workloads,
)
from .technology import Technology

__all__ = [
    "Edge",
    "SoCResult",
    "SoCSimulator",
    "Task",
    "TaskGraph",
    "Technology",
    "WorkloadFormatError",
    "default_design",
    "load_workload",
    "make_soc_env",
    "read_task_graph",
    "soc_design_space",
    "soc_metrics",
    "standard_workloads",
]


def __getattr__(name: str) -> Any:
    if name == "make_soc_env":  # lazy: the env module pulls in gymnasium and the objective
        from .env import make_soc_env

        return make_soc_env
    raise AttributeError(name)
