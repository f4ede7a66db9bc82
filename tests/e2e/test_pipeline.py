"""The real `dvc repro` in a temporary clone, on small data with the real schemas."""

import json
import re
import subprocess
import sys

import pytest

from dlpipe.train.summary import read_seed_table
from tests.e2e.conftest import DROPOUT_05, copy_clone, shares_experiment
from tests.helpers.readme import exp_show_example
from tests.helpers.stages import STAGES

pytestmark = pytest.mark.e2e

# What a run writes that git tracks (models are in DVC's cache, and their hashes in dvc.lock).
TRACKED_RESULTS = (
    "dvc.lock",
    "metrics/summary.json",
    "plots/train_dropout/seeds.csv",
    "plots/train_dropout/dropout.csv",
    "plots/train_dropout/loss.png",
    "plots/train_batchnorm/seeds.csv",
    "plots/train_batchnorm/no_batchnorm.csv",
)


def ran(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", output))


def test_repro_builds_every_output_then_does_nothing(built_template, built_clone):
    # The session's template is a fresh clone after its first `dvc repro`; built_clone is a copy of it.
    clone = built_clone
    out = built_template.repro_output
    assert ran(out) == set(STAGES)

    details = read_seed_table(clone.path / "plots/train_dropout/seeds.csv")
    assert set(details) == {"dropout", "no_dropout"}
    for run in details.values():
        assert run[0]["epochs_trained"] == 3 and run[0]["diverged"] is False
        assert 1 <= run[0]["min_val_loss_epoch"] <= 3 and run[0]["min_val_loss"] > 0
        assert run[0]["overfitting_gap"] >= 0
    summary = clone.summary()
    # Metric first, every run of both stages: what `dvc exp show` and `dvc metrics diff` show.
    assert next(iter(summary)) == "min_val_loss"
    assert set(summary["min_val_loss"]) >= {"dropout", "no_dropout", "batchnorm"}
    assert summary["min_val_loss"]["dropout"] == details["dropout"][0]["min_val_loss"]
    assert summary["diverged"].keys() == {"dropout", "no_dropout", "batchnorm", "no_batchnorm"}

    curve = (clone.path / "plots/train_dropout/dropout.csv").read_text().splitlines()
    assert curve[0] == "epoch,loss,val_loss" and [r.split(",")[0] for r in curve[1:]] == ["1", "2", "3"]
    assert sorted(p.name for p in (clone.path / "data/models/train_dropout").iterdir()) == [
        "dropout.keras",
        "no_dropout.keras",
    ]
    assert sorted(p.name for p in (clone.path / "data/raw").iterdir()) == ["concrete.csv", "spotify_songs.csv"]

    # DVC draws the top-level plots from these files: both runs, train and validation.
    plots = json.loads(clone.dvc("plots", "show", "--json").stdout)["data"]
    values = plots["dropout_loss"][0]["content"]["data"]["values"]
    assert {v["filename::field"] for v in values} == {
        "dropout.csv::loss",
        "dropout.csv::val_loss",
        "no_dropout.csv::loss",
        "no_dropout.csv::val_loss",
    }
    shown = json.loads(clone.dvc("metrics", "show", "--json").stdout)[""]["data"]
    assert shown["metrics/summary.json"] == {"data": summary}
    # Beside it, where each training stage computed its results (what `dvc metrics diff` shows change).
    for stage in ("train_dropout", "train_batchnorm"):
        environment = json.loads((clone.path / f"plots/{stage}/environment.json").read_text())
        found = shown[f"plots/{stage}/environment.json"]["data"]  # DVC leaves the ISA list out: not a metric
        assert found["cpu"]["model"] == environment["cpu"]["model"] and found["packages"] == environment["packages"]
        assert environment["backend"] == found["backend"] == "jax" and environment["packages"]["keras"]
    assert len(shown) == 3

    assert "Data and pipelines are up to date" in clone.dvc("status").stdout
    again = clone.dvc("repro").stdout
    assert ran(again) == set() and "Data and pipelines are up to date" in again


@shares_experiment(DROPOUT_05)
def test_changing_dropout_retrains_only_the_dropout_stage_and_changes_one_params_line(experiment, built_template):
    run = experiment(DROPOUT_05)
    clone, before = run.clone, built_template.summary()
    assert ran(run.output) == {"check_params", "train_dropout", "summarize"}
    after = clone.summary()
    assert after["min_val_loss"]["dropout"] != before["min_val_loss"]["dropout"]
    # The control run has no Dropout layer: same seed, same data, same result.
    for metric in ("min_val_loss", "overfitting_gap", "min_val_loss_epoch"):
        assert after[metric]["no_dropout"] == before[metric]["no_dropout"]
    batchnorm_seeds = "plots/train_batchnorm/seeds.csv"
    assert (clone.path / batchnorm_seeds).read_bytes() == (built_template.path / batchnorm_seeds).read_bytes()
    # `-S` rewrote params.yaml: exactly the dropout line changed, comments and layout kept.
    assert clone.run("git", "diff", "--numstat", "--", "params.yaml").stdout.split() == ["1", "1", "params.yaml"]
    diff = clone.run("git", "diff", "-U0", "--", "params.yaml").stdout
    assert [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")] == [
        "-dropout: 0.3",
        "+dropout: 0.5",
    ]


def test_a_rerun_gives_the_same_bytes_and_leaves_git_clean(built_clone):
    clone = built_clone
    committed = {p: (clone.path / p).read_bytes() for p in TRACKED_RESULTS}
    # Built with one process per stage (the e2e default); rerun with each training stage's two
    # models trained side by side in two worker processes, as on a user's machine.
    clone.env["DLPIPE_WORKERS"] = "2"
    out = clone.dvc("repro", "--force").stdout
    assert ran(out) == set(STAGES)
    assert {p: (clone.path / p).read_bytes() for p in TRACKED_RESULTS} == committed
    # Models included: the same weights give the same model files, so dvc.lock does not change.
    assert clone.run("git", "status", "--porcelain").stdout == ""


def test_bad_data_fails_with_one_clear_line_and_writes_nothing(clone):
    mirror = clone.env["FETCH_MIRROR"]
    path = f"{mirror}/concrete.csv"
    with open(path) as fh:
        text = fh.read()
    with open(path, "w") as fh:
        fh.write(text.replace("Water", "H2O", 1))
    proc = clone.dvc("repro", check=False)
    assert proc.returncode != 0
    assert "fetch: error:" in proc.stdout and "neither the Kaggle names" in proc.stdout
    assert "Traceback" not in proc.stdout
    assert not (clone.path / "data/raw").exists()


EXP_SHOW_KEEP = r"min_val_loss\."


def exp_show(clone, *flags: str) -> str:
    env = {**clone.env, "COLUMNS": "160"}
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", "exp", "show", "--no-pager", *flags],
        cwd=clone.path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout


def whole(column: str, header: str) -> bool:
    return bool(re.search(rf"(?<![\w.]){re.escape(column)}(?![\w.…])", header))


@shares_experiment(DROPOUT_05)
def test_exp_show_shows_the_reviewers_columns_in_160_columns(experiment):
    run = experiment(DROPOUT_05)
    clone, name = run.clone, run.name
    summary = clone.summary()

    # Without flags: the first metric column is the dropout run's min validation loss (metric-first summary,
    # and its file first in dvc.yaml), whatever DVC folds after it.
    out = exp_show(clone)
    lines = out.splitlines()
    header = next(line for line in lines if "Experiment" in line)
    assert header.split()[1].startswith("min_val_loss.dro"), out
    assert f"{summary['min_val_loss']['dropout']:.5g}" in out

    # Every run's min validation loss: DVC's own flags, as the README shows them.
    out = exp_show(clone, "--only-changed", "--keep", EXP_SHOW_KEEP)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 160
    header = next(line for line in lines if "Experiment" in line)
    for run in summary["min_val_loss"]:
        assert whole(f"min_val_loss.{run}", header), out
    row = next(line for line in lines if name in line)
    for run, value in summary["min_val_loss"].items():
        assert f"{value:.5g}" in row, f"{run}'s min val loss not in:\n{out}"

    # The README's example (the real data) was made by the same command: the same columns, but for a
    # run that has no min validation loss in one of them (on the real data no_batchnorm diverges).
    # Other changed columns (gap, epoch) depend on the data; the ones the README is about must agree.
    block = exp_show_example()
    readme_header = next(line for line in block.splitlines() if "Experiment" in line).split()

    def key_columns(columns: list[str], other: list[str]) -> list[str]:
        kept = ("Experiment", "Created", "dropout")
        return [c for c in columns if c in kept or (c.startswith("min_val_loss.") and c in other)]

    assert key_columns(readme_header, header.split()) == key_columns(header.split(), readme_header), block
    assert {"min_val_loss.dropout", "min_val_loss.no_dropout", "min_val_loss.batchnorm"} <= set(readme_header)


@shares_experiment(DROPOUT_05)
def test_going_back_to_params_already_run_restores_instead_of_training(experiment, built_template, tmp_path):
    run = experiment(DROPOUT_05)
    clone = copy_clone(run.clone, tmp_path)  # a copy: this test changes its params
    assert ran(run.output) == {"check_params", "train_dropout", "summarize"}
    back = clone.dvc("exp", "run", "-S", "dropout=0.3").stdout
    assert "Stage 'train_dropout' is cached - skipping run" in back and "train_dropout" not in ran(back)
    assert clone.summary() == built_template.summary()
