"""Comparing runs: diffs across commits, the review report, seed noise, a queued sweep."""

from __future__ import annotations

import json
import re
import shutil
import statistics
import sys
import time

import pytest

from dlpipe.train.summary import read_seed_table, run_major
from tests.e2e.conftest import Clone, copy_clone, shares_experiment

pytestmark = pytest.mark.e2e
PNG = b"\x89PNG\r\n\x1a\n"
# An experiment's ref: refs/exps/<baseline commit, its first two hex digits a folder>/<name>.
EXPERIMENT_REF = re.compile(r"refs/exps/[0-9a-f]{2}/[0-9a-f]{38}/[^/]+$")


def metrics_at(clone, rev: str) -> dict:
    """Per run, the summary metrics at ``rev``."""
    return run_major(clone.summary(rev))


@pytest.fixture(scope="session")  # not "module": xdist may run other modules' tests in between
def two_commits(built_template: Clone, tmp_path_factory: pytest.TempPathFactory) -> Clone:
    """A committed run with dropout 0.3, then one with dropout 0.5 committed (tiny epochs). Shared by
    the tests of xdist group ``two-commits``, which write only outside its tracked files."""
    clone = copy_clone(built_template, tmp_path_factory.mktemp("two-commits"))
    params = clone.params()
    params["dropout"] = 0.5
    clone.write_params(params)
    out = clone.dvc("repro").stdout
    assert "Running stage 'train_dropout'" in out and "Running stage 'train_batchnorm'" not in out
    clone.run("git", "add", "-A")
    clone.run("git", "commit", "-qm", "dropout 0.5")
    return clone


@pytest.mark.xdist_group("two-commits")
def test_dvc_diffs_between_two_commits(two_commits, tmp_path):
    clone = two_commits
    old, new = metrics_at(clone, "HEAD~1"), metrics_at(clone, "HEAD")
    diff = json.loads(clone.dvc("metrics", "diff", "HEAD~1", "--json").stdout)["metrics/summary.json"]
    entry = diff["min_val_loss.dropout"]
    assert entry["old"] == old["dropout"]["min_val_loss"] and entry["new"] == new["dropout"]["min_val_loss"]
    assert entry["diff"] == pytest.approx(entry["new"] - entry["old"])
    assert "min_val_loss.no_dropout" not in diff  # the control run did not change: same seed, same data
    params = json.loads(clone.dvc("params", "diff", "HEAD~1", "--json").stdout)["params.yaml"]
    assert list(params) == ["dropout"] and (params["dropout"]["old"], params["dropout"]["new"]) == (0.3, 0.5)

    out = tmp_path / "plots"
    clone.dvc("plots", "diff", "HEAD~1", "-o", str(out))
    page = (out / "index.html").read_text()
    for rev in ("HEAD~1", "workspace"):
        assert f'"rev": "{rev}"' in page
    assert page.count('"filename::field": "dropout.csv::val_loss"') >= 2 * 3  # 3 epochs in each revision


