"""Proxy cost models on the DRAM controller: held-out accuracy and speed vs the simulator.

1. Simulates N designs (default 5,000, scrambled Sobol over the whole design space) of
   ``archgym/DRAMController-v0`` with ``archgym.generate`` — the dataset is reused when a
   complete one of the same size is already in ``--data``.
2. Trains each proxy (random forest, gradient-boosted trees, GP, MLP) on 80 % of the unique
   designs and prints, per metric, the held-out RMSE, relative RMSE (RMSE / mean |y|), MAPE
   and the Spearman / Kendall rank correlations.
3. Times one evaluation: the simulator's mean wall time per design (from the dataset) vs the
   proxy as a simulator (``ProxySimulator.evaluate_many`` on a batch of 1,000 designs, and
   ``evaluate`` one design at a time).

The DRAM workload is ArchGym's standard ``random`` trace at its full 10,000 requests (the
simulator is compiled with numba and takes a few ms per design, so 5,000 designs take about
a minute); ``--n-requests`` shortens it for a quick look.

    python benchmarks/bench_proxy.py                      # the full benchmark
    python benchmarks/bench_proxy.py -n 600 --models rf   # a quick look
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

GOAL_METRICS = ("avg_read_latency_ns", "power_mw")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=5000, help="designs to simulate (default 5000)")
    parser.add_argument("--workload", default="random", help="DRAM workload (default random)")
    parser.add_argument("--n-requests", type=int, default=None, help="requests per simulation (default: all 10,000)")
    parser.add_argument("--models", default="rf,gbt,gp,mlp", help="comma-separated proxy kinds")
    parser.add_argument("--data", default="runs/bench_proxy/dram-sobol", help="dataset directory (reused when complete)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from archgym.dataset import load_dataset
    from archgym.generate import generate_dataset
    from archgym.proxy import ProxySimulator, train_proxy, training_table
    from archgym.proxy.core import format_scores

    env_id = "archgym/DRAMController-v0"
    kwargs = {"workload": args.workload, **({"n_requests": args.n_requests} if args.n_requests else {})}
    data = Path(args.data)
    summary_file = data / "summary.json"
    reuse = False
    if summary_file.exists():
        s = json.loads(summary_file.read_text())
        reuse = s.get("complete") and s.get("evaluations") == args.n and s.get("agent_params", {}).get("env_kwargs") == kwargs
    if not reuse:
        print(f"simulating {args.n} Sobol designs of {env_id} {kwargs} ...", flush=True)
        res = generate_dataset(env_id, data, args.n, "sobol", seed=args.seed, env_kwargs=kwargs)
        print(f"  {res.designs} designs ({res.failed} failed) in {res.wall_time_s:.0f} s", flush=True)
    else:
        print(f"reusing the dataset in {data} ({args.n} designs of {env_id} {kwargs})")
    df = load_dataset(data)
    table = training_table(df)
    logged_s = float(df.loc[~df["cached"], "wall_time_s"].mean())
    print(f"dataset: {len(df)} rows, {len(table.designs)} unique successful designs; workload {table.workload}; "
          f"simulator {table.simulator_version}")

    rng = np.random.default_rng(1)
    designs = [dict(zip(table.designs.columns, row)) for row in table.designs.itertuples(index=False)]
    batch = [designs[i] for i in rng.choice(len(designs), 1000, replace=len(designs) < 1000)]
    # time the simulator now, on designs of the same batch, so both timings share the machine's load
    from archgym.registry import make_env

    base = make_env(env_id, **kwargs).unwrapped
    base.simulator.evaluate_many(batch[:2], base.workload)  # warm-up (numba compilation, trace decoding)
    t0 = time.perf_counter()
    base.simulator.evaluate_many(batch[:64], base.workload)
    sim_s = (time.perf_counter() - t0) / 64
    print(f"simulator: {sim_s * 1e3:.2f} ms per evaluation (batch of 64 timed now; "
          f"{logged_s * 1e3:.2f} ms mean while generating the dataset)\n")
    rows = []
    for kind in args.models.split(","):
        t0 = time.perf_counter()
        model = train_proxy(table, kind, seed=args.seed, progress=True)
        train_s = time.perf_counter() - t0
        sim = ProxySimulator(model)
        sim.evaluate_many(batch[:10], None)  # warm-up
        t0 = time.perf_counter()
        sim.evaluate_many(batch, None)
        batch_s = (time.perf_counter() - t0) / len(batch)
        t0 = time.perf_counter()
        for d in batch[:100]:
            sim.evaluate(d, None)
        single_s = (time.perf_counter() - t0) / 100
        print(format_scores(model.scores, f"== {kind}: trained on {model.n_train} designs in {train_s:.1f} s; "
                                          f"held-out scores on {model.scores[GOAL_METRICS[0]]['n']} designs"))
        print(f"  time per evaluation: batch of 1000 {batch_s * 1e6:.1f} us ({sim_s / batch_s:,.0f}x faster than the "
              f"simulator), one at a time {single_s * 1e3:.2f} ms ({sim_s / single_s:,.0f}x)\n", flush=True)
        rows.append((kind, *(model.scores[m]["rel_rmse"] for m in GOAL_METRICS), sim_s / batch_s, sim_s / single_s))

    print("summary (goal: relative RMSE <= 1% on latency and power, >= 1,000x faster than the simulator)")
    print(f"  {'model':<6} {'latency rel RMSE':>17} {'power rel RMSE':>15} {'speed-up (batch)':>17} {'speed-up (single)':>18}")
    for kind, lat, pw, sb, ss in rows:
        print(f"  {kind:<6} {100 * lat:>16.3f}% {100 * pw:>14.3f}% {sb:>16,.0f}x {ss:>17,.0f}x")


if __name__ == "__main__":
    main()
