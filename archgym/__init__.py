"""archgym: a gym for machine-learning-assisted computer-architecture design.

Data flows one way: config -> env (design space + simulator + objective) -> agent ->
logger -> dataset -> proxy/report. The core pieces live one per module:

* :mod:`archgym.design_space` — parameters and encodings
* :mod:`archgym.simulator` — the simulator protocol
* :mod:`archgym.objective` — target specs, weighted sums, constraints
* :mod:`archgym.evaluation` — evaluate/cache/record one batch of designs
* :mod:`archgym.env` — the gymnasium environment base
* :mod:`archgym.agent` — the agent interface
* :mod:`archgym.logger` / :mod:`archgym.dataset` — Parquet datasets
* :mod:`archgym.registry` — env ids and agent names (open to other packages: entry points)
* :mod:`archgym.runner` / :mod:`archgym.cli` — the ``archgym`` command
"""

from importlib.metadata import PackageNotFoundError, version

from archgym.registry import register_envs

try:  # the version is written once, in pyproject.toml
    __version__ = version("archgym")
except PackageNotFoundError:  # pragma: no cover - imported from a source tree that was never installed
    __version__ = "0+unknown"

register_envs()