@pytest.mark.xdist_group("two-commits")
def test_review_report_of_two_commits(two_commits):
    clone = two_commits
    clone.run(sys.executable, "-m", "dlpipe.report.review", "--old", "HEAD~1", "--new", "HEAD", "--out", "review")
    report = (clone.path / "review/report.md").read_text()
    # One seed a side: the short line on top names no verdict it cannot have ("noise unknown").
    short = report.split("\n")[2]
    assert report.startswith("# Review: `HEAD~1` → `HEAD`\n\n**In short:** ") and "noise unknown: " in short, short
    assert not any(word in short for word in ("better", "worse", "within noise")), short
    assert "\n\n## Where each side was computed\n\n- `HEAD~1`: " in report
    assert "Not comparable" not in report  # both built here
    assert "| `dropout` | 0.3 | 0.5 |" in report
    old, new = metrics_at(clone, "HEAD~1"), metrics_at(clone, "HEAD")
    o, n = old["dropout"]["min_val_loss"], new["dropout"]["min_val_loss"]
    # One seed on each side: the change is shown, its verdict says the noise is unknown.
    row = f"| dropout | min_val_loss | {o:.4f} (1 seed) | {n:.4f} (1 seed) | {n - o:+.4f} | noise unknown (1 seed"
    assert row in report
    assert "min_val_loss of no_dropout" in report.split("Unchanged (same values, seed for seed): ")[1]
    # The figures are DVC's own charts of the top-level plots (as SVG too), each with both revisions.
    figures = sorted(p.name for p in (clone.path / "review").glob("*.png"))
    assert figures == ["batchnorm_loss.png", "dropout_loss.png"]
    for f in figures:
        svg = (clone.path / "review" / f).with_suffix(".svg").read_text()
        assert ">HEAD~1</text>" in svg and ">HEAD</text>" in svg, f
        assert (clone.path / "review" / f).read_bytes().startswith(PNG) and f"]({f})" in report
    # What the charts cannot show, the report says: every run with a diverged seed, in either revision.
    curves = report.split("## Loss curves", 1)[1]
    named = sorted(line.split("`")[1] for line in curves.splitlines() if line.startswith("- `"))
    assert named == sorted(run for run in new if new[run].get("diverged") or old[run].get("diverged")), curves
    gap_d, gap_b = new["dropout"]["overfitting_gap"], new["no_dropout"]["overfitting_gap"]
    if gap_d == gap_b:  # possible in 3 tiny epochs: both minima at the last epoch
        assert "- `HEAD`, 1 seed: **No difference.** Overfitting gap" in report
    else:
        answer = re.search(r"- `HEAD`, 1 seed: \*\*(\w+) on this seed, noise unknown\*\*", report)
        assert answer and answer.group(1) == ("Yes" if gap_d < gap_b else "No")
    assert f"{gap_d:.4f} (1 seed) with Dropout(0.5) vs {gap_b:.4f} (1 seed) without" in report


def made_elsewhere(clone: Clone) -> None:
    """Commit train_batchnorm's results as if another CPU had made them: its environment names another
    CPU, and its min validation losses differ in their last digits (what another CPU model does)."""
    folder = clone.path / "plots/train_batchnorm"
    env = json.loads((folder / "environment.json").read_text())
    env["cpu"] = {"model": "Intel Xeon", "vendor": "GenuineIntel", "family": "6", "model_number": "85", "isa": ["avx2"]}
    (folder / "environment.json").write_text(json.dumps(env, indent=2, sort_keys=True) + "\n")
    seeds = (folder / "seeds.csv").read_text().splitlines()
    header = seeds[0].split(",")
    column = header.index("min_val_loss")
    for i, line in enumerate(seeds[1:], 1):
        cells = line.split(",")
        if cells[column]:
            cells[column] = repr(float(cells[column]) + 0.0067)
        seeds[i] = ",".join(cells)
    (folder / "seeds.csv").write_text("\n".join(seeds) + "\n")
    clone.run(sys.executable, "stages/summarize.py")
    clone.dvc("commit", "-f", "summarize", "train_batchnorm")
    clone.run("git", "add", "-A")
    clone.run("git", "commit", "-qm", "results made on another machine")


