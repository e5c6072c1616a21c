"""RL steps per second: one env, Gymnasium's SyncVectorEnv, SB3's SubprocVecEnv and archgym's batched vector env.

An RL client steps ``N`` envs per call; each step proposes one design per env. The clients
compared, each with random actions (the env's cost, not the policy's):

* ``single``: ``archgym.registry.make_env(id)`` stepped one design at a time;
* ``gymnasium sync``: Gymnasium's ``SyncVectorEnv`` of N such envs (one process);
* ``sb3 subproc``: SB3's ``make_vec_env(..., N, vec_env_cls=SubprocVecEnv)`` (a process per env,
  each with its own simulator);
* ``archgym vector``: ``gymnasium.make_vec(id, N, vectorization_mode="vector_entry_point")``:
  one process, one simulator, the ``N`` designs of a step evaluated as one batch.

Each client runs in a fresh process and is timed over at least ``--seconds`` of stepping after
a warm-up (numba compiled, caches loaded); the figure is designs (= RL steps over all sub-envs)
per second. Run::

    python benchmarks/bench_vector_env.py                  # accelerator (template model) and SoC, N=64
    python benchmarks/bench_vector_env.py --envs soc --n 16 --seconds 3 --json
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import gymnasium
import numpy as np

from archgym.registry import make_env

#: env name -> (id, make_env keywords: an env.simulator choice and the factory's arguments)
ENVS: dict[str, tuple[str, dict[str, Any]]] = {
    # conf/env/accelerator.yaml's targets (else they are searched for on the hierarchy model first)
    "accelerator": (
        "archgym/Accelerator-v0",
        {"simulator": "template", "targets": {"latency_ms": 6.0, "energy_uj": 5400.0, "area_mm2": 2.3}},
    ),
    "soc": ("archgym/SoC-v0", {}),
    "dram": ("archgym/DRAMController-v0", {}),
}


def _time_steps(step: Callable[[], None], per_call: int, seconds: float, warmup: int = 3) -> float:
    """Designs per second of ``step`` (``per_call`` designs a call), after ``warmup`` calls."""
    for _ in range(warmup):
        step()
    calls, start = 0, time.perf_counter()
    while True:
        step()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls * per_call / elapsed


def bench_single(env_id: str, kwargs: dict, seconds: float) -> float:
    env = make_env(env_id, **kwargs)
    env.reset(seed=0)
    env.action_space.seed(0)

    def step() -> None:
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()

    return _time_steps(step, 1, seconds)


def bench_gymnasium(env_id: str, kwargs: dict, n: int, mode: str, seconds: float) -> float:
    if mode == "sync":
        envs: Any = gymnasium.vector.SyncVectorEnv([functools.partial(make_env, env_id, **kwargs)] * n)
    else:
        envs = gymnasium.make_vec(env_id, num_envs=n, vectorization_mode=mode, **kwargs)
    envs.reset(seed=0)
    envs.action_space.seed(0)
    try:
        return _time_steps(lambda: envs.step(envs.action_space.sample()), n, seconds)
    finally:
        envs.close()


def bench_sb3_subproc(env_id: str, kwargs: dict, n: int, seconds: float, start_method: str) -> float:
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import SubprocVecEnv

    venv = make_vec_env(
        functools.partial(make_env, env_id, **kwargs), n_envs=n, seed=0, vec_env_cls=SubprocVecEnv,
        vec_env_kwargs={"start_method": start_method},
    )  # fmt: skip
    venv.reset()
    space = venv.action_space
    space.seed(0)
    try:
        return _time_steps(lambda: venv.step(np.stack([space.sample() for _ in range(n)])), n, seconds)
    finally:
        venv.close()


def measure(env_name: str, client: str, n: int, seconds: float, start_method: str) -> float:
    """One client's designs per second (run in a fresh process by :func:`run`)."""
    env_id, kwargs = ENVS[env_name]
    if client == "single":
        return bench_single(env_id, kwargs, seconds)
    if client == "sb3 subproc":
        return bench_sb3_subproc(env_id, kwargs, n, seconds, start_method)
    mode = "sync" if client == "gymnasium sync" else "vector_entry_point"
    return bench_gymnasium(env_id, kwargs, n, mode, seconds)


def run(env_name: str, n: int, seconds: float, start_method: str, subproc: bool) -> list[dict[str, Any]]:
    """Every client on one env, each in a fresh spawned process (no state or threads carried over)."""
    clients = ["single", "gymnasium sync", "sb3 subproc", "archgym vector"]
    rows = []
    ctx = multiprocessing.get_context("spawn")
    for client in clients:
        if client == "sb3 subproc" and not subproc:
            continue
        # an executor's worker may start processes of its own (a Pool's daemonic worker may not)
        with ProcessPoolExecutor(1, mp_context=ctx) as pool:
            rate = pool.submit(measure, env_name, client, n, seconds, start_method).result()
        rows.append(
            {"env": env_name, "client": client, "n": 1 if client == "single" else n, "steps_per_s": rate}
        )
    single = rows[0]["steps_per_s"]
    subproc_rate = next((r["steps_per_s"] for r in rows if r["client"] == "sb3 subproc"), None)
    for r in rows:
        r["x_single"] = r["steps_per_s"] / single
        r["x_subproc"] = r["steps_per_s"] / subproc_rate if subproc_rate else None
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--envs", nargs="+", default=["accelerator", "soc"], choices=sorted(ENVS))
    parser.add_argument("--n", type=int, default=64, help="sub-envs per vector env (default 64)")
    parser.add_argument("--seconds", type=float, default=5.0, help="time each client at least this long")
    parser.add_argument(
        "--start-method", default="fork", choices=["fork", "forkserver", "spawn"],
        help="SubprocVecEnv's start method (fork: the N workers share the parent's memory until they write)",
    )  # fmt: skip
    parser.add_argument("--no-subproc", action="store_true", help="skip SB3's SubprocVecEnv")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    rows = [
        r for e in args.envs for r in run(e, args.n, args.seconds, args.start_method, not args.no_subproc)
    ]
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"# {os.cpu_count()} cores; random actions; designs (RL steps over all sub-envs) per second")
    print(f"{'env':<12} {'client':<16} {'N':>3} {'steps/s':>10} {'x single':>9} {'x subproc':>10}")
    for r in rows:
        xs = f"{r['x_subproc']:.1f}" if r["x_subproc"] is not None else "-"
        print(
            f"{r['env']:<12} {r['client']:<16} {r['n']:>3} {r['steps_per_s']:>10.0f} "
            f"{r['x_single']:>9.1f} {xs:>10}"
        )


if __name__ == "__main__":
    main()
