"""``archgym agents``: list the agents and their hyperparameters."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Sequence

from archgym.registry import agent_class, agent_entry_points


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="archgym agents",
        description="List the search agents (agent=NAME for `archgym run`), one line of description "
        "each, and their hyperparameters with defaults (set with agent.params.KEY=VALUE).",
    )
    parser.parse_args(list(argv))
    for name in sorted(agent_entry_points()):
        try:
            cls = agent_class(name)
        except ImportError as exc:
            print(f"{name}: unavailable ({exc})")
            continue
        sig = inspect.signature(cls)
        params = [
            f"{p}={v.default!r}" for p, v in sig.parameters.items() if p not in ("self", "space", "seed")
        ]
        doc = (inspect.getdoc(cls) or "").splitlines()[0]
        print(f"agent={name:<8} {doc}\n    {', '.join(params)}")
    return 0