def test_a_readme_change_reviewed_against_another_machines_results(built_clone):
    # The issue's case: a fresh clone on another CPU than the committed results' rebuilds them; a review
    # of a README-only change then must not blame the machine's differences on the change.
    clone = built_clone
    made_elsewhere(clone)
    clone.dvc("repro", "--force", "train_batchnorm", "summarize")  # this machine's own results
    (clone.path / "README.md").write_text((clone.path / "README.md").read_text() + "\nA typo fixed.\n")

    clone.run(sys.executable, "-m", "dlpipe.report.review", "--old", "HEAD", "--out", "against-committed")
    report = (clone.path / "against-committed/report.md").read_text()
    top = report.split("## What changed")[0]
    assert "- `HEAD`, train_batchnorm: Intel Xeon (family 6 model 85, AVX2)" in top
    assert "**Not comparable here: the two sides were computed in different environments** for `train_batchnorm`" in top
    assert "`python -m dlpipe.report.review --old HEAD --rebuild-old`" in top
    rows = [line for line in report.splitlines() if line.startswith("| batchnorm |")]
    assert rows and all("not compared: computed in different environments" in row for row in rows)

    status = clone.run("git", "status", "--porcelain").stdout
    clone.run(sys.executable, "-m", "dlpipe.report.review", "--old", "HEAD", "--rebuild-old", "--out", "rebuilt")
    report = (clone.path / "rebuilt/report.md").read_text()
    assert report.startswith("# Review: `HEAD (rebuilt here)` → `workspace`")
    assert "Not comparable" not in report
    assert "None: every metric of every run is the same, seed for seed." in report
    where = report.split("## Where each side was computed", 1)[1].split("##", 1)[0]
    lines = [line for line in where.splitlines() if line.startswith("- ")]
    assert len(lines) == 2 and lines[0].split(": ", 1)[1] == lines[1].split(": ", 1)[1]  # the same machine
    # The charts name the rebuilt side as the report does, not by the commit of the rebuild.
    svg = (clone.path / "rebuilt/dropout_loss.svg").read_text()
    assert ">HEAD (rebuilt here)</text>" in svg and ">workspace</text>" in svg
    # Nothing of the rebuild is left in the work tree or among git's worktrees; a second review reuses it.
    assert clone.run("git", "worktree", "list").stdout.count("\n") == 1
    assert clone.run("git", "status", "--porcelain").stdout == status + "?? rebuilt/\n"
    again = clone.run(sys.executable, "-m", "dlpipe.report.review", "--old", "HEAD", "--rebuild-old", "--out", "again")
    assert "HEAD: reusing its rebuild on this machine" in again.stdout
    assert "Running stage" not in again.stdout


def test_the_old_side_is_rebuilt_with_its_own_code_not_the_work_trees(built_clone):
    # The package is installed editable, pointing at this clone's src/: the rebuild must run the old
    # revision's code, or a change of code would compare with itself and read "no change".
    clone = built_clone
    clone.env["PYTHONPATH"] = str(clone.path / "src")  # the clone's own code for its own commands, too
    summary = clone.path / "src/dlpipe/train/summary.py"
    text = summary.read_text()
    assert 'overfitting_gap=float(last["val_loss"]) - min_val,' in text
    summary.write_text(text.replace('overfitting_gap=float(last["val_loss"]) - min_val,', "overfitting_gap=1.0,"))
    clone.dvc("repro")  # the work tree's code: every gap 1.0
    clone.run(sys.executable, "-m", "dlpipe.report.review", "--old", "HEAD", "--rebuild-old", "--out", "rebuilt")
    report = (clone.path / "rebuilt/report.md").read_text()
    rows = [line for line in report.splitlines() if line.startswith("| dropout | overfitting_gap |")]
    assert rows and "1.0000" in rows[0] and "None: every metric" not in report, report


THREE_SEEDS = "seeds=[0,1,2]"


