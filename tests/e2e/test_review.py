"""Comparing runs: diffs across commits, the review report, seed noise, a queued sweep."""

from __future__ import annotations

import json
import re
import sys
import time

import pytest

pytestmark = pytest.mark.e2e
PNG = b"\x89PNG\r\n\x1a\n"


def metrics_at(clone, rev: str, stage: str) -> dict:
    return json.loads(clone.run("git", "show", f"{rev}:metrics/{stage}.json").stdout)


@pytest.fixture
def two_commits(clone):
    """Commit a run with dropout 0.3, then one with dropout 0.5 (tiny epochs)."""
    clone.dvc("repro")
    clone.run("git", "add", "-A")
    clone.run("git", "commit", "-qm", "dropout 0.3")
    params = clone.params()
    params["dropout"] = 0.5
    clone.write_params(params)
    out = clone.dvc("repro").stdout
    assert "Running stage 'train_dropout'" in out and "Running stage 'train_batchnorm'" not in out
    clone.run("git", "add", "-A")
    clone.run("git", "commit", "-qm", "dropout 0.5")
    return clone


def test_dvc_diffs_between_two_commits(two_commits, tmp_path):
    clone = two_commits
    old, new = metrics_at(clone, "HEAD~1", "train_dropout"), metrics_at(clone, "HEAD", "train_dropout")
    diff = json.loads(clone.dvc("metrics", "diff", "HEAD~1", "--json").stdout)["metrics/train_dropout.json"]
    entry = diff["dropout.min_val_loss"]
    assert entry["old"] == old["dropout"]["min_val_loss"] and entry["new"] == new["dropout"]["min_val_loss"]
    assert entry["diff"] == pytest.approx(entry["new"] - entry["old"])
    assert "no_dropout.min_val_loss" not in diff  # the control run did not change: same seed, same data
    params = json.loads(clone.dvc("params", "diff", "HEAD~1", "--json").stdout)["params.yaml"]
    assert list(params) == ["dropout"] and (params["dropout"]["old"], params["dropout"]["new"]) == (0.3, 0.5)

    out = tmp_path / "plots"
    clone.dvc("plots", "diff", "HEAD~1", "-o", str(out))
    page = (out / "index.html").read_text()
    for rev in ("HEAD~1", "workspace"):
        assert f'"rev": "{rev}"' in page
    assert page.count('"filename::field": "dropout.csv::val_loss"') >= 2 * 3  # 3 epochs in each revision


def test_review_report_of_two_commits(two_commits):
    clone = two_commits
    clone.run(sys.executable, "-m", "dlpipe.review", "--old", "HEAD~1", "--new", "HEAD", "--out", "review")
    report = (clone.path / "review/report.md").read_text()
    assert report.startswith("# Review: `HEAD~1` → `HEAD`")
    assert "| `dropout` | 0.3000 | 0.5000 |" in report
    old, new = metrics_at(clone, "HEAD~1", "train_dropout"), metrics_at(clone, "HEAD", "train_dropout")
    o, n = old["dropout"]["min_val_loss"], new["dropout"]["min_val_loss"]
    verdict = "better" if n < o else "worse"
    row = f"| train_dropout | dropout | min_val_loss | {o:.4f} | {n:.4f} | {n - o:+.4f} | {verdict} |"
    assert row in report
    assert "| train_dropout | no_dropout | min_val_loss |" in report and "| same |" in report
    figures = sorted(p.name for p in (clone.path / "review").glob("*.png"))
    assert figures == [
        "batchnorm_loss.png",
        "dropout_loss.png",
        "train_batchnorm-batchnorm.png",
        "train_batchnorm-no_batchnorm.png",
        "train_dropout-dropout.png",
        "train_dropout-no_dropout.png",
    ]
    # DVC's own charts, as SVG too: both revisions are in the dropout chart.
    svg = (clone.path / "review/dropout_loss.svg").read_text()
    assert "HEAD~1" in svg and "HEAD" in svg
    assert all((clone.path / "review" / f).read_bytes().startswith(PNG) for f in figures)
    for f in figures:
        assert f"]({f})" in report
    gap_d, gap_b = new["dropout"]["overfitting_gap"], new["no_dropout"]["overfitting_gap"]
    answer = re.search(r"- `HEAD`: \*\*(\w+)\.\*\* Overfitting gap", report)
    assert answer and answer.group(1) == ("Yes" if gap_d < gap_b else "No")
    assert f"{gap_d:.4f} with Dropout vs {gap_b:.4f} without" in report


def test_two_seeds_report_mean_and_std(clone):
    clone.dvc("repro")
    clone.run("git", "add", "-A")
    clone.run("git", "commit", "-qm", "one seed")
    clone.dvc("exp", "run", "-S", "seeds=[0,1]")
    m = json.loads((clone.path / "metrics/train_dropout.json").read_text())["dropout"]
    assert m["seeds"] == 2 and set(m["per_seed"]) == {"0", "1"}
    values = [m["per_seed"][s]["min_val_loss"] for s in ("0", "1")]
    assert m["min_val_loss"] == pytest.approx(sum(values) / 2)
    assert m["min_val_loss_std"] == pytest.approx(abs(values[0] - values[1]) / 2**0.5)
    # Seed 0 of the two-seed run is the one-seed run, bit for bit.
    assert m["per_seed"]["0"] == metrics_at(clone, "HEAD", "train_dropout")["dropout"]
    header = (clone.path / "plots/train_dropout/dropout.csv").read_text().splitlines()[0]
    assert header == "epoch,loss,val_loss,loss_std,val_loss_std,seeds"
    clone.run(sys.executable, "-m", "dlpipe.review", "--old", "HEAD", "--out", "review")
    report = (clone.path / "review/report.md").read_text()
    assert f"{m['min_val_loss']:.4f} ± {m['min_val_loss_std']:.4f}" in report


def test_queued_sweep_runs_and_is_reported(clone):
    clone.dvc("repro")
    clone.run("git", "add", "-A")
    clone.run("git", "commit", "-qm", "baseline run")
    clone.dvc("exp", "run", "--queue", "-S", "dropout=0.1,0.2")
    clone.dvc("queue", "start", "-j", "2")
    deadline = time.monotonic() + 600
    while True:
        status = clone.dvc("queue", "status").stdout
        if not re.search(r"\b(Queued|Running)\b", status):
            break
        assert time.monotonic() < deadline, status
        time.sleep(2)
    assert "Failed" not in status, status + clone.dvc("queue", "logs", "--help", check=False).stdout
    assert status.count("Success") == 2, status
    clone.run(sys.executable, "-m", "dlpipe.review", "--old", "HEAD", "--out", "review", "--sweep", "dropout")
    report = (clone.path / "review/report.md").read_text()
    assert "## Sweep over `dropout`" in report and "](sweep-dropout.png)" in report
    rows = re.findall(r"^\| \S+ \| (0\.[0-9]+|0) \| ([0-9.]+) \|", report, flags=re.M)
    assert {x for x, _ in rows} >= {"0.1", "0.2", "0.3"}
    assert (clone.path / "review/sweep-dropout.png").read_bytes().startswith(PNG)
