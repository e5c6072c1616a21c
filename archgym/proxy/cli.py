"""``archgym proxy train|eval|info``: the proxy workflow from the command line."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from archgym.proxy.core import ProxyModel, format_scores, score, train_proxy, training_table
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
    i = sub.add_parser("info", help="print a proxy file's provenance and held-out scores")
    i.add_argument("proxy", help="proxy file")
    args = parser.parse_args(list(argv))

    if args.action == "train":
        table = _table(args.data, args.workload, args.metrics, args.simulator_version)
        print(
            f"training {args.model} on {len(table.designs)} unique designs of {table.env_id} "
            f"[{table.workload}] ({table.simulator_version})"
        )
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
        print(f"saved {path}")
    elif args.action == "eval":
        model = ProxyModel.load(args.proxy)
        table = _table(args.data, args.workload or model.workload, ",".join(model.metric_names), None)
        scores = score(
            table.targets[model.metric_names].to_numpy(), model.predict(table.designs), model.metric_names
        )
        print(
            format_scores(
                scores, f"{args.proxy} on {len(table.designs)} designs of {table.env_id} [{table.workload}]:"
            )
        )
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
