"""Application task graphs: the workload format of the SoC environment and its loader.

A workload file (YAML) describes one application as a task dependency graph, in the units
FARSI's database uses (see ``workloads/*.yaml`` for the transcribed AR/VR workloads)::

    name: my_app
    source: where the figures come from
    budgets: {latency_ms: 21.0, power_mw: 3.1, area_mm2: 6.2}
    tasks:
      # [name, gpp_cycles, ip_cycles, ip_energy_fj, ip_area_um2, iterations]
      - [read_frame, 0, ~, ~, ~, 1]
      - [filter, 120000, 9000, 140.0, 78000, 1024]
    edges:
      # [producer, consumer, bytes]
      - [read_frame, filter, 65536]

* ``gpp_cycles``: cycles of one run of the task on the reference general-purpose core;
* ``ip_cycles``, ``ip_energy_fj``, ``ip_area_um2``: cycles at the accelerator clock, energy
  and area of the task's own accelerator (``~`` for all three: the task has none);
* ``iterations``: the trip count of the task's main loop (bounds accelerator unrolling);
* ``edges``: bytes the producer writes for the consumer.

A task with no work (``gpp_cycles`` 0 and no accelerator) is a *pseudo task*: a source whose
data is resident in memory at time 0, or a sink. A composite workload lists other workloads
under ``include`` (their task names get the workload's name as prefix) and keeps each part's
latency budget as a deadline.

Every error names the file, the line and what is wrong (:class:`WorkloadFormatError`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from archgym.errors import InputFormatError

WORKLOAD_DIR = Path(__file__).with_name("workloads")
TASK_COLUMNS = ("name", "gpp_cycles", "ip_cycles", "ip_energy_fj", "ip_area_um2", "iterations")
BUDGET_KEYS = ("latency_ms", "power_mw", "area_mm2")


class WorkloadFormatError(InputFormatError):
    """A workload file is malformed; the message names the file, the line and the problem."""


@dataclass(frozen=True)
class Task:
    """One task of an application (figures per run of the task)."""

    name: str
    gpp_cycles: float
    ip_cycles: float | None = None
    ip_energy_fj: float | None = None
    ip_area_um2: float | None = None
    iterations: int = 1

    @property
    def has_ip(self) -> bool:
        return self.ip_cycles is not None

    @property
    def is_pseudo(self) -> bool:
        """No work anywhere: a source or sink that runs on no PE."""
        return self.gpp_cycles == 0 and not self.has_ip


@dataclass(frozen=True)
class Edge:
    producer: str
    consumer: str
    bytes: float


@dataclass
class TaskGraph:
    """A workload: tasks in topological order, edges, budgets and (composites) deadlines.

    Attributes:
        deadlines_ms: ``{part name: (latency budget in ms, task names of the part)}``; one
            entry for a plain workload (its own latency budget), one per part for a composite.
    """

    name: str
    tasks: tuple[Task, ...]
    edges: tuple[Edge, ...]
    budgets: dict[str, float]
    source: str = ""
    deadlines_ms: dict[str, tuple[float, tuple[str, ...]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {t.name: i for i, t in enumerate(self.tasks)}

    @property
    def working_tasks(self) -> tuple[Task, ...]:
        """Tasks that run on a PE (each gets a task-to-PE knob)."""
        return tuple(t for t in self.tasks if not t.is_pseudo)

    @property
    def data_tasks(self) -> tuple[Task, ...]:
        """Tasks whose output lives in a memory (each gets a task-to-memory knob): working tasks
        that write data, and pseudo sources whose data a working task reads."""
        working = {t.name for t in self.working_tasks}
        out: list[Task] = []
        for t in self.tasks:
            outs = [e for e in self.edges if e.producer == t.name]
            if outs and (t.name in working or any(e.consumer in working for e in outs)):
                out.append(t)
        return tuple(out)

    @property
    def max_iterations(self) -> int:
        return max((t.iterations for t in self.tasks if t.has_ip), default=1)


# ----------------------------------------------------------------------------- loading
def _fail(path: Path, line: int | None, what: str) -> WorkloadFormatError:
    where = f"{path}" + (f", line {line}" if line is not None else "")
    return WorkloadFormatError(f"{where}: {what}")


def _number(path: Path, line: int, col: str, value: Any, *, optional: bool, positive: bool) -> float | None:
    if value is None:
        if optional:
            return None
        raise _fail(path, line, f"{col} is required (got ~)")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(path, line, f"{col} must be a number, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise _fail(path, line, f"{col} must be {'> 0' if positive else '>= 0'}, got {value!r}")
    return float(value)


def _rows(path: Path, root: yaml.MappingNode, key: str) -> list[tuple[int, list[Any]]]:
    """The rows of a list-of-lists section with their 1-based line numbers."""
    for k, v in root.value:
        if k.value == key:
            if not isinstance(v, yaml.SequenceNode):
                raise _fail(path, v.start_mark.line + 1, f"'{key}' must be a list of rows")
            rows = []
            for item in v.value:
                line = item.start_mark.line + 1
                if not isinstance(item, yaml.SequenceNode):
                    raise _fail(path, line, f"each row of '{key}' must be a list like [a, b, ...]")
                rows.append((line, yaml.safe_load(yaml.serialize(item))))
            return rows
    return []


def _parse_task(path: Path, line: int, row: list[Any]) -> Task:
    if len(row) != len(TASK_COLUMNS):
        raise _fail(
            path, line, f"a task row has {len(TASK_COLUMNS)} columns {list(TASK_COLUMNS)}, got {row!r}"
        )
    name = row[0]
    if not isinstance(name, str) or not name:
        raise _fail(path, line, f"task name must be a non-empty string, got {name!r}")
    gpp = _number(path, line, "gpp_cycles", row[1], optional=False, positive=False)
    ip = [
        _number(path, line, c, v, optional=True, positive=True) for c, v in zip(TASK_COLUMNS[2:5], row[2:5])
    ]
    if len({x is None for x in ip}) != 1:
        raise _fail(path, line, f"task {name!r}: ip_cycles, ip_energy_fj, ip_area_um2 are all given or all ~")
    it = row[5]
    if isinstance(it, bool) or not isinstance(it, int) or it < 1:
        raise _fail(path, line, f"task {name!r}: iterations must be an integer >= 1, got {it!r}")
    assert gpp is not None
    return Task(name, gpp, ip[0], ip[1], ip[2], int(it))


def _topological(path: Path, tasks: list[Task], edges: list[Edge], lines: dict[str, int]) -> tuple[Task, ...]:
    """Kahn's algorithm, stable in file order; a cycle is an error naming its tasks."""
    preds = {t.name: 0 for t in tasks}
    succ: dict[str, list[str]] = {t.name: [] for t in tasks}
    for e in edges:
        preds[e.consumer] += 1
        succ[e.producer].append(e.consumer)
    order = [t.name for t in tasks]
    ready = [n for n in order if preds[n] == 0]
    out: list[str] = []
    while ready:
        n = ready.pop(0)
        out.append(n)
        for c in succ[n]:
            preds[c] -= 1
            if preds[c] == 0:
                ready.append(c)
        ready.sort(key=order.index)
    if len(out) != len(tasks):
        stuck = [n for n in order if preds[n] > 0]
        raise _fail(path, lines[stuck[0]], f"the edges form a cycle through task(s) {', '.join(stuck)}")
    by_name = {t.name: t for t in tasks}
    return tuple(by_name[n] for n in out)


