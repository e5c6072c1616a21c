"""Package namespaces that import their submodules on first use (PEP 562).

An env package re-exports its public names for convenience, but importing all its
submodules up front would load torch or numba just to list the env (``archgym envs``) or to
read its design space. :func:`lazy_exports` gives the package a module ``__getattr__`` that
imports the submodule holding a name the first time the name is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``(__getattr__, __dir__, __all__)`` for ``package``, whose ``exports`` map a relative
    submodule (``".simulator"``) to the names it provides."""
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module, package), name)

    def __dir__() -> list[str]:
        return sorted(where)

    return __getattr__, __dir__, sorted(where)
