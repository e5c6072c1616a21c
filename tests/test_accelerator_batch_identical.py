"""A design's accelerator metrics do not depend on which designs share its batch (bit for bit),
so ``evaluator.workers=N`` (batches split across workers) logs the same dataset as one worker."""

import numpy as np
import pytest

from archgym.registry import make_env


@pytest.mark.parametrize("model", ["hierarchy", pytest.param("template", marks=pytest.mark.slow)])
def test_metrics_are_bit_identical_whatever_the_batch(model):
    kwargs = {"workload": "alexnet"} if model == "hierarchy" else {"workload": "alexnet", "simulator": model}
    base = make_env("archgym/Accelerator-v0", **kwargs).unwrapped
    sim, workload = base.simulator, base.evaluator.workload
    rng = np.random.default_rng(7)
    designs = [base.space.sample(rng) for _ in range(24)]
    whole = sim.evaluate_many(designs, workload)
    chunks, start = [], 0
    for size in (1, 2, 5, 1, 7, 8):  # batch compositions a worker pool can produce
        chunks += sim.evaluate_many(designs[start : start + size], workload)
        start += size
    reversed_batch = sim.evaluate_many(designs[::-1], workload)[::-1]
    for a, b, c in zip(whole, chunks, reversed_batch):
        for m in a:
            bits = np.array([a[m], b[m], c[m]], dtype=np.float64).view(np.int64)
            assert (bits == bits[0]).all() or np.isnan([a[m], b[m], c[m]]).all(), m