def _budgets(path: Path, root: dict[str, Any], required: tuple[str, ...]) -> dict[str, float]:
    raw = root.get("budgets") or {}
    if not isinstance(raw, dict):
        raise _fail(path, None, f"'budgets' must be a mapping like {{latency_ms: 21}}, got {raw!r}")
    unknown = [k for k in raw if k not in BUDGET_KEYS]
    if unknown:
        raise _fail(path, None, f"unknown budget(s) {unknown}; allowed: {', '.join(BUDGET_KEYS)}")
    out = {}
    for k, v in raw.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
            raise _fail(path, None, f"budget {k} must be a number > 0, got {v!r}")
        out[k] = float(v)
    missing = [k for k in required if k not in out]
    if missing:
        raise _fail(path, None, f"missing budget(s): {', '.join(missing)}")
    return out


def _parse_edges(path: Path, node: yaml.MappingNode, lines: dict[str, int]) -> list[Edge]:
    edges: list[Edge] = []
    seen: set[tuple[str, str]] = set()
    for line, row in _rows(path, node, "edges"):
        if len(row) != 3:
            raise _fail(path, line, f"an edge row is [producer, consumer, bytes], got {row!r}")
        p, c, b = row
        for role, n in (("producer", p), ("consumer", c)):
            if n not in lines:
                raise _fail(path, line, f"edge {role} {n!r} is not a task of this workload")
        if p == c:
            raise _fail(path, line, f"edge {p!r} -> {c!r} is a self-edge")
        if (p, c) in seen:
            raise _fail(path, line, f"edge {p!r} -> {c!r} is listed twice")
        seen.add((p, c))
        nbytes = _number(path, line, "bytes", b, optional=False, positive=False)
        assert nbytes is not None
        edges.append(Edge(p, c, nbytes))
    return edges


