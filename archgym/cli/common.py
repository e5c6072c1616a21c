"""Helpers shared by the subcommands: one-line errors and the shipped config groups."""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Sequence
from importlib import resources
from typing import Any

from archgym.errors import ConfigError


def error(message: object) -> int:
    """Print ``archgym: error: MESSAGE`` (one line) on stderr; return the exit status 2."""
    print(f"archgym: error: {message}", file=sys.stderr)
    return 2


def plain_warnings() -> None:
    """Show warnings as ``archgym: warning: ...`` lines instead of Python's file:line format."""

    def _format(message: Any, category: Any, filename: str, lineno: int, line: str | None = None) -> str:
        return f"archgym: warning: {message}\n"

    warnings.formatwarning = _format


def config_options(group: str) -> list[str]:
    """Names of the configs shipped in a config group (``env``, ``agent``, ``logger``)."""
    folder = resources.files("archgym.conf").joinpath(group)
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def check_group_overrides(args: Sequence[str]) -> None:
    """Reject ``env=X`` / ``agent=X`` naming a config that does not exist, in one line."""
    for arg in args:
        if arg.startswith("-") or "=" not in arg:
            continue
        key, _, value = arg.partition("=")
        key = key.lstrip("+~")
        if key not in ("env", "agent", "logger", "simulator"):
            continue
        allowed = config_options(key)
        for choice in value.split(","):
            if choice and choice not in allowed:
                raise ConfigError(f"{key}: unknown {key} {choice!r}; allowed: {', '.join(allowed)}")


def parse_key_values(items: Sequence[str], option: str = "--env-arg", nested: bool = True) -> dict[str, Any]:
    """``KEY=VALUE`` command-line items -> a mapping (values as JSON when they parse, else
    strings; with ``nested``, dotted keys nest: ``a.b=1`` -> ``{"a": {"b": 1}}``).

    Raises:
        ConfigError: an item without ``=`` or a key, naming ``option``.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"{option}: expected KEY=VALUE, got {item!r}")
        parsed: Any
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = value
        node = out
        *parents, leaf = key.split(".") if nested else [key]
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = parsed
    return out


__all__ = [
    "check_group_overrides",
    "config_options",
    "error",
    "parse_key_values",
    "plain_warnings",
]
