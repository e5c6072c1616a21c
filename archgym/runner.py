"""One run: config -> env + agent -> search for a budget -> dataset + summary.

:func:`run_experiment` is what ``archgym run`` calls for each Hydra job; it can also be
called directly with a plain mapping (the same keys as ``conf/config.yaml``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archgym.agent import Agent, RunResult
from archgym.atomic import write_text_atomic
from archgym.design_space import DesignSpace
from archgym.env import unwrap
from archgym.errors import ArchGymError, ConfigError
from archgym.hypervolume import HypervolumeTracker
from archgym.logger import SCHEMA_VERSION, DatasetLogger, RunInfo
from archgym.objective import objective_hash, objective_spec
from archgym.provenance import SIMULATOR_SOURCE, archgym_version, simulator_source, workload_hash
from archgym.registry import make_agent, make_env
from archgym.replay import ReplayLog, load_replay
from archgym.runlock import LOCK_FILE, RunLock
from archgym.simulator import use_simulator
from archgym.sweep import DATASET_DIR, SUMMARY_FILE, check_resume, start_run

#: builds an agent for a design space and seed (``run_experiment(..., agent=...)``)
AgentFactory = Callable[[DesignSpace, int], Agent]


@dataclass(frozen=True)
class RunConfig:
    """The validated top-level settings of one run."""

    env_id: str
    env_kwargs: dict[str, Any]
    agent: str
    agent_params: dict[str, Any]
    seed: int
    budget: int
    stop_on_success: bool
    progress: bool
    flush_every: int
    simulator: dict[str, Any] | None = None  # env.simulator: None/native, or {name: proxy, path: ...}
    agent_target: str | None = None  # agent._target_: the agent class by import path (agent is its label)

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any]) -> RunConfig:
        """Validate a config mapping; raises :class:`ConfigError` naming the bad key."""
        env = _section(cfg, "env")
        agent = _section(cfg, "agent")
        logger = dict(cfg.get("logger") or {})
        if "id" not in env:
            raise ConfigError("env.id: missing; choose an env config, e.g. env=dram or env=accelerator")
        if "name" not in agent:
            raise ConfigError("agent.name: missing; choose an agent config, e.g. agent=random")
        budget = _int(cfg, "budget", None)
        if budget is None or budget <= 0:
            raise ConfigError(f"budget: must be a positive number of evaluations, got {cfg.get('budget')!r}")
        flush_every = _int(logger, "flush_every", 100, prefix="logger.")
        if flush_every <= 0:
            raise ConfigError(f"logger.flush_every: must be >= 1, got {flush_every}")
        return cls(
            env_id=str(env["id"]),
            env_kwargs=dict(env.get("kwargs") or {}),
            agent=str(agent["name"]),
            agent_params=dict(agent.get("params") or {}),
            seed=_seed(cfg),
            budget=budget,
            stop_on_success=_bool(cfg, "stop_on_success", False),
            progress=_bool(cfg, "progress", True),
            flush_every=flush_every,
            simulator=dict(env.get("simulator") or {}) or None,
            agent_target=str(agent["_target_"]) if agent.get("_target_") else None,
        )


def _seed(cfg: Mapping[str, Any]) -> int:
    seed = _int(cfg, "seed", 0)
    if seed < 0 or seed >= 2**32:
        raise ConfigError(f"seed: must be an integer in [0, 2**32), got {seed}")
    return int(seed)


def _section(cfg: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = cfg.get(key)
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key}: missing or not a mapping (got {value!r})")
    return dict(value)


def _int(cfg: Mapping[str, Any], key: str, default: int | None, prefix: str = "") -> Any:
    value = cfg.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise ConfigError(f"{prefix}{key}: must be an integer, got {value!r}")
    return int(value)


def _bool(cfg: Mapping[str, Any], key: str, default: bool) -> bool:
    value = cfg.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: must be true or false, got {value!r}")
    return value


@dataclass
class RunSummary:
    """What ``summary.json`` holds."""

    run_id: str
    env_id: str
    workload: str
    agent: str
    agent_params: dict[str, Any]
    seed: int
    budget: int
    evaluations: int
    success: bool
    evaluations_to_target: int | None
    best_reward: float | None
    best_design: dict[str, Any] | None
    best_metrics: dict[str, float] | None
    wall_time_s: float
    dataset: str
    complete: bool = True
    #: the objective block (see :func:`archgym.objective.objective_spec`) and its hash
    objective: dict[str, Any] = field(default_factory=dict)
    objective_hash: str = ""
    #: ``simulator``, or ``proxy:<kind>:<hash>`` when a trained proxy produced every metric
    source: str = SIMULATOR_SOURCE
    proxy_path: str | None = None
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    archgym_version: str = ""
    schema_version: int = SCHEMA_VERSION
    hypervolume: dict[str, Any] | None = None  # multi-metric objectives: see archgym.hypervolume
    #: evaluations answered from the dataset of a cut-off earlier attempt (0: not resumed)
    resumed_evaluations: int = 0

    @property
    def is_proxy(self) -> bool:
        return self.source != SIMULATOR_SOURCE

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2, default=str)


def _to_plain(value: Any) -> Any:
    """OmegaConf containers -> plain dicts/lists (without importing omegaconf eagerly)."""
    try:
        from omegaconf import DictConfig, ListConfig, OmegaConf

        if isinstance(value, (DictConfig, ListConfig)):
            return OmegaConf.to_container(value, resolve=True)
    except ImportError:  # pragma: no cover - omegaconf ships with hydra-core
        pass
    return value


def with_suite_agent_params(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with the suite's settings for its agent (``suite.agent_params.<agent name>``) merged
    over ``agent.params``.

    A suite may set cheaper hyperparameters for an agent at its small budgets (``suite=small``
    gives BO a lighter acquisition optimiser); they enter ``agent.params`` before the run's
    fingerprint is taken, so a change to them re-runs that agent's runs. Give another value with
    ``+suite.agent_params.bo.num_restarts=8``, or drop them all with ``~suite.agent_params``.
    """
    out = dict(config)
    suite, agent = out.get("suite"), out.get("agent")
    if not isinstance(suite, Mapping) or not isinstance(agent, Mapping):
        return out
    params = (suite.get("agent_params") or {}).get(str(agent.get("name")))
    if params:
        out["agent"] = {**agent, "params": {**dict(agent.get("params") or {}), **dict(params)}}
    return out


