"""The committed results (from `dvc repro` on the real data) land where the notebook's did.

`.ci/run` reruns the whole pipeline on the real data and then runs this file again, so these
assertions hold for fresh results, not only for the committed ones. With several seeds they hold
for the means.
"""

import json
from pathlib import Path

from dlpipe.report.results_table import BEGIN, END, results_table
from dlpipe.train.summary import read_seed_table, run_major
from tests.helpers.readme import exp_show_example, review_example

ROOT = Path(__file__).resolve().parents[1]


def summary() -> dict:
    return run_major(json.loads((ROOT / "metrics/summary.json").read_text()))


def details(stage: str) -> dict:
    return read_seed_table(ROOT / "plots" / stage / "seeds.csv")


def test_dropout_model_matches_the_notebook_and_overfits_less_than_without_dropout():
    m = summary()
    assert 0.17 <= m["dropout"]["min_val_loss"] <= 0.21  # notebook: 0.1923
    assert not m["dropout"]["diverged"]
    assert m["no_dropout"]["overfitting_gap"] > m["dropout"]["overfitting_gap"]
    for seed, dropout in details("train_dropout")["dropout"].items():
        control = details("train_dropout")["no_dropout"][seed]
        assert dropout["epochs_trained"] == control["epochs_trained"] == 50
        # Seed for seed, the network without Dropout ends further above its best validation loss.
        assert control["overfitting_gap"] > dropout["overfitting_gap"]


def test_batchnorm_trains_where_the_plain_network_fails():
    m = summary()
    assert m["batchnorm"]["min_val_loss"] <= 5.0  # notebook: 3.9469
    assert not m["batchnorm"]["diverged"]
    control = m["no_batchnorm"]
    assert control["diverged"] or control["min_val_loss"] >= 3 * m["batchnorm"]["min_val_loss"]


def test_summary_is_the_aggregate_of_the_per_seed_details():
    from dlpipe.train.summary import aggregate

    per_run = {**details("train_dropout"), **details("train_batchnorm")}
    assert summary() == {run: aggregate(seeds) for run, seeds in per_run.items()}


def test_readme_table_is_the_one_generated_from_the_metrics(monkeypatch):
    readme = (ROOT / "README.md").read_text()
    between = readme.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    monkeypatch.chdir(ROOT)  # the table names its files as `--write` does, from the repository root
    assert between == results_table()


def test_docs_exp_show_example_has_the_committed_results_as_main():
    # The example of `dvc exp show` in docs/experiments.md is output pasted from a real run: its `main` row must
    # be the committed results, or it shows numbers nobody gets any more.
    block = exp_show_example()
    lines = block.splitlines()
    header = next(line for line in lines if "Experiment" in line).split()
    main = next(line for line in lines if line.split()[:1] == ["main"]).split()
    # The header has no column for "Created"'s two words (time and AM/PM) but its own: align from the right.
    cells = dict(zip(reversed(header), reversed(main), strict=False))
    committed = json.loads((ROOT / "metrics/summary.json").read_text())
    shown = [c for c in header if c.startswith("min_val_loss.")]
    assert len(shown) >= 3, block
    for column in shown:
        assert float(cells[column]) == float(f"{committed['min_val_loss'][column.split('.', 1)[1]]:.5g}"), column


def test_docs_review_example_is_of_the_committed_results_and_says_where_they_were_made():
    from dlpipe.core import environment

    example = review_example()
    where = environment.summary(environment.parse((ROOT / "plots/train_dropout/environment.json").read_text()))
    assert f"- `main`: {where}" in example
    dropout = json.loads((ROOT / "metrics/summary.json").read_text())
    mean, std = dropout["min_val_loss"]["dropout"], dropout["min_val_loss_std"]["dropout"]
    assert f"| dropout | min_val_loss | {mean:.4f} ± {std:.4f} (3 of 3 seeds) |" in example
    # The review of dropout 0.3 -> 0.5 ends in a verdict with its noise, never "noise unknown".
    row = next(line for line in example.splitlines() if line.startswith("| dropout | min_val_loss |"))
    assert any(f"| {v} (paired t-test, 3 seeds paired: p = " in row for v in ("better", "worse", "within noise"))
