"""Active data generation: simulate N designs chosen by a sampler and log them as a dataset.

Samplers (:mod:`archgym.sampling`): ``random``, ``sobol`` and ``replay`` (the designs of
existing datasets, to re-simulate them on another workload or simulator version).

With ``unique=True`` (the default) a design is simulated at most once; the sampler keeps
drawing until N distinct designs are done (or, for a space smaller than N, until it gives
up after many repeats and says so). A generation is an ordinary run: the sampler is an agent
(:class:`SamplerAgent`, named ``generate-<sampler>`` in datasets) run by
:func:`archgym.runner.run_experiment`, so it locks its directory, resumes, and records the same
provenance; its output (``dataset/part-*.parquet`` + ``summary.json``) is what merge, proxies
and reports read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archgym.agent import Agent
from archgym.design_space import DesignSpace
from archgym.env import unwrap
from archgym.errors import ArchGymError, ConfigError
from archgym.runlock import LOCK_FILE
from archgym.runner import RunSummary, run_experiment
from archgym.sampling import SAMPLERS, SamplerAgent, design_stream
from archgym.sweep import fingerprint, inspect_run

_MAX_REPEAT_FACTOR = 50  # give up after this many draws per wanted design


@dataclass
class GenerateResult:
    """What :func:`generate_dataset` did."""

    output_dir: Path
    designs: int
    failed: int
    wall_time_s: float
    exhausted: bool
    summary: RunSummary | None = None


def generate_config(
    env_id: str,
    n: int,
    sampler: str = "random",
    *,
    seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
    source: Sequence[str] = (),
    unique: bool = True,
    batch_size: int = 32,
    flush_every: int = 500,
    progress: bool = True,
    simulator: Mapping[str, Any] | None = None,
    resume: bool = True,
) -> dict[str, Any]:
    """The run config of a generation (what ``run.json`` fingerprints and ``summary.json`` reports)."""
    env: dict[str, Any] = {"id": env_id, "kwargs": dict(env_kwargs or {})}
    if simulator:
        env["simulator"] = dict(simulator)
    return {
        "env": env,
        "agent": {
            "name": f"generate-{sampler}",
            "params": {
                "sampler": sampler,
                "source": list(source),
                "unique": unique,
                "batch_size": batch_size,
            },
        },
        "seed": seed,
        "budget": n,
        "stop_on_success": False,
        "progress": progress,
        "resume": resume,
        "logger": {"flush_every": flush_every},
    }


def generate_dataset(
    env_id: str | Any,
    output_dir: str | Path,
    n: int,
    sampler: str = "random",
    *,
    seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
    source: Sequence[str] = (),
    unique: bool = True,
    batch_size: int = 32,
    flush_every: int = 500,
    progress: bool = True,
    simulator: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> GenerateResult:
    """Simulate ``n`` designs of an env and write them as a run directory (see module doc).

    Runs through :func:`archgym.runner.run_experiment`, so the directory is locked while it
    is written, a complete generation of the same config there is reused (resume), and every
    row carries the run's provenance. ``env_id`` is a registered gymnasium id (built with
    ``env_kwargs``) or an env instance. ``simulator`` is an ``env.simulator`` config, e.g.
    ``{"name": "proxy", "path": FILE}``.

    Raises:
        ConfigError: ``output_dir`` holds something other than a generation of this config
            (unless ``overwrite``), or a bad argument (unknown env keyword, sampler...).
    """
    if n < 1:
        raise ConfigError(f"-n: must be >= 1, got {n}")
    if batch_size < 1:
        raise ConfigError(f"--batch-size: must be >= 1, got {batch_size}")
    if sampler not in SAMPLERS:
        raise ConfigError(f"--sampler: unknown sampler {sampler!r}; allowed: {', '.join(SAMPLERS)}")
    instance = None if isinstance(env_id, str) else env_id
    name = env_id if isinstance(env_id, str) else (unwrap(env_id).env_id or type(unwrap(env_id)).__name__)
    config = generate_config(
        name,
        n,
        sampler,
        seed=seed,
        env_kwargs=env_kwargs,
        source=source,
        unique=unique,
        batch_size=batch_size,
        flush_every=flush_every,
        progress=progress,
        simulator=simulator,
        resume=not overwrite,
    )
    out = Path(output_dir)
    occupied = out.is_dir() and any(p.name != LOCK_FILE for p in out.iterdir())
    # resumable: a complete or cut-off generation of this very config; anything else is refused
    if not overwrite and occupied and inspect_run(out, fingerprint(config)).status in ("absent", "changed"):
        raise ConfigError(
            f"-o: {out} exists and holds something else than a generation with these settings; "
            "pass --overwrite (overwrite=True) to replace its dataset, or choose another directory"
        )

    def factory(space: DesignSpace, agent_seed: int) -> Agent:
        try:
            return SamplerAgent(
                space, agent_seed, sampler, source, unique, batch_size, max_draws=_MAX_REPEAT_FACTOR * n
            )
        except (ArchGymError, FileNotFoundError) as exc:
            raise ConfigError(f"--sampler {sampler}: {exc.args[0] if exc.args else exc}") from exc

    summary = run_experiment(config, out, env=instance, agent=factory)
    failed = _failed_rows(out / "dataset")
    return GenerateResult(
        out, summary.evaluations, failed, summary.wall_time_s, summary.evaluations < n, summary
    )


def _failed_rows(dataset: Path) -> int:
    """Rows with a simulator error (only the ``error`` column is read)."""
    import pyarrow.parquet as pq

    from archgym.logger import SHARD_GLOB

    failed = 0
    for shard in sorted(dataset.glob(SHARD_GLOB)):
        if not shard.name.startswith("."):
            table = pq.read_table(shard, columns=["error"])
            failed += table.num_rows - table.column("error").null_count
    return failed


__all__ = [
    "SAMPLERS",
    "GenerateResult",
    "SamplerAgent",
    "design_stream",
    "generate_config",
    "generate_dataset",
]
