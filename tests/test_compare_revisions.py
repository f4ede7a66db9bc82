"""benchmarks/compare_revisions.py without its timed runs: the verdict, the report, a revision's clone."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

from dlpipe.core.errors import UserError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def ab(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # the script imports its sibling run.py
    spec = importlib.util.spec_from_file_location("compare_revisions", ROOT / "benchmarks/compare_revisions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("ratios", "said"),
    [
        ([0.9, 0.95, 0.97, 0.92], "faster in every pair (0.900×–0.970× over 4 pairs)"),
        ([1.02, 1.1], "slower in every pair (1.020×–1.100× over 2 pairs)"),
        ([0.9, 1.05, 0.97, 0.95], "within noise: the pairs disagree (0.900×–1.050× over 4 pairs)"),
        ([0.9, 1.0], "within noise: the pairs disagree (0.900×–1.000× over 2 pairs)"),
    ],
)
def test_the_verdict_takes_a_side_only_when_every_pair_does(ab, ratios, said):
    assert ab.verdict(ratios) == said


def test_the_report_shows_each_pair_who_ran_first_its_ratio_and_the_verdict(ab):
    text = ab.report("main (0123456789ab)", "work tree", [(40.0, 38.0), (42.0, 40.0)], warm=True)
    assert "| 1 | base | 40.00 | 38.00 | 0.950× |" in text and "| 2 | candidate | 42.00 | 40.00 | 0.952× |" in text
    assert "| geometric mean |  |  |  | 0.951× |" in text
    assert "a warm JAX compile cache per revision; base `main (0123456789ab)`, candidate `work tree`" in text
    assert text.endswith("Verdict: faster in every pair (0.950×–0.952× over 2 pairs).")


def test_a_revision_clone_holds_that_commits_files_committed(ab, tmp_path):
    head = ab.resolve("HEAD")
    ab.revision_clone(head, tmp_path)
    listed = subprocess.run(["git", "ls-tree", "-r", "--name-only", head], cwd=ROOT, capture_output=True, text=True)
    files = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert files == set(listed.stdout.split())
    assert (tmp_path / "dvc.yaml").read_bytes() == subprocess.run(
        ["git", "show", f"{head}:dvc.yaml"], cwd=ROOT, capture_output=True
    ).stdout
    status = subprocess.run(["git", "status", "--porcelain"], cwd=tmp_path, capture_output=True, text=True)
    assert status.stdout == ""


def test_a_revision_clone_needs_no_git_identity(ab, tmp_path, monkeypatch):
    # A machine (or CI runner) without a global git identity can still clone a revision.
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for variable in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(variable, raising=False)
    ab.revision_clone(ab.resolve("HEAD"), tmp_path / "clone")
    log = subprocess.run(["git", "log", "--format=%an %ae"], cwd=tmp_path / "clone", capture_output=True, text=True)
    assert log.stdout == "benchmark benchmark@localhost\n"


def test_an_unknown_revision_is_named(ab):
    with pytest.raises(UserError, match=r"^no-such-rev is not a commit of this repository"):
        ab.resolve("no-such-rev")
