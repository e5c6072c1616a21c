"""``archgym proxy train|eval|info``: the proxy workflow from the command line."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from archgym.proxy.core import (
    ProxyDataError,
    ProxyModel,
    format_scores,
    score,
    train_proxy,
    training_table,
)
from archgym.proxy.models import MODELS


def _parse_params(items: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"archgym proxy: error: --param expects KEY=VALUE, got {item!r}")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def load_any(paths: Sequence[str]):
    """One DataFrame from run/sweep directories and shards, or from one merged export file."""
    from archgym.dataset import load_dataset
    from archgym.merge import load_export

    first = Path(paths[0])
    if (
        len(paths) == 1
        and first.is_file()
        and first.suffix in (".csv", ".parquet")
        and not first.name.startswith("part-")
    ):
        return load_export(first)
    return load_dataset(*paths)


#: below this many unique designs a proxy's held-out scores say little (a warning is printed)
MIN_DESIGNS = 200


def small_data_warning(n_designs: int, test_fraction: float) -> str | None:
    """The warning ``proxy train`` prints when ``n_designs`` is too few to train and score on."""
    if n_designs >= MIN_DESIGNS:
        return None
    held_out = max(1, int(round(n_designs * test_fraction)))
    return (
        f"only {n_designs} unique designs ({n_designs - held_out} to train, {held_out} held out): "
        f"scores on {held_out} designs have wide confidence intervals (printed below); "
        f"aim for {MIN_DESIGNS} or more (archgym generate -n 1000 ...)"
    )


def rank_interval(value: float, n: int, kind: str, z: float = 1.96) -> tuple[float, float]:
    """Approximate 95 % confidence interval of a Spearman or Kendall correlation over ``n`` pairs.

    Fisher's z transform with the standard errors of Fieller, Hartley & Pearson (1957):
    ``sqrt(1.06 / (n - 3))`` for Spearman, ``sqrt(0.437 / (n - 4))`` for Kendall. NaN for too few pairs.
    """
    var = 1.06 / (n - 3) if kind == "spearman" else 0.437 / (n - 4)
    if n <= (3 if kind == "spearman" else 4) or not math.isfinite(value):
        return math.nan, math.nan
    centre = math.atanh(max(min(value, 0.999999), -0.999999))
    half = z * math.sqrt(var)
    return math.tanh(centre - half), math.tanh(centre + half)


def rank_intervals(scores: Mapping[str, Mapping[str, float]]) -> str:
    """One line per metric: the 95 % intervals of its Spearman and Kendall scores."""
    lines = ["  95 % confidence intervals of the rank correlations (Fisher z; n = designs scored):"]
    for name, s in scores.items():
        n = int(s["n"])
        sp, kd = rank_interval(s["spearman"], n, "spearman"), rank_interval(s["kendall"], n, "kendall")
        lines.append(
            f"  {name:<28} Spearman [{sp[0]:.3f}, {sp[1]:.3f}]  Kendall [{kd[0]:.3f}, {kd[1]:.3f}]  n={n}"
        )
    return "\n".join(lines)


def eval_workload(model: ProxyModel, df: Any, workload: str | None, allow_mismatch: bool) -> str:
    """The workload to score ``model`` on: the proxy's own unless a mismatch is allowed explicitly.

    Raises:
        ProxyDataError: the data's env differs from the proxy's, or it lacks the proxy's workload
            (and ``allow_mismatch`` is off), naming the workloads it has.
    """
    envs = sorted(set(df["env_id"].astype(str))) if "env_id" in df else []
    if envs and model.env_id not in envs:
        raise ProxyDataError(f"the proxy models {model.env_id}; the data holds {', '.join(envs)}")
    have = sorted(set(df.loc[df["env_id"] == model.env_id, "workload"].astype(str))) if envs else []
    wanted = workload or (model.workload if model.workload in have or len(have) != 1 else have[0])
    if wanted != model.workload and not allow_mismatch:
        raise ProxyDataError(
            f"the proxy was trained on workload {model.workload!r}, the data holds {', '.join(map(repr, have))}: "
            "its scores there would measure the workload mismatch, not the proxy; score it on data of "
            f"{model.workload!r}, or pass --allow-workload-mismatch"
        )
    if have and wanted not in have:
        raise ProxyDataError(
            f"the data holds no rows of workload {wanted!r} (it holds {', '.join(map(repr, have))})"
        )
    return wanted


def _table(paths: Sequence[str], workload: str | None, metrics: str | None, version: str | None):
    return training_table(load_any(paths), workload, metrics.split(",") if metrics else None, version)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="archgym proxy",
        description="Proxy cost models: learn every metric of a simulator from a dataset of evaluated "
        "designs, report held-out accuracy, and save a file that runs as a simulator "
        "(archgym run env=... env.simulator=proxy env.simulator.path=FILE).",
    )
    sub = parser.add_subparsers(dest="action", required=True, metavar="{train,eval,info}")
    t = sub.add_parser(
        "train",
        help="train a proxy on a dataset and save it",
        description="Train a proxy on the unique, successful designs of one env/workload/simulator "
        "version; score it on a held-out split (RMSE, relative RMSE = RMSE / mean |y|, MAPE, "
        "Spearman and Kendall rank correlation) and save it.",
    )
    t.add_argument(
        "data", nargs="+", help="run/sweep directories, shard files, or one merged .parquet/.csv export"
    )
    t.add_argument(
        "-m",
        "--model",
        default="mlp",
        choices=sorted(MODELS),
        help="mlp | gbt | rf | gp (default mlp: the most accurate and fastest on the DRAM benchmark)",
    )
    t.add_argument(
        "-o",
        "--out",
        required=True,
        help="proxy file to write, e.g. proxies/dram-gbt.agproxy (a zip of JSON, safetensors, model texts)",
    )
    t.add_argument("--workload", help="workload to train on, when the dataset holds several")
    t.add_argument(
        "--simulator-version", help="simulator version to train on, when the dataset holds several"
    )
    t.add_argument(
        "--metrics", help="comma-separated metrics (default all; a proxy used as a simulator needs all)"
    )
    t.add_argument(
        "--test-fraction", type=float, default=0.2, help="held-out share of the designs (default 0.2)"
    )
    t.add_argument("--seed", type=int, default=0, help="seed of the split and the model (default 0)")
    t.add_argument(
        "--refit-all", action="store_true", help="after scoring, refit on every design before saving"
    )
    t.add_argument(
        "--raw-targets",
        action="store_true",
        help="fit metrics as they are instead of their logs (better for a metric spanning decades whose "
        "absolute error matters)",
    )
    t.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="model hyperparameter, e.g. --param n_estimators=500 (see archgym.proxy.models)",
    )
    e = sub.add_parser(
        "eval",
        help="score a saved proxy on a dataset",
        description="Predict every design of a dataset with a saved proxy and print per-metric accuracy.",
    )
    e.add_argument("proxy", help="proxy file")
    e.add_argument("data", nargs="+", help="run/sweep directories, shard files, or one merged export")
    e.add_argument("--workload", help="workload to score on (default: the proxy's)")
    e.add_argument(
        "--allow-workload-mismatch",
        action="store_true",
        help="score on a workload the proxy was not trained on (its errors then measure the mismatch)",
    )
    i = sub.add_parser("info", help="print a proxy file's provenance and held-out scores")
    i.add_argument("proxy", help="proxy file")
    args = parser.parse_args(list(argv))

    if args.action == "train":
        table = _table(args.data, args.workload, args.metrics, args.simulator_version)
        print(
            f"training {args.model} on {len(table.designs)} unique designs of {table.env_id} "
            f"[{table.workload}] ({table.simulator_version})"
        )
        small = small_data_warning(len(table.designs), args.test_fraction)
        if small:
            print(f"archgym proxy: warning: {small}", file=sys.stderr)
        model = train_proxy(
            table,
            args.model,
            test_fraction=args.test_fraction,
            seed=args.seed,
            progress=True,
            refit_all=args.refit_all,
            log_targets=not args.raw_targets,
            **_parse_params(args.param),
        )
        path = model.save(args.out)
        print(
            format_scores(
                model.scores,
                f"held-out scores ({args.test_fraction:.0%} of designs), "
                f"trained in {model.train_time_s:.1f} s:",
            )
        )
        print(rank_intervals(model.scores))
        print(f"saved {path}")
    elif args.action == "eval":
        model = ProxyModel.load(args.proxy)
        df = load_any(args.data)
        workload = eval_workload(model, df, args.workload, args.allow_workload_mismatch)
        try:
            table = training_table(df, workload, model.metric_names, None)
        except ProxyDataError as exc:
            raise ProxyDataError(f"nothing to score {args.proxy} on: {exc}") from None
        scores = score(
            table.targets[model.metric_names].to_numpy(), model.predict(table.designs), model.metric_names
        )
        if workload != model.workload:
            print(
                f"archgym proxy: warning: scoring a proxy of workload {model.workload!r} on {workload!r}: "
                "the errors below measure the workload mismatch as much as the proxy",
                file=sys.stderr,
            )
        print(
            format_scores(
                scores, f"{args.proxy} on {len(table.designs)} designs of {table.env_id} [{table.workload}]:"
            )
        )
        print(rank_intervals(scores))
    else:
        model = ProxyModel.load(args.proxy)
        print(
            f"{args.proxy}: {model.kind} proxy of {model.env_id} [{model.workload}] "
            f"({model.simulator_version}), trained on {model.n_train} designs at {model.created}; "
            f"source proxy:{model.kind}:{model.digest}"
        )
        print("  provenance: " + json.dumps(model.provenance, sort_keys=True))
        print("  parameters: " + ", ".join(model.param_names))
        print(format_scores(model.scores, "held-out scores:"))
    return 0
