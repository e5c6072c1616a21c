"""benchmarks/suite_cost.py: a timed prefix is extrapolated at its tail's pace, and a real run is timed."""

import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "suite_cost", Path(__file__).parents[1] / "benchmarks" / "suite_cost.py"
)
cost = importlib.util.module_from_spec(_spec)
sys.modules["suite_cost"] = cost  # its dataclass looks its module up
_spec.loader.exec_module(cost)


def test_a_full_run_is_not_extrapolated():
    stamps = [1.0, 2.0, 3.0, 4.0]
    assert cost._extrapolate(0.0, stamps, 4.5, budget=4) == 4.5


def test_a_prefix_is_extrapolated_at_the_pace_of_its_last_quarter():
    # 8 evaluations: the first four 1 s apart, the last four 3 s apart (a growing model)
    stamps = [1.0, 2.0, 3.0, 4.0, 7.0, 10.0, 13.0, 16.0]
    # the last quarter (2 evaluations) took 3 s each: 12 more evaluations add 36 s
    assert cost._extrapolate(0.0, stamps, 16.0, budget=20) == pytest.approx(16.0 + 12 * 3.0)


def test_layout_charges_unmeasured_agents_and_bounds_by_the_longest_run(capsys):
    costs = [
        cost.Cost("t", "random", 10, 10, 1.0, 9.0),
        cost.Cost("t", "bo", 10, 4, 1.0, 99.0),
    ]
    cost.print_layout(costs, {"t": {"random": 10, "ga": 10, "bo": 10}}, "random", startup=0.0)
    out = capsys.readouterr().out
    # random and ga: 10 s per run x 20 runs; bo: 100 s x 10 runs -> 1,200 s = 0.33 core-hours
    assert "| t | 30 | 0.33 | 100 |" in out
    assert "| 128 | 0.03 |" in out  # 1,200 s / 128 workers is less than bo's 100 s run


def test_one_suite_task_is_timed_as_the_suite_builds_it():
    c = cost.time_run("small", "llm_serving", "random", prefix=5)
    assert (c.task, c.agent, c.budget, c.evaluations) == ("llm_serving", "random", 48, 5)
    assert c.extrapolated and c.search_s > 0 and c.build_s > 0


def test_the_suites_agent_params_reach_the_timed_agent():
    assert cost.run_config("small", "llm_serving", "bo").agent_params["num_restarts"] == 2
    assert cost.run_config("standard", "llm_serving", "bo").agent_params["num_restarts"] != 2
