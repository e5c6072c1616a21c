"""Print a suite run's score anchors as the ``suite.reference`` block of ``conf/suite/<suite>.yaml``.

Per task: random search's median best reward at the budget (score 0), the best reward any run
of any agent reached (score 1), the objective's hash (a reference is used only for runs of the
same objective) and how many runs it pools. Run it on the suite's full run and paste the block
into the suite's file; runs do not depend on it (the suite block is not in their fingerprint).

    python benchmarks/suite_reference.py /work/ref/h24/suite_small --suite small
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import yaml

from archgym.report import load_sweep
from archgym.scores import run_scores
from archgym.suite import Suite


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sweep_dir", help="the suite's sweep directory")
    ap.add_argument("--suite", required=True, help="suite name (its recorded references are ignored here)")
    args = ap.parse_args(argv)
    data = load_sweep(args.sweep_dir)
    scored, refs = run_scores(data.runs, suite=Suite(args.suite, {}))  # anchors from these runs only
    runs = scored.groupby("task").size()
    block = {
        str(r.task): {
            "random_median": round(float(r.random_median), 6),
            "best": round(float(r.best), 6),
            "objective_hash": str(r.objective_hash),
            "runs": int(runs[r.task]),
        }
        for r in refs.itertuples(index=False)
    }
    print(yaml.safe_dump({"reference": block}, sort_keys=True, default_flow_style=None))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
