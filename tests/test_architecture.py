"""The architecture's rules: no import circles, one registry for simulators, workloads prepared
once, errors that are archgym's own (see docs/architecture.md)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from conftest import QuadraticSimulator, make_test_env, mixed_space

import archgym.errors as errors
from archgym.env import ArchGymEnv
from archgym.objective import TargetSpec
from archgym.registry import make_env
from archgym.runner import run_experiment
from archgym.simulator import (
    PreparedWorkload,
    SimulatorChoice,
    resolve_simulator,
    simulator_entry_points,
    use_simulator,
)

ROOT = Path(__file__).resolve().parent.parent
DRAM_TARGETS = {"avg_read_latency_ns": 50.0, "power_mw": 1000.0}
PACKAGES = {"archgym": "archgym", "envs": "archgym.envs", "agents": "archgym.agents"}


def _modules() -> dict[str, Path]:
    mods = {}
    for folder, package in PACKAGES.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = [package, *path.relative_to(ROOT / folder).with_suffix("").parts]
            mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return mods


def _imports(module: str, path: Path, mods: dict[str, Path]) -> set[str]:
    """archgym modules ``module`` imports anywhere (function bodies too; not under TYPE_CHECKING)."""
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    out: set[str] = set()
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):  # imports for type checkers only are no runtime edges
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            pkg = ".".join(base[: len(base) - node.level + 1] + [node.module or ""]).strip(".")
            pkg = pkg if node.level else str(node.module)
            targets = [f"{pkg}.{a.name}" if f"{pkg}.{a.name}" in mods else pkg for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in mods:
                t = t.rpartition(".")[0]
            if t and t != module:
                out.add(t)
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_in_archgym_envs_or_agents():
    mods = _modules()
    graph = {m: _imports(m, p, mods) for m, p in mods.items()}
    assert sum(map(len, graph.values())) > 300  # the graph was read (about 380 edges)
    assert _cycles(graph) == []
    # the core does not reach up into envs or agents
    core = [
        m for m in graph if m.startswith("archgym.") and not m.startswith(("archgym.envs", "archgym.agents"))
    ]
    upward = {
        m: sorted(t for t in graph[m] if t.startswith(("archgym.envs", "archgym.agents"))) for m in core
    }
    assert {m: t for m, t in upward.items() if t} == {}


def test_every_project_exception_is_an_archgym_error():
    from archgym.envs.accelerator import architecture, imc, networks, onnx_import, tracing, zigzag_bridge
    from archgym.envs.accelerator.mapping_cost import InfeasibleMappingError
    from archgym.envs.accelerator.model import InfeasibleDesignError
    from archgym.envs.dram.address_mapping import AddressMappingError
    from archgym.envs.dram.traces import TraceFormatError
    from archgym.envs.nas.nasbench import BenchmarkFileError
    from archgym.envs.soc.taskgraph import WorkloadFormatError

    env_errors = [
        architecture.ArchitectureError,
        imc.ImcError,
        networks.UnknownWorkloadError,
        onnx_import.OnnxImportError,
        tracing.TracingError,
        zigzag_bridge.ZigZagUnavailableError,
        InfeasibleDesignError,
        InfeasibleMappingError,
        AddressMappingError,
        TraceFormatError,
        BenchmarkFileError,
        WorkloadFormatError,
    ]
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__]
    core = [c for c in classes if not issubclass(c, Warning)]
    assert all(issubclass(c, errors.ArchGymWarning) for c in classes if issubclass(c, Warning))
    assert len(core) >= 13
    for cls in core + env_errors:
        assert issubclass(cls, errors.ArchGymError), cls
    for cls in errors.INPUT_ERRORS:  # bad input stays a ValueError for callers that catch that
        assert issubclass(cls, ValueError)
    assert issubclass(networks.UnknownWorkloadError, KeyError)
    assert str(networks.UnknownWorkloadError("unknown workload 'x'")) == "unknown workload 'x'"


class CountingSimulator(QuadraticSimulator):
    """The test simulator, counting prepare calls; its workload form is a float."""

    def __init__(self) -> None:
        self.prepared_count = 0

    def prepare(self, workload: object) -> PreparedWorkload[float]:
        self.prepared_count += 1
        return PreparedWorkload(float(str(workload).lstrip("w")), str(workload), workload)


def test_the_env_prepares_its_workload_once():
    sim = CountingSimulator()
    env = ArchGymEnv(mixed_space(), sim, "w64", TargetSpec({"latency_ms": 5.0}), env_id="test/Counting-v0")
    rng = np.random.default_rng(0)
    env.evaluate([env.space.sample(rng) for _ in range(12)])
    env.reset(seed=0)
    env.step(env.action_space.sample())
    assert sim.prepared_count == 1
    assert env.prepared_workload.data == 64.0 and env.workload == "w64"
    assert len(env.prepared_workload.digest) == 16  # hashed when asked, from the source
    other = CountingSimulator()
    env.set_simulator(other)  # the new simulator prepares the workload as given, once
    env.evaluate([env.space.sample(rng) for _ in range(3)])
    assert other.prepared_count == 1 and sim.prepared_count == 1


def test_a_simulator_without_prepare_gets_the_workload_as_given():
    env = make_test_env()  # QuadraticSimulator reads float(workload)
    ev = env.evaluate([{"mode": "a", "units": 8, "buffer": 16, "freq": 1.0}])[0]
    assert ev.metrics is not None and ev.metrics["latency_ms"] == pytest.approx(64 / 8 + 2)


def test_every_builtin_simulator_is_registered_and_loads():
    from archgym.plugins import load_object

    registered = simulator_entry_points()
    assert {"native", "proxy", "proxy_in_loop", "template", "hierarchy", "zigzag"} <= set(registered)
    for path in registered.values():
        assert callable(load_object(path))


def make_third_party_simulator(env, settings):
    """A third party's factory, as an ``archgym.simulators`` entry point would name it."""
    sim = QuadraticSimulator()
    sim.version = f"third-party scale={settings.get('scale', 1)}"
    return sim


