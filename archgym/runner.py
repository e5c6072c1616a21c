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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archgym.agent import RunResult
from archgym.atomic import write_text_atomic
from archgym.logger import DatasetLogger, RunInfo
from archgym.objective import ObjectiveError
from archgym.registry import ConfigError, make_agent, make_env
from archgym.sweep import DATASET_DIR, SUMMARY_FILE, prepare_run


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
            seed=_int(cfg, "seed", 0),
            budget=budget,
            stop_on_success=bool(cfg.get("stop_on_success", False)),
            progress=bool(cfg.get("progress", True)),
            flush_every=flush_every,
            simulator=dict(env.get("simulator") or {}) or None,
        )


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


def build(cfg: RunConfig) -> tuple[Any, Any]:
    """Make the env and the agent, turning bad values into :class:`ConfigError`."""
    try:
        env = make_env(cfg.env_id, **cfg.env_kwargs)
    except ConfigError:
        raise
    except (ObjectiveError, FileNotFoundError, KeyError, ValueError, TypeError) as exc:
        msg = exc.args[0] if exc.args else str(exc)
        raise ConfigError(f"env.kwargs ({cfg.env_id}): {msg}") from None
    if cfg.simulator and cfg.simulator.get("name", "native") != "native":
        from archgym.proxy.simulator import attach_simulator

        attach_simulator(env, cfg.simulator)  # raises ConfigError naming env.simulator.*
    agent = make_agent(cfg.agent, env.unwrapped.space, seed=cfg.seed, **cfg.agent_params)
    if cfg.simulator and cfg.simulator.get("name") == "proxy_in_loop":
        from archgym.proxy.in_loop import wrap_agent

        agent = wrap_agent(agent, env, cfg.simulator)  # searches on a proxy; the budget counts real runs
    return env, agent


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


def run_experiment(config: Mapping[str, Any], output_dir: str | os.PathLike) -> RunSummary:
    """Run one search and write ``dataset/`` and ``summary.json`` under ``output_dir``.

    The dataset is flushed even if the agent or simulator raises midway; the summary is
    written with ``complete: false`` in that case and the error re-raised.

    With ``resume: true`` (the default) a directory holding a complete run of the same
    config is not run again: its summary is returned. A cut-off run there is cleared and
    run again (see :mod:`archgym.sweep`).
    """
    plain = _to_plain(config)
    cfg = RunConfig.from_mapping(plain)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    previous = prepare_run(out, plain, resume=bool(plain.get("resume", True)))
    if previous is not None:
        print(
            f"archgym: skipping {out}: already complete (set resume=false to run it again)", file=sys.stderr
        )
        known = {f.name for f in dataclasses.fields(RunSummary)}
        return RunSummary(**{k: v for k, v in previous.items() if k in known})
    env, agent = build(cfg)
    base = env.unwrapped
    run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    info = RunInfo(
        run_id=run_id,
        env_id=cfg.env_id,
        workload=str(base.workload_name),
        simulator_version=base.simulator.version,
        agent=cfg.agent,
        seed=cfg.seed,
        agent_params=agent.hyperparameters(),
    )
    logger = DatasetLogger(
        out / DATASET_DIR,
        info,
        base.space,
        base.simulator.metric_names,
        cfg.flush_every,
        base.simulator.extra_columns,
    )
    progress = _Progress(cfg.budget, f"{cfg.agent} on {base.workload_name or cfg.env_id}", cfg.progress)
    base.add_recorder(logger)
    base.add_recorder(progress)
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
        write_text_atomic(out / SUMMARY_FILE, summary.to_json())
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
    )


def format_summary(summary: RunSummary) -> str:
    """A short human-readable report of a run."""
    lines = [
        f"run {summary.run_id}: {summary.agent} (seed {summary.seed}) on {summary.env_id} [{summary.workload}]",
        f"  evaluations: {summary.evaluations}/{summary.budget} in {summary.wall_time_s:.2f} s",
    ]
    if summary.success:
        lines.append(f"  target met after {summary.evaluations_to_target} evaluations")
    else:
        lines.append("  target not met within the budget")
    if summary.best_design is not None:
        lines.append(f"  best reward: {summary.best_reward:.4f}")
        lines.append("  best design: " + ", ".join(f"{k}={v}" for k, v in summary.best_design.items()))
        if summary.best_metrics:
            lines.append(
                "  best metrics: " + ", ".join(f"{k}={v:.4g}" for k, v in summary.best_metrics.items())
            )
    lines.append(f"  dataset: {summary.dataset}")
    return "\n".join(lines)