@shares_experiment(THREE_SEEDS)
def test_three_seeds_through_every_documented_command(built_template, experiment, tmp_path):
    """seeds=[0,1,2] through the pipeline, dvc's diffs, the results table, the review, and the plots page with
    its images: every one shows means with their spread and counts as counts."""
    one_seed = read_seed_table(built_template.path / "plots/train_dropout/seeds.csv")
    run = experiment(THREE_SEEDS)
    clone, out = copy_clone(run.clone, tmp_path / "clone"), run.output  # a copy: this test commits in it
    assert re.search(r"dropout\s+\d\.\d{4} ± \d\.\d{4} \(\d+(–\d+)?\)\s+\d\.\d{4} ± \d\.\d{4}\s+no\s+3", out), out
    summary = run_major(clone.summary())
    m = summary["dropout"]
    per_seed = read_seed_table(clone.path / "plots/train_dropout/seeds.csv")["dropout"]
    assert m["seeds"] == 3 and set(per_seed) == {0, 1, 2}
    values = [per_seed[s]["min_val_loss"] for s in (0, 1, 2)]
    assert m["min_val_loss"] == pytest.approx(sum(values) / 3)
    assert m["min_val_loss_std"] == pytest.approx(statistics.stdev(values))
    epochs = [per_seed[s]["min_val_loss_epoch"] for s in (0, 1, 2)]
    assert (m["min_val_loss_epoch_min"], m["min_val_loss_epoch_max"]) == (min(epochs), max(epochs))
    assert per_seed[0] == one_seed["dropout"][0]  # seed 0 of three is the one-seed run, bit for bit
    header = (clone.path / "plots/train_dropout/dropout.csv").read_text().splitlines()[0]
    assert header == "epoch,loss,val_loss,loss_std,val_loss_std,seeds"

    diff = json.loads(clone.dvc("metrics", "diff", "HEAD", "--json").stdout)["metrics/summary.json"]
    assert diff["min_val_loss_std.dropout"]["new"] == m["min_val_loss_std"] and diff["seeds.dropout"]["new"] == 3

    table = clone.run(sys.executable, "-m", "dlpipe.report.results_table").stdout
    lo, hi = min(epochs), max(epochs)
    epoch_text = str(lo) if lo == hi else f"{lo}–{hi}"
    row = f"| train_dropout | dropout | {m['min_val_loss']:.4f} ± {m['min_val_loss_std']:.4f} ({epoch_text}) |"
    assert row in table and "| 3 |" in table
    diverged = summary["no_batchnorm"]
    if diverged.get("diverged"):
        assert f"{diverged['diverged_seeds']} of 3 seeds, first at epoch {diverged['diverged_at_epoch']}" in table

    clone.run(sys.executable, "-m", "dlpipe.report.review", "--old", "HEAD", "--out", "review")
    report = (clone.path / "review/report.md").read_text()
    assert "| `seeds` | [0] | [0, 1, 2] |" in report
    assert f"{m['min_val_loss']:.4f} ± {m['min_val_loss_std']:.4f} (3 of 3 seeds)" in report
    # Seed 0 is the same on both sides; seeds 1 and 2 are new: named, not hidden in a set comparison.
    row = "| dropout | diverged_seeds | 0 of 1 seed | 0 of 3 seeds | – | changed: seeds 1, 2 only in `workspace` |"
    assert row in report
    assert "- `workspace`, 3 seeds:" in report and "- `HEAD`, 1 seed:" in report
    assert "noise unknown (1 seed on a side; run several seeds to measure it" in report
    # Counts print as counts: no epoch or seed number is shown as a float.
    assert not re.search(r"(epoch|seeds?)\D{0,3}\d+\.\d", report.split("## Loss curves")[0])

    # Commit the three seeds, change dropout with three seeds again: now the verdicts have p-values, from
    # the same seeds paired, adjusted over all the report's tests.
    clone.run("git", "add", "-A")
    clone.run("git", "commit", "-qm", "three seeds")
    clone.dvc("exp", "run", "-S", "dropout=0.6")
    clone.run(sys.executable, "-m", "dlpipe.report.review", "--old", "HEAD", "--out", "review")
    report = (clone.path / "review/report.md").read_text()
    assert re.search(
        r"\| dropout \| min_val_loss \| .* \(3 of 3 seeds\) \| .* \(3 of 3 seeds\) \| [+-]\d\.\d{4}( ± \d\.\d{4})? \| "
        r"(better|worse|within noise) \((paired t-test|sign test), 3 seeds paired: p = [0-9.e-]+, Holm [0-9.e-]+ "
        r"over \d+ tests; ",
        report,
    ), report

    page = tmp_path / "page"
    written = clone.run(sys.executable, "-m", "dlpipe.report.plots_page", "--rev", "HEAD", "--out", str(page)).stdout
    html = (page / "index.html").read_text()
    assert html.count("dropout.csv::val_loss") >= 2 * 3 and "HEAD" in html  # both revisions, 3 epochs each
    # The same charts as images beside the page; the page's path printed (`open $(...)` opens it).
    names = ["index.html", "dropout_loss.svg", "dropout_loss.png", "batchnorm_loss.svg", "batchnorm_loss.png"]
    assert written.split() == [str(page / "index.html")]
    assert all((page / name).stat().st_size > 0 for name in names)
    assert all((page / name).read_bytes().startswith(PNG) for name in names if name.endswith(".png"))