def build(cfg: RunConfig, env: Any = None, agent: AgentFactory | None = None) -> tuple[Any, Agent]:
    """Make the env (on the simulator ``env.simulator`` names) and the agent.

    ``env`` (an env instance) and ``agent`` (a factory) replace what the config names. Bad
    values raise :class:`~archgym.errors.ConfigError`; only archgym's own errors (and a missing
    input file) are reported as configuration errors, anything else is a bug and keeps its
    traceback.
    """
    if env is None:
        try:
            env = make_env(cfg.env_id, **cfg.env_kwargs)
        except ConfigError:
            raise
        except (ArchGymError, FileNotFoundError) as exc:
            msg = exc.args[0] if exc.args else str(exc)
            raise ConfigError(f"env.kwargs ({cfg.env_id}): {msg}") from exc
    base = unwrap(env)
    choice = use_simulator(base, cfg.simulator)  # ConfigError naming env.simulator.*
    if agent is not None:
        search = agent(base.space, cfg.seed)
    else:
        search = make_agent(cfg.agent_target or cfg.agent, base.space, seed=cfg.seed, **cfg.agent_params)
    check_agent(search, env, cfg.agent)
    if choice.wrap_agent is not None:  # e.g. proxy_in_loop: search on a proxy, the budget counts real runs
        search = choice.wrap_agent(search)
    return env, search


def check_agent(search: Agent, env: Any, name: str) -> None:
    """Bind an agent to the env before the run starts, so that hyperparameters only the env can
    check (the metrics a multi-objective agent optimises) fail as a :class:`ConfigError` while
    nothing is written yet."""
    bind = getattr(search, "bind", None)
    if bind is None:
        return
    bind(env)
    if getattr(search, "metrics", None) is not None and hasattr(search, "objective_metrics"):
        try:
            search.objective_metrics()
        except ValueError as exc:
            msg = f"agent.params.{exc}" if str(exc).startswith("metrics") else f"agent {name!r}: {exc}"
            raise ConfigError(msg) from None


