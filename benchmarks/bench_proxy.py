"""Proxy cost models on the DRAM controller: held-out accuracy and speed vs the simulator.

1. Simulates N designs (default 5,000, scrambled Sobol over the whole design space) of
   ``archgym/DRAMController-v0`` with ``archgym.generate`` — the dataset is reused when a
   complete one of the same size is already in ``--data``.
2. Trains each proxy (random forest, gradient-boosted trees, GP, MLP) on 80 % of the unique
   designs and prints, per metric, the held-out RMSE, relative RMSE (RMSE / mean |y|), MAPE
   and the Spearman / Kendall rank correlations.
3. Times one evaluation: the simulator's wall time per design (``evaluate_many`` on 1,000 of
   the dataset's designs, timed now) vs the proxy as a simulator (``ProxySimulator.evaluate_many``
   on batches of 1,000 and 10,000 designs, whose first 1,000 are the simulator's, and
   ``evaluate`` one design at a time). The simulator runs one design after another, so its time
   per design does not depend on the batch size.

Relative RMSE is RMSE / mean |y| over the held-out designs (not RMSE / std(y)).
A reused dataset is first checked against the simulator (a few designs re-simulated); a
dataset written by an older simulator is regenerated.

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
BATCHES = (1000, 10000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=5000, help="designs to simulate (default 5000)")
    parser.add_argument("--workload", default="random", help="DRAM workload (default random)")
    parser.add_argument(
        "--n-requests", type=int, default=None, help="requests per simulation (default: all 10,000)"
    )
    parser.add_argument("--models", default="rf,gbt,gp,mlp", help="comma-separated proxy kinds")
    parser.add_argument(
        "--data", default="runs/bench_proxy/dram-sobol", help="dataset directory (reused when complete)"
    )
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
        reuse = (
            s.get("complete")
            and s.get("evaluations") == args.n
            and s.get("env_kwargs", s.get("agent_params", {}).get("env_kwargs")) == kwargs
        )
    from archgym.registry import make_env

    base = make_env(env_id, **kwargs).unwrapped
    if reuse:
        reuse = _matches_simulator(load_dataset(data), base)
        print(
            f"reusing the dataset in {data} ({args.n} designs of {env_id} {kwargs})"
            if reuse
            else f"the dataset in {data} does not match the simulator now (written by an older version): regenerating"
        )
    if not reuse:
        print(f"simulating {args.n} Sobol designs of {env_id} {kwargs} ...", flush=True)
        res = generate_dataset(
            env_id, data, args.n, "sobol", seed=args.seed, env_kwargs=kwargs, overwrite=True
        )
        print(f"  {res.designs} designs ({res.failed} failed) in {res.wall_time_s:.0f} s", flush=True)
    df = load_dataset(data)
    table = training_table(df)
    logged_s = float(df.loc[~df["cached"], "wall_time_s"].mean())
    print(
        f"dataset: {len(df)} rows, {len(table.designs)} unique successful designs; workload {table.workload}; "
        f"simulator {table.simulator_version}"
    )

    rng = np.random.default_rng(1)
    designs = [dict(zip(table.designs.columns, row)) for row in table.designs.itertuples(index=False)]
    batches = {
        n: [designs[i] for i in rng.choice(len(designs), n, replace=len(designs) < n)] for n in BATCHES
    }
    batches = {
        n: batches[BATCHES[0]] + b[BATCHES[0] :] for n, b in batches.items()
    }  # all start with the same designs
    sim_batch = batches[BATCHES[0]]
    # time the simulator now, on the designs the proxies are timed on, so both timings share the machine's load
    base.simulator.evaluate_many(sim_batch[:2], base.workload)  # warm-up (numba compilation, trace decoding)
    t0 = time.perf_counter()
    base.simulator.evaluate_many(sim_batch, base.workload)
    sim_s = (time.perf_counter() - t0) / len(sim_batch)
    print(
        f"simulator: {sim_s * 1e3:.2f} ms per evaluation (batch of {len(sim_batch):,} timed now; "
        f"{logged_s * 1e3:.2f} ms mean while generating the dataset)\n"
    )
    rows = []
    for kind in args.models.split(","):
        t0 = time.perf_counter()
        model = train_proxy(table, kind, seed=args.seed, progress=True)
        train_s = time.perf_counter() - t0
        sim = ProxySimulator(model)
        sim.evaluate_many(sim_batch[:10], None)  # warm-up
        batch_s = {}
        for n, b in batches.items():
            t0 = time.perf_counter()
            sim.evaluate_many(b, None)
            batch_s[n] = (time.perf_counter() - t0) / n
        t0 = time.perf_counter()
        for d in sim_batch[:100]:
            sim.evaluate(d, None)
        single_s = (time.perf_counter() - t0) / 100
        print(
            format_scores(
                model.scores,
                f"== {kind}: trained on {model.n_train} designs in {train_s:.1f} s; "
                f"held-out scores on {model.scores[GOAL_METRICS[0]]['n']} designs",
            )
        )
        print(
            "  time per evaluation: "
            + ", ".join(
                f"batch of {n:,} {t * 1e6:.1f} us ({sim_s / t:,.0f}x faster than the simulator)"
                for n, t in batch_s.items()
            )
            + f", one at a time {single_s * 1e3:.2f} ms ({sim_s / single_s:,.0f}x)\n",
            flush=True,
        )
        rows.append(
            (
                kind,
                *(model.scores[m]["rel_rmse"] for m in GOAL_METRICS),
                *(sim_s / batch_s[n] for n in BATCHES),
                sim_s / single_s,
            )
        )

    print(
        "summary (goal: relative RMSE <= 1% on latency and power, >= 1,000x faster than the simulator;\n"
        "         relative RMSE = held-out RMSE / mean |y|)"
    )
    print(
        f"  {'model':<6} {'latency rel RMSE':>17} {'power rel RMSE':>15} "
        + " ".join(f"{f'speed-up (batch {n:,})':>24}" for n in BATCHES)
        + f" {'speed-up (single)':>18}"
    )
    for kind, lat, pw, *speed in rows:
        print(
            f"  {kind:<6} {100 * lat:>16.3f}% {100 * pw:>14.3f}% "
            + " ".join(f"{x:>23,.0f}x" for x in speed[:-1])
            + f" {speed[-1]:>17,.0f}x"
        )


def _matches_simulator(df, base, n: int = 8) -> bool:
    """Whether ``n`` of the dataset's designs, re-simulated now, give the logged metrics (the simulator is deterministic)."""
    from archgym.proxy import training_table

    table = training_table(df)
    rows = np.linspace(0, len(table.designs) - 1, n).astype(int)
    designs = [dict(zip(table.designs.columns, table.designs.iloc[i])) for i in rows]
    now = base.simulator.evaluate_many(designs, base.workload)
    logged = table.targets.iloc[rows].to_dict("records")
    return all(np.isclose(m[k], r[k], rtol=1e-9, atol=0) for m, r in zip(now, logged) for k in r)


if __name__ == "__main__":
    main()