def test_a_third_party_simulator_resolves_through_the_registry(monkeypatch):
    table = {**simulator_entry_points(), "mylab": "test_architecture:make_third_party_simulator"}
    monkeypatch.setattr("archgym.simulator.entry_point_table", lambda group: table)
    env = make_test_env()
    choice = resolve_simulator(env, {"name": "mylab", "scale": 2})
    assert isinstance(choice, SimulatorChoice) and choice.wrap_agent is None
    assert choice.simulator.version == "third-party scale=2" and env.simulator.version == "quadratic-test-1"
    use_simulator(env, "mylab")
    assert env.simulator.version == "third-party scale=1"
    assert resolve_simulator(env, None).simulator is env.simulator  # native: the env's own


def test_simulator_configs_give_config_errors():
    env = make_test_env()
    with pytest.raises(errors.UnknownNameError, match="unknown simulator 'gem5'; installed: .*native"):
        resolve_simulator(env, "gem5")
    with pytest.raises(errors.ConfigError, match=r"env.simulator \(native\): unknown setting.*path"):
        resolve_simulator(env, {"name": "native", "path": "x"})
    with pytest.raises(errors.ConfigError, match=r"env.simulator \(template\).*Accelerator-v0"):
        resolve_simulator(env, "template")  # the template model does not cost this env's designs
    with pytest.raises(errors.ConfigError, match="wraps the run's agent"):
        make_env("archgym/DRAMController-v0", simulator="proxy_in_loop", targets=DRAM_TARGETS)


def test_unknown_env_keywords_are_config_errors_naming_the_allowed_ones():
    with pytest.raises(
        errors.ConfigError,
        match="unknown keyword.*max_active.*allowed: workload, .*max_active_encoding.*episode_length",
    ):
        make_env("archgym/DRAMController-v0", max_active="pow2", targets=DRAM_TARGETS)


def _buggy_factory(**kwargs):
    return {}["a coding bug"]  # a KeyError that is no configuration error


def test_a_coding_bug_is_not_reported_as_a_config_error(tmp_path):
    gymnasium.register(id="test/Buggy-v0", entry_point=_buggy_factory)
    cfg = {"env": {"id": "test/Buggy-v0"}, "agent": {"name": "random"}, "budget": 2, "progress": False}
    with pytest.raises(KeyError, match="a coding bug"):
        run_experiment(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_dram_standard_targets_only_for_the_standard_configuration():
    from archgym.envs.dram.env import STANDARD_CONFIG, _is_standard
    from archgym.envs.dram.simulator import DRAMSimulator

    sim = DRAMSimulator()
    assert _is_standard("stream", sim, dict(STANDARD_CONFIG))
    assert not _is_standard("stream", sim, {**STANDARD_CONFIG, "max_active_encoding": "linear"})  # the bug
    for key, other in (("buffer_encoding", "linear"), ("space", "extended"), ("seed", 1), ("n_requests", 10)):
        assert not _is_standard("stream", sim, {**STANDARD_CONFIG, key: other})
    assert not _is_standard("random:n=100", sim, dict(STANDARD_CONFIG))
    # normalised: the device's default mapping, spelled out, is still the standard configuration
    spelled = DRAMSimulator(address_mapping=sim.mapping.spec)
    assert _is_standard("stream", spelled, {**STANDARD_CONFIG, "address_mapping": sim.mapping.spec})