def read_task_graph(path: str | Path, _seen: tuple[Path, ...] = ()) -> TaskGraph:
    """Read a workload file (see the module docstring for the format)."""
    path = Path(path)
    if path.resolve() in _seen:
        raise _fail(path, None, "includes itself (directly or through another workload)")
    try:
        text = path.read_text()
    except OSError as exc:
        raise WorkloadFormatError(f"{path}: cannot read workload file ({exc.strerror})") from None
    try:
        node = yaml.compose(text)
        root = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise _fail(path, line, f"not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(root, dict) or not isinstance(node, yaml.MappingNode):
        raise _fail(path, None, "a workload file is a mapping with name, budgets, tasks and edges")
    name = root.get("name")
    if not isinstance(name, str) or not name:
        raise _fail(path, None, "'name' (a non-empty string) is required")
    if "include" in root:
        return _composite(path, root, (*_seen, path.resolve()))
    tasks: list[Task] = []
    lines: dict[str, int] = {}
    for line, row in _rows(path, node, "tasks"):
        t = _parse_task(path, line, row)
        if t.name in lines:
            raise _fail(path, line, f"task {t.name!r} is defined twice (first on line {lines[t.name]})")
        tasks.append(t)
        lines[t.name] = line
    if not tasks:
        raise _fail(path, None, "'tasks' must list at least one task")
    edges = _parse_edges(path, node, lines)
    budgets = _budgets(path, root, ("latency_ms",))
    ordered = _topological(path, tasks, edges, lines)
    return TaskGraph(
        name,
        ordered,
        tuple(edges),
        budgets,
        str(root.get("source", "")),
        {name: (budgets["latency_ms"], tuple(t.name for t in ordered))},
    )


def _composite(path: Path, root: dict[str, Any], seen: tuple[Path, ...]) -> TaskGraph:
    parts = root["include"]
    if not isinstance(parts, list) or not parts:
        raise _fail(path, None, f"'include' must list workload names or files, got {parts!r}")
    graphs = []
    for p in parts:
        if not isinstance(p, str):
            raise _fail(path, None, f"'include' entries are workload names or paths, got {p!r}")
        f = WORKLOAD_DIR / f"{p}.yaml" if p in standard_workloads() else path.parent / p
        graphs.append(read_task_graph(f, seen))
    names = [g.name for g in graphs]
    if len(set(names)) != len(names):
        raise _fail(path, None, f"'include' lists a workload twice: {names}")
    tasks: list[Task] = []
    edges: list[Edge] = []
    deadlines: dict[str, tuple[float, tuple[str, ...]]] = {}
    for g in graphs:
        pre = f"{g.name}/"
        tasks += [
            Task(pre + t.name, t.gpp_cycles, t.ip_cycles, t.ip_energy_fj, t.ip_area_um2, t.iterations)
            for t in g.tasks
        ]
        edges += [Edge(pre + e.producer, pre + e.consumer, e.bytes) for e in g.edges]
        for part, (dl, names_) in g.deadlines_ms.items():
            deadlines[part] = (dl, tuple(pre + n for n in names_))
    budgets = _budgets(path, root, ())
    budgets.setdefault("latency_ms", max(d for d, _ in deadlines.values()))
    return TaskGraph(
        str(root["name"]), tuple(tasks), tuple(edges), budgets, str(root.get("source", "")), deadlines
    )


def standard_workloads() -> tuple[str, ...]:
    """Names of the shipped workloads (files in ``workloads/``)."""
    return tuple(sorted(p.stem for p in WORKLOAD_DIR.glob("*.yaml")))


def load_workload(workload: str | Path | TaskGraph) -> TaskGraph:
    """A shipped workload by name, a workload file, or a :class:`TaskGraph` (returned as is)."""
    if isinstance(workload, TaskGraph):
        return workload
    if isinstance(workload, str) and workload in standard_workloads():
        return read_task_graph(WORKLOAD_DIR / f"{workload}.yaml")
    path = Path(workload)
    if not path.exists():
        raise WorkloadFormatError(
            f"unknown workload {str(workload)!r}: not a file, and not one of "
            + ", ".join(standard_workloads())
        )
    return read_task_graph(path)