class _Progress:
    """A tqdm bar advanced by every evaluation, showing the best reward so far."""

    def __init__(self, total: int, desc: str, enabled: bool) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(
            total=total, desc=desc, unit="eval", disable=not enabled, file=sys.stderr, dynamic_ncols=True
        )
        self.best = float("-inf")

    def __call__(self, ev: Any) -> None:
        if ev.feasible and ev.reward > self.best:
            self.best = ev.reward
            self.bar.set_postfix(best_reward=f"{self.best:.4f}", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def run_experiment(
    config: Mapping[str, Any],
    output_dir: str | os.PathLike,
    *,
    env: Any = None,
    agent: AgentFactory | None = None,
    on_start: Callable[[Path], None] | None = None,
) -> RunSummary:
    """Run one search and write ``dataset/`` and ``summary.json`` under ``output_dir``.

    The run holds the directory's lock (:class:`~archgym.runlock.RunLock`) from start to end;
    a directory locked by another live run raises :class:`~archgym.runlock.RunLockedError`.
    The dataset is flushed even if the agent or simulator raises midway; the summary is
    written with ``complete: false`` in that case and the error re-raised. A config error
    found before the run starts leaves no files behind (and a directory this call created
    is removed again).

    With ``resume: true`` (the default) a directory holding a complete run of the same
    config is not run again: its summary is returned. A cut-off run there is resumed by
    replay: its flushed rows answer the re-run's first proposals (checked against them) and
    only the rest is simulated (see :mod:`archgym.sweep` and :mod:`archgym.replay`).

    ``env`` (an instance) and ``agent`` (a factory ``(space, seed) -> Agent``) stand in for
    what the config names (``archgym generate`` passes its sampler this way); ``on_start``
    is called with the directory once the run is about to start (the CLI saves the Hydra
    config there).
    """
    plain = with_suite_agent_params(_to_plain(config))
    cfg = RunConfig.from_mapping(plain)
    out = Path(output_dir)
    existed, lock_existed = _first_existing(out), (out / LOCK_FILE).exists()
    lock = RunLock(out).acquire()  # RunLockedError: another live run writes here
    try:
        previous = check_resume(out, plain, resume=_bool(plain, "resume", True))
        if previous is not None:
            print(
                f"archgym: skipping {out}: already complete (set resume=false to run it again)",
                file=sys.stderr,
            )
            known = {f.name for f in dataclasses.fields(RunSummary)}
            lock.release()
            return RunSummary(**{k: v for k, v in previous.items() if k in known})
        env, search = build(cfg, env, agent)
        evaluator_cfg = dict(plain.get("evaluator") or {})
        workers = _int(evaluator_cfg, "workers", 1, "evaluator.")
        try:
            unwrap(env).evaluator.set_workers(workers, evaluator_cfg.get("backend", "process"))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    except BaseException:
        lock.release(remove=not lock_existed)  # a lock file this call created goes again
        _discard(out, existed)
        raise
    try:
        kept = start_run(out, plain, resume=_bool(plain, "resume", True))
        if on_start is not None:
            on_start(out)
        return _search(cfg, env, search, out, kept)
    finally:
        lock.release()


def _first_existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists."""
    path = path.absolute()
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def _discard(out: Path, existed: Path) -> None:
    """Remove the directories this call created for a run that never started (while empty),
    from ``out`` up to ``existed``, the nearest ancestor that existed before."""
    path = out.absolute()
    while path != existed and existed in path.parents:
        try:
            path.rmdir()
        except OSError:  # not empty: something else wrote there meanwhile
            return
        path = path.parent


def run_info(cfg: RunConfig, env: Any, agent: Agent, run_id: str | None = None) -> RunInfo:
    """The metadata every row of this run carries (provenance, objective, metric definitions)."""
    base = unwrap(env)
    return RunInfo(
        run_id=run_id or f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}",
        env_id=cfg.env_id,
        workload=str(base.workload_name),
        simulator_version=base.simulator.version,
        agent=cfg.agent,
        seed=cfg.seed,
        agent_params=agent.hyperparameters(),
        objective=objective_spec(base.objective),
        metrics=tuple(base.simulator.metrics),
        env_kwargs=cfg.env_kwargs,
        workload_hash=workload_hash(base.workload_name),
        source=simulator_source(base.simulator),
        archgym_version=archgym_version(),
    )


def _replay_log(env: Any, out: Path, kept: int) -> ReplayLog | None:
    """The rows a cut-off run left in ``out`` (``kept`` of them), handed to the env's evaluator."""
    if not kept:
        return None
    base = unwrap(env)
    log = load_replay(
        out / DATASET_DIR, base.space, base.simulator.metric_names, base.simulator.extra_columns
    )
    base.evaluator.replay(log)
    print(
        f"archgym: resuming {out}: replaying {len(log)} evaluations from its dataset, simulating the rest",
        file=sys.stderr,
    )
    return log


def _search(cfg: RunConfig, env: Any, agent: Agent, out: Path, kept: int = 0) -> RunSummary:
    base = unwrap(env)
    replay = _replay_log(env, out, kept)
    info = run_info(cfg, env, agent, replay.run_id if replay else None)
    logger = DatasetLogger(
        out / DATASET_DIR,
        info,
        base.space,
        base.simulator.metric_names,
        cfg.flush_every,
        base.simulator.extra_columns,
        existing_rows=len(replay) if replay else 0,
    )
    progress = _Progress(cfg.budget, f"{cfg.agent} on {base.workload_name or cfg.env_id}", cfg.progress)
    base.add_recorder(logger)
    base.add_recorder(progress)
    hv_tracker = HypervolumeTracker.for_env(env)
    if hv_tracker is not None:
        base.add_recorder(hv_tracker)
    env.reset(seed=cfg.seed)
    result: RunResult | None = None
    start = time.perf_counter()
    try:
        result = agent.run(env, cfg.budget, stop_on_success=cfg.stop_on_success)
    finally:
        logger.close()
        progress.close()
        summary = _summarise(
            cfg, info, result, time.perf_counter() - start, out / DATASET_DIR, logger.rows_written
        )
        summary.proxy_path = getattr(base.simulator, "path", None) if summary.is_proxy else None
        summary.resumed_evaluations = len(replay) if replay else 0
        summary.hypervolume = hv_tracker.summary() if hv_tracker is not None else None
        write_text_atomic(out / SUMMARY_FILE, summary.to_json())
        base.evaluator.close()
        env.close()
    return summary


def _summarise(
    cfg: RunConfig, info: RunInfo, result: RunResult | None, wall: float, dataset: Path, rows: int
) -> RunSummary:
    best = result.best if result else None
    return RunSummary(
        run_id=info.run_id,
        env_id=cfg.env_id,
        workload=info.workload,
        agent=cfg.agent,
        agent_params=dict(info.agent_params),
        seed=cfg.seed,
        budget=cfg.budget,
        evaluations=rows,
        success=bool(result and result.success),
        evaluations_to_target=result.first_success_step if result else None,
        best_reward=best.reward if best else None,
        best_design=best.design if best else None,
        best_metrics=best.metrics if best else None,
        wall_time_s=round(wall, 4),
        dataset=str(dataset),
        complete=result is not None,
        objective=dict(info.objective),
        objective_hash=objective_hash(info.objective),
        source=info.source,
        env_kwargs=dict(info.env_kwargs),
        archgym_version=info.archgym_version,
    )


def format_summary(summary: RunSummary) -> str:
    """A short human-readable report of a run."""
    lines = [
        f"run {summary.run_id}: {summary.agent} (seed {summary.seed}) on {summary.env_id} "
        f"[{summary.workload}]",
        f"  evaluations: {summary.evaluations}/{summary.budget} in {summary.wall_time_s:.2f} s"
        + (
            f" (resumed: {summary.resumed_evaluations} replayed from the cut-off attempt's dataset)"
            if summary.resumed_evaluations
            else ""
        ),
    ]
    if summary.is_proxy:
        lines.append(
            f"  evaluated by the proxy {summary.proxy_path or ''} ({summary.source}): nothing was simulated; "
            "re-simulate designs before trusting them"
        )
    predicted = " (by the proxy's predictions)" if summary.is_proxy else ""
    if summary.success:
        lines.append(f"  target met{predicted} after {summary.evaluations_to_target} evaluations")
    else:
        lines.append(f"  target not met{predicted} within the budget")
    infeasible = infeasible_reason(summary)
    if infeasible:
        lines.append(f"  no feasible design found: {infeasible}")
    if summary.best_design is not None:
        lines.append(f"  best reward: {summary.best_reward:.4f}" + (" (infeasible)" if infeasible else ""))
        lines.append("  best design: " + ", ".join(f"{k}={v}" for k, v in summary.best_design.items()))
        if summary.best_metrics:
            lines.append(
                "  best metrics: " + ", ".join(f"{k}={v:.4g}" for k, v in summary.best_metrics.items())
            )
    lines.append(f"  dataset: {summary.dataset}")
    return "\n".join(lines)


def violated_constraints(objective: Mapping[str, Any], metrics: Mapping[str, float]) -> list[str]:
    """The constraints of an objective block that ``metrics`` violate, as ``metric op bound (got v)``."""
    out = []
    for c in objective.get("constraints") or ():
        value = metrics.get(c["metric"])
        if value is None:
            continue
        holds = value <= c["bound"] if c["op"] == "<=" else value >= c["bound"]
        if not holds:
            out.append(f"{c['metric']} {c['op']} {c['bound']:g} (got {value:.4g})")
    return out


def infeasible_reason(summary: RunSummary) -> str | None:
    """Why a run's best design is infeasible (violated constraints, or a failed simulation), else ``None``."""
    if summary.best_design is None:
        return "no design was evaluated successfully" if summary.evaluations else None
    if summary.best_metrics is None:
        return "every simulation failed (see the error column of the dataset)"
    violated = violated_constraints(summary.objective, summary.best_metrics)
    if not violated:
        return None
    return "the best design violates " + "; ".join(violated)
