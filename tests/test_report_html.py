"""`archgym report DIR --html`: a self-contained page, checked in a real browser (headless Chromium)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("plotly", reason='plotly not installed (pip install -e ".[suite]")')
pytest.importorskip(
    "rliable", reason="rliable not installed (pip install --no-deps rliable==1.2.0, see Makefile)"
)

from archgym.cli.report import main as report_main
from archgym.report_html import figure_count
from archgym.runner import run_experiment
from archgym.suite import task_config

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AGENTS, SEEDS, TASKS = ("random", "ga"), (0, 1), ("accelerator", "soc")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """A small suite=small sweep (two tasks, two agents, two seeds, 12 evaluations) and its report."""
    sweep = tmp_path_factory.mktemp("suite")
    for task in TASKS:
        for agent in AGENTS:
            for seed in SEEDS:
                cfg = task_config("small", task, [f"agent={agent}", f"seed={seed}", "budget=12"])
                run_experiment(cfg, sweep / f"agent={agent},seed={seed},task={task}")
    assert report_main([str(sweep), "--html"]) == 0
    return sweep / "report"


def test_html_report_files_and_leaderboard(report):
    page = (report / "report.html").read_text()
    assert figure_count(page) >= 7  # leaderboard, profiles, improvement, 2 best-so-far, lottery, 2 Pareto
    # self-contained: plotly.js inline, nothing fetched from the network
    assert not re.search(r"<script[^>]+src=", page) and "Plotly.newPlot" in page
    board = pd.read_csv(report / "leaderboard.csv")
    assert sorted(board["agent"]) == sorted(AGENTS)
    assert (board["runs"] == len(SEEDS)).all() and (board["tasks"] == len(TASKS)).all()
    assert (board["iqm_lo"] <= board["iqm"]).all() and (board["iqm"] <= board["iqm_hi"]).all()
    assert "| rank | agent | IQM score [95 % CI]" in (report / "leaderboard.md").read_text()
    tasks = pd.read_csv(report / "tasks.csv")
    random = tasks[tasks["agent"] == "random"]
    assert (random["median_score"].abs() < 1e-9).all()  # random's median is score 0 by definition


def _browser():
    sync = pytest.importorskip(
        "playwright.sync_api", reason='playwright not installed (pip install -e ".[browser]")'
    )
    if not Path(CHROMIUM).exists():
        pytest.skip("no chromium at /usr/bin/chromium (Debian: `make browser` or apt-get install chromium)")
    return sync.sync_playwright()


def test_html_report_renders_in_chromium_and_hover_shows_a_design(report):
    with _browser() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        errors, requests = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(
            "request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:")) else None
        )
        page.goto((report / "report.html").as_uri())
        page.wait_for_function(
            "() => [...document.querySelectorAll('.plotly-graph-div')].every(d => d.querySelector('.main-svg'))",
            timeout=120_000,
        )
        counts = page.evaluate(
            "() => [...document.querySelectorAll('.plotly-graph-div')].map(d => (d._fullData || []).length)"
        )
        assert len(counts) >= 7 and all(n > 0 for n in counts), counts
        # hover the first design of the accelerator's Pareto explorer with the mouse
        pareto = page.locator(".plotly-graph-div", has_text="Accelerator-v0: feasible designs")
        pareto.scroll_into_view_if_needed()
        point = pareto.evaluate(
            """gd => { const t = gd._fullData[0], xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
                       const r = gd.getBoundingClientRect();
                       return {x: r.left + xa._offset + xa.c2p(t.x[0]), y: r.top + ya._offset + ya.c2p(t.y[0])}; }"""
        )
        page.mouse.move(point["x"] - 25, point["y"] - 25)
        page.mouse.move(point["x"], point["y"], steps=5)
        label = pareto.locator(".hoverlayer .hovertext")
        label.first.wait_for(timeout=10_000)
        text = label.first.text_content() or ""
        browser.close()
    assert "dataflow=" in text and "pe_rows=" in text and "latency_ms=" in text and "run agent=" in text, text
    assert errors == [] and requests == [], (errors, requests)
