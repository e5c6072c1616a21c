"""Benchmark and validate the LLM training model (``archgym/LLMTraining-v0``).

Prints, in order:

1. **speed**: designs per second of ``LLMTrainingSimulator.evaluate_arrays`` (design checks +
   the vectorised model) and of the model alone on prepared arrays, on ``--designs`` uniformly
   random designs of GPT-3 175B on 64 A100s, best of ``--repeats``, in this one process (pin it
   with ``taskset -c 0``). Goal: >= 10,000 designs/s on one core.
2. **Korthikanti et al. 2022** (Table 5): iteration time, ours vs published, per row.
3. **Narayanan et al. SC'21** (Table 1): TFLOP/s per GPU, ours vs published, per row.
4. **Calculon** (with ``--calculon DIR``): ``--configs`` random feasible configurations across
   five models and two clusters, run through Calculon (``DIR/bin/calculon llm``, with
   ``--calculon-python``, through ``archgym.envs.llm.calculon_bridge``) and through this model;
   prints each pair, the step-time Spearman
   correlation and the median ratio. Calculon's results are cached in ``--cache`` (JSON, outside
   the repository), so a second run does not call it again. Calculon is never imported: it runs
   as its own process on JSON files this script writes.

    taskset -c 0 python benchmarks/bench_llm_training.py
    python benchmarks/bench_llm_training.py --calculon /work/ref/calculon \
        --calculon-python /work/ref/calc-venv/bin/python --cache /work/ref/calculon_llm_cache.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from archgym.envs.llm import PRESETS, LLMTrainingSimulator, TrainingWorkload, dgx_cluster
from archgym.envs.llm.calculon_bridge import (
    CALCULON_SYSTEMS,
    calculon_application,
    calculon_execution,
    run_calculon,
)
from archgym.envs.llm.space import training_arrays
from archgym.envs.llm.training import TrainingSetup, evaluate_training
from archgym.envs.llm.validation import BASE_DESIGN, KORTHIKANTI_2022, NARAYANAN_SC21
from archgym.errors import SimulationError

CALCULON_MODELS = ("gpt3-13b", "megatron-22b", "gpt3-175b", "megatron-530b", "megatron-1t")


def bench_speed(n: int, repeats: int) -> None:
    sim = LLMTrainingSimulator(dgx_cluster("a100-80gb", 64))
    wl = TrainingWorkload(PRESETS["gpt3-175b"], 64)
    space = sim.design_space(wl)
    rng = np.random.default_rng(0)
    designs = [space.sample(rng) for _ in range(n)]
    setup = TrainingSetup(wl.model, sim.cluster, wl.global_batch)
    arrays = training_arrays(designs, sim.cluster)
    full = min((_timed(lambda: sim.evaluate_arrays(designs, wl)) for _ in range(repeats)), key=lambda t: t[1])
    kernel = min(
        (_timed(lambda: evaluate_training(setup, arrays)) for _ in range(repeats)), key=lambda t: t[1]
    )
    feasible = int((sim.evaluate_arrays(designs, wl)["infeasible"] == 0).sum())
    print(
        f"speed ({n} random designs of gpt3-175b on 64 x a100-80gb, {feasible} feasible, best of {repeats};"
    )
    print("  designs/s by wall clock and by this process's CPU time, the robust figure on a shared machine):")
    print(f"  evaluate_arrays (checks + model): {n / full[0]:10,.0f} wall {n / full[1]:10,.0f} CPU")
    print(f"  model alone on prepared arrays:   {n / kernel[0]:10,.0f} wall {n / kernel[1]:10,.0f} CPU")


def _timed(fn: Any) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def print_table(title: str, rows: Any, unit: str) -> None:
    print(f"\n{title}")
    print(f"| model | TP x PP | GPUs | batch | setting | published {unit} | ours | error |")
    print("|---|---|---|---|---|---|---|---|")
    errors = []
    for r in rows:
        ours = r.evaluate()[r.metric]
        err = ours / r.published - 1
        errors.append(abs(err))
        setting = f"{'SP + ' if r.sequence_parallel else ''}{r.recompute} recompute, mb {r.micro_batch}"
        setting += f", v {r.interleave}" if r.interleave > 1 else ""
        print(
            f"| {r.model} | {r.tp} x {r.pp} | {r.gpus} | {r.global_batch} | {setting} | {r.published:g} "
            f"| {ours:.2f} | {100 * err:+.1f} % |"
        )
    print(f"mean |error| {100 * np.mean(errors):.1f} %, max {100 * np.max(errors):.1f} %")


# ------------------------------------------------------------------------------ Calculon
def random_configs(n: int, seed: int) -> list[dict[str, Any]]:
    """Random configurations both tools accept: TP 8 (a node, Calculon's filled NVLink network)."""
    rng = np.random.default_rng(seed)
    out: list[dict[str, Any]] = []
    while len(out) < n:
        model = PRESETS[str(rng.choice(CALCULON_MODELS))]
        pps = [p for p in (1, 2, 3, 4, 5, 7, 8, 15, 16, 32, 35) if model.layers % p == 0]
        pp = int(rng.choice(pps))
        dp = int(rng.choice((1, 2, 4, 8)))
        v = int(rng.choice([x for x in (1, 2, 3, 4) if (model.layers // pp) % x == 0 and (x == 1 or pp > 1)]))
        mb = int(rng.choice((1, 2, 4)))
        m = pp * int(rng.choice((1, 2, 4))) if pp > 1 else int(rng.choice((1, 2, 4, 8)))
        out.append(
            {
                "model": model.name,
                "gpu": str(rng.choice(list(CALCULON_SYSTEMS))),
                "design": {
                    **BASE_DESIGN,
                    "tp": 8,
                    "pp": pp,
                    "dp": dp,
                    "micro_batch": mb,
                    "interleave": v,
                    "sequence_parallel": bool(rng.integers(2)),
                    "recompute": str(rng.choice(("none", "selective", "full"))),
                    "zero": int(rng.choice((0, 1))),
                    "overlap_dp": bool(rng.integers(2)),
                },  # fmt: skip
                "global_batch": dp * mb * m,
            }
        )
    return out


def run_cached(cfg: dict[str, Any], root: Path, python: str) -> dict[str, float] | None:
    try:
        stats = run_calculon(
            root, python, calculon_application(PRESETS[cfg["model"]]),
            calculon_execution(cfg["design"], cfg["global_batch"]), CALCULON_SYSTEMS[cfg["gpu"]],
        )  # fmt: skip
    except SimulationError:
        return None
    return {"step_time_s": stats["total_time"], "memory_gb": stats["proc_mem_tier1_cap_req"] / 2**30}


def compare_calculon(root: Path, python: str, cache: Path, n: int, seed: int) -> None:
    cached: dict[str, Any] = json.loads(cache.read_text()) if cache.exists() else {}
    pairs = []
    print(f"\nCalculon ({root}), {n} random configurations (seed {seed}) both find feasible (<= 80 GiB):")
    print(
        "| model | GPU | TP x PP x DP | mb | v | SP | recompute | ZeRO-1 | DP overlap | batch | Calculon s | ours s | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for cfg in random_configs(40 * n, seed):
        if len(pairs) >= n:
            break
        key = json.dumps(cfg, sort_keys=True)
        if key not in cached:
            cached[key] = run_cached(cfg, root, python)
            cache.write_text(json.dumps(cached))
        ref = cached[key]
        if ref is None or ref["memory_gb"] > 80:
            continue
        sim = LLMTrainingSimulator(dgx_cluster(cfg["gpu"], 8 * cfg["design"]["pp"] * cfg["design"]["dp"]))
        out = sim.evaluate_arrays(
            [cfg["design"]], TrainingWorkload(PRESETS[cfg["model"]], cfg["global_batch"])
        )
        if out["infeasible"][0]:
            continue
        ours = float(out["step_time_s"][0])
        pairs.append((ref["step_time_s"], ours, ref["memory_gb"], float(out["memory_gb"][0])))
        d = cfg["design"]
        print(
            f"| {cfg['model']} | {cfg['gpu']} | 8 x {d['pp']} x {d['dp']} | {d['micro_batch']} | {d['interleave']} "
            f"| {'y' if d['sequence_parallel'] else 'n'} | {d['recompute']} | {'y' if d['zero'] else 'n'} "
            f"| {'y' if d['overlap_dp'] else 'n'} | {cfg['global_batch']} | {ref['step_time_s']:.3f} | {ours:.3f} "
            f"| {ours / ref['step_time_s']:.3f} |"
        )
    ref_t, our_t, ref_m, our_m = np.array(pairs).T
    for what, ref_v, our_v in (("step time", ref_t, our_t), ("memory per GPU", ref_m, our_m)):
        ratio = our_v / ref_v
        print(
            f"{len(pairs)} configurations, {what}: Spearman {_spearman(ref_v, our_v):.3f}, median ratio "
            f"ours/Calculon {np.median(ratio):.3f} (IQR {np.percentile(ratio, 25):.3f}-{np.percentile(ratio, 75):.3f})"
        )


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--designs", type=int, default=20000, help="random designs for the speed figure")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--calculon", type=Path, help="a Calculon checkout (github calculon-ai/calculon)")
    p.add_argument("--calculon-python", default="python3", help="the Python that runs Calculon")
    p.add_argument(
        "--cache", type=Path, default=Path("calculon_llm_cache.json"), help="Calculon results (JSON)"
    )
    p.add_argument("--configs", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-speed", action="store_true")
    a = p.parse_args()
    if a.designs < 1 or a.repeats < 1 or a.configs < 2:
        p.error("--designs and --repeats must be >= 1, --configs >= 2")
    if not a.skip_speed:
        bench_speed(a.designs, a.repeats)
    print_table(
        "Korthikanti et al. 2022, Table 5 (A100-80GB, seq 2048, DP 1): iteration time", KORTHIKANTI_2022, "s"
    )
    print_table(
        "Narayanan et al. SC'21, Table 1 (A100, seq 2048): TFLOP/s per GPU", NARAYANAN_SC21, "TFLOP/s"
    )
    if a.calculon is not None:
        if not (a.calculon / "bin" / "calculon").is_file():
            p.error(f"--calculon {a.calculon}: no bin/calculon there")
        compare_calculon(a.calculon, a.calculon_python, a.cache, a.configs, a.seed)


if __name__ == "__main__":
    main()