def test_queued_sweep_runs_and_is_reported(built_clone):
    clone = built_clone
    clone.dvc("exp", "run", "--queue", "-S", "dropout=0.1,0.2")
    clone.dvc("queue", "start", "-j", "2")
    deadline, asked = time.monotonic() + 600, 0.0
    while True:
        # Each `dvc queue status` costs a second of CPU that the queued runs could use: asked every
        # 15 s (a run that fails), or once both experiments' refs are in (git, in milliseconds), then
        # every 3 s until DVC has marked both done.
        refs = clone.run("git", "for-each-ref", "--format=%(refname)", "refs/exps").stdout.split()
        finished = [r for r in refs if EXPERIMENT_REF.match(r)]  # not DVC's own stash or EXEC_HEAD
        since = time.monotonic() - asked
        if since > 15 or (len(finished) >= 2 and since > 3):
            asked = time.monotonic()
            status = clone.dvc("queue", "status").stdout
            if not re.search(r"\b(Queued|Running)\b", status):
                break
        assert time.monotonic() < deadline, status
        time.sleep(0.5)
    assert "Failed" not in status, status + clone.dvc("queue", "logs", "--help", check=False).stdout
    assert status.count("Success") == 2, status
    clone.run(sys.executable, "-m", "dlpipe.report.review", "--old", "HEAD", "--out", "review", "--sweep", "dropout")
    report = (clone.path / "review/report.md").read_text()
    assert "## Sweep over `dropout`" in report and "](sweep-dropout.png)" in report
    rows = re.findall(r"^\| (0\.[0-9]+|0) \| [^|]+ \| ([0-9.]+) \|", report, flags=re.M)
    assert {x for x, _ in rows} >= {"0.1", "0.2", "0.3"}
    assert (clone.path / "review/sweep-dropout.png").read_bytes().startswith(PNG)


@pytest.mark.xdist_group("two-commits")
def test_review_replaces_only_its_own_earlier_output(two_commits):
    clone = two_commits
    review = (sys.executable, "-m", "dlpipe.report.review", "--old", "HEAD~1", "--new", "HEAD", "--out")
    mine = clone.path / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "keep.txt").write_text("the user's")
    (mine / "sub" / "notes.md").write_text("the user's notes")
    try:
        refused = clone.run(*review, "mine", check=False)
        assert refused.returncode == 1 and refused.stdout.count("\n") == 1, refused.stdout
        assert refused.stdout.startswith("review: error: --out mine holds files review did not write (keep.txt, sub/,")
        assert sorted(p.relative_to(mine).as_posix() for p in mine.rglob("*")) == ["keep.txt", "sub", "sub/notes.md"]
        assert (mine / "keep.txt").read_text() == "the user's"
        assert (mine / "sub" / "notes.md").read_text() == "the user's notes"

        for _ in range(2):  # the second run replaces the first one's report
            clone.run(*review, "own")
        assert (clone.path / "own/report.md").read_text().startswith("# Review: `HEAD~1` → `HEAD`")
    finally:  # the clone is shared by the group's tests
        for folder in (mine, clone.path / "own"):
            shutil.rmtree(folder, ignore_errors=True)
