"""The offline plots page in a real browser with every network request blocked: what gets drawn.

In a temporary clone: `dvc repro`, commit, then `dvc exp run -S dropout=0.5`, then
`python -m dlpipe.report.plots_page --rev HEAD`, and open the page in headless Chromium (Playwright).
"""

from __future__ import annotations

import csv
import importlib.util
import operator
import re
import sys
from collections import defaultdict
from functools import reduce
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import DROPOUT_05, shares_experiment

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} missing (Debian: apt-get install -y chromium chromium-driver)"
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="playwright missing: install the dev extra (the README's test command does)",
    ),
]

# Everything the browser saw of each chart, in one round trip.
COLLECT = """() => [...document.querySelectorAll(".chart")].map((chart) => ({
  heading: chart.parentElement.querySelector("h2").textContent,
  svgs: chart.querySelectorAll("svg.marks").length,  // the chart; the actions button is an svg too
  lines: [...chart.querySelectorAll("svg.marks g.mark-line path")].map((path) => ({
    layer: path.parentElement.getAttribute("class"),
    stroke: path.getAttribute("stroke"),
    d: path.getAttribute("d") || "",
  })),
  // The chart's title; the titles of its panels (one per run) are its column headers.
  title: [...chart.querySelectorAll("g.role-title-text text")]
    .filter((t) => !t.closest("g.role-column-header")).map((t) => t.textContent),
  headers: [...chart.querySelectorAll("g.role-column-header g.role-title-text text")].map((t) => t.textContent),
  axisTitles: [...chart.querySelectorAll("g.role-axis-title text")].map((t) => t.textContent),
  legend: [...chart.querySelectorAll("g.role-legend-label text")].map((t) => t.textContent),
}))"""


def top_level_plots(repo: Path) -> dict[str, dict]:
    """Plot id -> definition, from the clone's dvc.yaml."""
    entries = yaml.safe_load((repo / "dvc.yaml").read_text())["plots"]
    return {plot_id: definition for entry in entries for plot_id, definition in entry.items()}


def runs_with_data(repo: Path, definition: dict) -> list[str]:
    """The runs of a plot whose CSV has rows (a run that diverged at once has none)."""
    runs = []
    for path in definition["y"]:
        with (repo / path).open() as f:
            if list(csv.DictReader(f)):
                runs.append(Path(path).stem)
    return runs


def interpolate(text: str, params: dict) -> str:
    """What DVC makes of ``${section.key}`` in dvc.yaml: the value in params.yaml."""
    return re.sub(r"\$\{([^}]+)\}", lambda m: str(reduce(operator.getitem, m.group(1).split("."), params)), text)


def open_offline(page_file: Path, screenshot: Path) -> tuple[str, str, list[dict], list[str], list[str]]:
    """Open the page with the network cut off; return title, heading, charts, blocked requests, console problems."""
    from playwright.sync_api import ConsoleMessage, Route, sync_playwright

    blocked: list[str] = []
    problems: list[str] = []

    def only_files(route: Route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    def note(message: ConsoleMessage) -> None:
        # Errors, and the warning vega-embed gives for a spec older than its Vega-Lite (DVC's are v5).
        if message.type == "error" or "Vega-Lite v5" in message.text:
            problems.append(f"{message.type}: {message.text}")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 900})
            context.set_offline(True)
            context.route("**/*", only_files)
            page = context.new_page()
            page.on("console", note)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(page_file.as_uri())
            page.wait_for_selector("body[data-rendered]", timeout=60_000)
            assert page.get_attribute("body", "data-rendered") == "ok", page.inner_text("body")[:500]
            charts = page.evaluate(COLLECT)
            page.screenshot(path=str(screenshot), full_page=True)
            return page.title(), page.inner_text("h1"), charts, blocked, problems
        finally:
            browser.close()


@shares_experiment(DROPOUT_05)
def test_offline_page_draws_both_revisions_of_each_top_level_plot(experiment, tmp_path: Path):
    # HEAD is the built pipeline (dropout 0.3); the work tree holds the dropout=0.5 experiment's results.
    clone = experiment(DROPOUT_05).clone  # only read: the pages are written outside it
    head = clone.run("git", "rev-parse", "--short", "HEAD").stdout.strip()

    out = tmp_path / "offline"
    clone.run(sys.executable, "-m", "dlpipe.report.plots_page", "--rev", "HEAD", "--out", str(out))
    bad = clone.run(
        sys.executable,
        "-m",
        "dlpipe.report.plots_page",
        "--rev",
        "no-such-rev",
        "--out",
        str(tmp_path / "bad"),
        check=False,
    )
    assert bad.returncode == 1 and bad.stdout.splitlines() == [
        "plots_page: error: `dvc plots diff no-such-rev --json` failed: unknown Git revision 'no-such-rev'"
    ]
    assert not (tmp_path / "bad").exists()

    screenshot = tmp_path / "offline_page.png"
    title, heading, charts, blocked, problems = open_offline(out / "index.html", screenshot)
    print(f"\nscreenshot of the offline page: {screenshot}")

    assert blocked == [] and problems == []
    assert title == heading == f"Loss curves: workspace vs HEAD ({head})"
    plots = top_level_plots(clone.path)
    assert [c["heading"] for c in charts] == list(plots)  # the top-level plots only, in dvc.yaml order
    params = clone.params()
    for chart, (plot_id, definition) in zip(charts, plots.items(), strict=True):
        runs = runs_with_data(clone.path, definition)
        assert chart["svgs"] == 1
        assert chart["title"] == [definition["title"]]
        # One panel per run (template .dvc/plots/loss_curves.json), each with its epoch axis; the loss
        # named as params.yaml sets it.
        assert chart["headers"] == sorted(runs), plot_id
        y_label = interpolate(definition["y_label"], params)
        assert sorted(chart["axisTitles"]) == sorted([definition["x_label"]] * len(runs) + [y_label]), plot_id
        assert chart["legend"] == ["workspace", "HEAD", "train", "validation"]
        # One line per revision, run and train/validation: two colours (revisions), each line drawn once.
        assert len(chart["lines"]) == 2 * 2 * len(runs), plot_id
        assert all(line["d"].startswith("M") and "NaN" not in line["d"] for line in chart["lines"])
        drawn: dict[str, set[str]] = defaultdict(set)
        for line in chart["lines"]:
            drawn[line["stroke"]].add(line["d"])
        assert len(drawn) == 2
        workspace, committed = drawn.values()
        # The changed `dropout` shows in its own chart and nowhere else.
        assert (workspace != committed) == (plot_id == "dropout_loss"), plot_id

    assert screenshot.stat().st_size > 10_000
