"""Design samplers: streams of designs drawn from a design space, and an agent that proposes them.

* ``random`` — uniform over the design space (each parameter uniform over its values);
* ``sobol`` — a scrambled Sobol sequence in the unit cube, decoded by the design space
  (spreads designs more evenly than random for the same N);
* ``replay`` — the designs of existing datasets (e.g. agent runs' logs), in order.

:func:`design_stream` is the sampler itself; :class:`DesignPicker` draws from a stream without
repeats; :class:`SamplerAgent` is a sampler as an :class:`~archgym.agent.Agent` (what
``archgym generate`` runs). The proxy-in-the-loop agent draws its warm-up designs here too.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from archgym.agent import Agent, RunResult
from archgym.design_space import DesignSpace, design_key
from archgym.env import unwrap
from archgym.errors import ConfigError
from archgym.evaluation import Evaluation

SAMPLERS = ("random", "sobol", "replay")


def design_stream(
    space: DesignSpace, sampler: str, seed: int = 0, source: Sequence[str] = (), batch: int = 256
) -> Iterator[dict[str, Any]]:
    """An endless (``random``, ``sobol``) or finite (``replay``) stream of designs."""
    if sampler == "random":
        rng = np.random.default_rng(seed)
        while True:
            for u in rng.random((batch, len(space))):
                yield space.from_unit(u)
    elif sampler == "sobol":
        import torch

        engine = torch.quasirandom.SobolEngine(len(space), scramble=True, seed=seed)
        while True:
            for u in engine.draw(batch, dtype=torch.float64).numpy():
                yield space.from_unit(u)
    elif sampler == "replay":
        if not source:
            raise ConfigError("the replay sampler needs --from DATASET (run/sweep directories or shards)")
        from archgym.dataset import load_dataset
        from archgym.logger import PARAM_PREFIX

        df = load_dataset(*source)
        cols = [PARAM_PREFIX + n for n in space.names]
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ConfigError(
                f"the datasets under {', '.join(source)} lack column(s) {', '.join(missing)} of this env"
            )
        for row in df[cols].dropna().itertuples(index=False):
            yield space.validate(dict(zip(space.names, row)))
    else:
        raise ConfigError(f"unknown sampler {sampler!r}; allowed: {', '.join(SAMPLERS)}")


class DesignPicker:
    """Draws designs from a stream, skipping repeats when ``unique``, with a cap on draws."""

    def __init__(self, stream: Iterator[dict[str, Any]], unique: bool, max_draws: int) -> None:
        self.stream, self.unique, self.max_draws = stream, unique, max_draws
        self.seen: set[tuple] = set()
        self.draws = 0
        self.exhausted = False

    def take(self, k: int) -> list[dict[str, Any]]:
        """Up to ``k`` new designs; fewer (and ``exhausted``) when the stream or the cap runs out."""
        batch: list[dict[str, Any]] = []
        while len(batch) < k:
            design = next(self.stream, None)
            self.draws += 1
            if design is None or self.draws > self.max_draws:
                self.exhausted = True
                break
            key = design_key(design)
            if self.unique and key in self.seen:
                continue
            self.seen.add(key)
            batch.append(design)
        return batch


class SamplerAgent(Agent):
    """Proposes the designs of a sampler (see module doc) instead of searching.

    It learns nothing from evaluations; the run stops at the budget or when the sampler
    runs out of new designs (:attr:`exhausted`).
    """

    name = "generate"

    def __init__(
        self,
        space: DesignSpace,
        seed: int = 0,
        sampler: str = "random",
        source: Sequence[str] = (),
        unique: bool = True,
        batch_size: int = 32,
        max_draws: int = 1_000_000,
    ) -> None:
        super().__init__(space, seed)
        if sampler not in SAMPLERS:
            raise ConfigError(f"unknown sampler {sampler!r}; allowed: {', '.join(SAMPLERS)}")
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        if sampler == "replay" and not source:
            raise ConfigError("the replay sampler needs --from DATASET (run/sweep directories or shards)")
        self.sampler, self.source, self.unique, self.batch_size = sampler, list(source), unique, batch_size
        stream = design_stream(space, sampler, seed, self.source)
        first = next(stream, None)  # reading a replayed dataset fails here, before the run starts
        self._picker = DesignPicker(
            itertools.chain([] if first is None else [first], stream), unique, max_draws
        )

    @property
    def exhausted(self) -> bool:
        return self._picker.exhausted

    def hyperparameters(self) -> dict[str, Any]:
        return {"sampler": self.sampler, "source": self.source, "unique": self.unique}

    def ask(self) -> list[dict[str, Any]]:
        return self._picker.take(self.batch_size)

    def tell(self, designs: Sequence[dict[str, Any]], evaluations: Sequence[Evaluation]) -> None:
        pass

    def run(self, env: Any, budget: int, *, stop_on_success: bool = False) -> RunResult:
        """Evaluate sampled designs until ``budget`` or until the sampler runs out."""
        result = RunResult()
        base = unwrap(env)
        base.add_recorder(result.observe)
        start = time.perf_counter()
        try:
            while result.evaluations < budget and not self.exhausted:
                designs = self._picker.take(min(self.batch_size, budget - result.evaluations))
                if designs:
                    base.evaluate(designs)
        finally:
            base.remove_recorder(result.observe)
            result.wall_time_s = time.perf_counter() - start
        return result
