"""The README and the docs/ pages: every relative link and anchor leads somewhere, the README stays a front
door, and each generated block sits in the page its generator refreshes."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from dlpipe.report import results_table
from tests.helpers.links import anchors, broken_links, github_anchor, links
from tests.helpers.readme import DOCS, README, activation_command, everyday_commands

ROOT = Path(__file__).resolve().parents[1]
PAGES = [README, *sorted(DOCS.glob("*.md"))]
MARKER = re.compile(r"<!-- ([\w-]+):begin\b")


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Scaling out: a sweep on many machines", "scaling-out-a-sweep-on-many-machines"),
        ("Where a cold `dvc repro` spends its time", "where-a-cold-dvc-repro-spends-its-time"),
        ("The project's environment", "the-projects-environment"),
        ("On CI runners: `.github/workflows/sweep.yml`", "on-ci-runners-githubworkflowssweepyml"),
        ("Review: `main` → `dropout-05`", "review-main--dropout-05"),
        ("See [the guide](x.md) first", "see-the-guide-first"),
        ("snake_case and CAPS", "snake_case-and-caps"),
    ],
)
def test_anchors_follow_githubs_rules(heading, anchor):
    assert github_anchor(heading) == anchor


def test_a_repeated_heading_gets_a_numbered_anchor_and_code_blocks_make_none():
    page = "# Usage\n\n## Usage\n\n```bash\n# not a heading\n```\n"
    assert anchors(page) == {"usage", "usage-1"}


def test_links_in_code_are_not_links():
    page = '[a](a.md) `[b](b.md)`\n\n```\n[c](c.md)\n```\n![d](d.png "title")\n'
    assert links(page) == ["a.md", "d.png"]


def test_a_missing_file_and_a_missing_anchor_are_found(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/page.md").write_text("# Page\n\n## A section\n")
    (tmp_path / "README.md").write_text(
        "# Top\n\n[ok](docs/page.md#a-section) [self](#top) [web](https://example.org/#x)\n"
        "[gone](docs/gone.md) [typo](docs/page.md#a-sektion) [up](../outside.md) [here](#nowhere)\n"
    )
    (tmp_path.parent / "outside.md").write_text("# Outside\n")
    assert broken_links(tmp_path / "README.md", tmp_path) == [
        "docs/gone.md: no such file",
        "docs/page.md#a-sektion: no heading makes #a-sektion",
        "../outside.md: no such file",
        "#nowhere: no heading makes #nowhere",
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_and_anchor_resolves(page):
    assert broken_links(page, ROOT) == []


def test_the_readme_is_a_front_door_that_links_every_page():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    linked = {(README.parent / target.partition("#")[0]).resolve() for target in links(text)}
    assert set(DOCS.glob("*.md")) <= linked, "a docs/ page the README does not link"


def test_the_commands_after_the_two_are_the_activation_then_the_everyday_ones():
    assert activation_command() == "source .venv/bin/activate"
    commands = everyday_commands()
    assert 5 <= len(commands) <= 6
    # Written bare, for the activated shell: not through uv or a path into .venv.
    assert not [c for c in commands if c.startswith((".venv", "uv ")) or "/bin/" in c]


def _benchmark(name: str, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # the scripts import their sibling run.py
    spec = importlib.util.spec_from_file_location(name, ROOT / f"benchmarks/{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_generated_block_is_once_in_the_page_its_generator_refreshes(monkeypatch):
    run, breakdown = _benchmark("run", monkeypatch), _benchmark("repro_breakdown", monkeypatch)
    suite = _benchmark("suite", monkeypatch)
    writes = {
        results_table.BEGIN: README,
        run.BEGIN: run.PAGE,
        breakdown.BEGIN: run.PAGE,  # through run.publish
        suite.BEGIN: suite.PAGE,
    }
    for begin, page in writes.items():
        text = page.read_text(encoding="utf-8")
        name = MARKER.match(begin).group(1)
        assert text.count(begin) == 1 and text.count(f"<!-- {name}:end -->") == 1, (page, begin)
    # Every marked block of every page, each once, closed after it opens.
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for name in MARKER.findall(text):
            begin, end = text.index(f"<!-- {name}:begin"), text.find(f"<!-- {name}:end -->")
            assert text.count(f"<!-- {name}:begin") == 1 and end > begin, (page, name)
