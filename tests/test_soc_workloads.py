"""SoC workloads: the transcribed FARSI figures load, and bad files fail naming file, line and problem."""

import pytest

from archgym.envs.soc import WorkloadFormatError, load_workload, read_task_graph, standard_workloads

HEADER = "name: t\nbudgets: {latency_ms: 10}\n"


def _write(tmp_path, body, name="w.yaml"):
    p = tmp_path / name
    p.write_text(HEADER + body)
    return p


def test_standard_workloads_hold_farsis_figures():
    assert set(standard_workloads()) >= {"audio_decoder", "edge_detection", "hpvm_cava", "ar_vr_soc"}
    g = load_workload("audio_decoder")
    t = {x.name: x for x in g.tasks}["psychoFilter_fxp_cloned"]
    # audio_decoder_database - Task PE Performance / Energy / Area.csv (A53, IP0)
    assert (t.gpp_cycles, t.ip_cycles, t.ip_energy_fj, t.ip_area_um2) == (1322969, 38005, 142.002, 78814)
    assert {x.name: x for x in g.tasks}["FIR_left_fxp_cloned"].iterations == 16400  # Task Itr Count.csv
    assert g.budgets == {"latency_ms": 21.0, "power_mw": 3.097, "area_mm2": 6.195}
    assert len(g.working_tasks) == 15 and len(g.edges) == 23
    # tasks are in topological order: every producer precedes its consumers
    assert all(g.index[e.producer] < g.index[e.consumer] for e in g.edges)
    cava = load_workload("hpvm_cava")
    assert sum(e.bytes for e in cava.edges) == 2 * 91053 + 6 * 364212


def test_composite_keeps_each_parts_deadline_and_the_shared_budgets():
    g = load_workload("ar_vr_soc")
    parts = {k: v[0] for k, v in g.deadlines_ms.items()}
    assert parts == {"audio_decoder": 21.0, "edge_detection": 34.0, "hpvm_cava": 34.0}
    assert g.budgets == {"power_mw": 8.737, "area_mm2": 17.475, "latency_ms": 34.0}
    n = sum(len(load_workload(w).tasks) for w in ("audio_decoder", "edge_detection", "hpvm_cava"))
    assert len(g.tasks) == n and "audio_decoder/souurce" in g.index


def test_user_task_graph_round_trip(tmp_path):
    p = _write(
        tmp_path, "tasks:\n  - [src, 0, ~, ~, ~, 1]\n  - [f, 100, 10, 1.5, 20, 4]\nedges:\n  - [src, f, 64]\n"
    )
    g = read_task_graph(p)
    assert [t.name for t in g.tasks] == ["src", "f"] and g.tasks[1].has_ip and g.tasks[0].is_pseudo
    assert load_workload(str(p)).edges[0].bytes == 64


@pytest.mark.parametrize(
    "body, line, message",
    [
        ("tasks:\n  - [a, 1, ~, ~, ~, 1]\n  - [b, -5, ~, ~, ~, 1]\n", 5, "gpp_cycles must be >= 0"),
        ("tasks:\n  - [a, 1, ~, ~]\n", 4, "a task row has 6 columns"),
        ("tasks:\n  - [a, 1, 5, ~, 3, 1]\n", 4, "all given or all ~"),
        ("tasks:\n  - [a, 1, ~, ~, ~, 0]\n", 4, "iterations must be an integer >= 1"),
        ("tasks:\n  - [a, x, ~, ~, ~, 1]\n", 4, "gpp_cycles must be a number, got 'x'"),
        ("tasks:\n  - [a, 1, ~, ~, ~, 1]\n  - [a, 2, ~, ~, ~, 1]\n", 5, "defined twice (first on line 4)"),
        ("tasks:\n  - [a, 1, ~, ~, ~, 1]\nedges:\n  - [a, zz, 4]\n", 6, "edge consumer 'zz' is not a task"),
        ("tasks:\n  - [a, 1, ~, ~, ~, 1]\nedges:\n  - [a, a, 4]\n", 6, "self-edge"),
        (
            "tasks:\n  - [a, 1, ~, ~, ~, 1]\n  - [b, 1, ~, ~, ~, 1]\nedges:\n  - [a, b, 1]\n  - [b, a, 1]\n",
            4,
            "cycle through task(s) a, b",
        ),
    ],
)
def test_bad_rows_name_file_line_and_problem(tmp_path, body, line, message):
    p = _write(tmp_path, body)
    with pytest.raises(WorkloadFormatError) as err:
        read_task_graph(p)
    assert str(p) in str(err.value) and f"line {line}" in str(err.value) and message in str(err.value)


def test_missing_budget_unknown_name_and_bad_yaml(tmp_path):
    p = tmp_path / "nob.yaml"
    p.write_text("name: t\ntasks:\n  - [a, 1, ~, ~, ~, 1]\n")
    with pytest.raises(WorkloadFormatError, match="missing budget"):
        read_task_graph(p)
    with pytest.raises(WorkloadFormatError, match="not one of .*audio_decoder"):
        load_workload("no_such_workload")
    q = tmp_path / "bad.yaml"
    q.write_text("name: t\ntasks: [\n")
    with pytest.raises(WorkloadFormatError, match="not valid YAML"):
        read_task_graph(q)
