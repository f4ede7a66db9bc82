"""The review report's content, from synthetic revisions: answers that know which runs a revision has,
verdicts that know their noise, counts printed as counts, and the answer first."""

from __future__ import annotations

import re

import pytest

from dlpipe.report.review_data import Review, Side, param_changes
from dlpipe.report.review_report import TRAINS_FACTOR, answer_batchnorm, answer_dropout, markdown, metric_rows
from dlpipe.train.summary import aggregate

PARAMS = {"dropout": 0.3, "train_batchnorm.batchnorm": True, "train_batchnorm.optimizer": "sgd"}


def seed(min_val: float | None, gap: float = 0.001, epoch: int = 5, diverged_at: int | None = None) -> dict:
    s = {"epochs_trained": 10, "diverged": diverged_at is not None}
    if diverged_at is not None:
        s["diverged_at_epoch"] = diverged_at
    if min_val is not None:
        s.update(min_val_loss=min_val, min_val_loss_epoch=epoch, overfitting_gap=gap, final_loss=0.1)
    return s


def side(label: str, runs: dict[str, list[dict]], params: dict | None = None) -> Side:
    seeds = {run: dict(enumerate(values)) for run, values in runs.items()}
    summary = {run: aggregate(by_seed) for run, by_seed in seeds.items()}
    return Side(label, None if label == "workspace" else label, {**PARAMS, **(params or {})}, summary, seeds)


def one_seed(gap_d=0.0006, gap_c=0.0068) -> dict[str, list[dict]]:
    return {
        "dropout": [seed(0.1918, gap_d, 46)],
        "no_dropout": [seed(0.1966, gap_c, 10)],
        "batchnorm": [seed(4.07, 0.76, 98)],
        "no_batchnorm": [seed(None, diverged_at=1)],
    }


def three_seeds(shift: float = 0.0) -> dict[str, list[dict]]:
    return {
        "dropout": [seed(0.190 + shift + d, 0.0005 + d / 10, e) for d, e in ((0, 41), (0.001, 44), (0.002, 46))],
        "no_dropout": [seed(0.196 + d, 0.0070 + d, e) for d, e in ((0, 10), (0.001, 12), (0.002, 9))],
        "batchnorm": [seed(4.0 + d, 0.7, 90) for d in (0, 0.05, 0.1)],
        "no_batchnorm": [seed(None, diverged_at=1), seed(None, diverged_at=1), seed(30.0, 1.0, 3, diverged_at=4)],
    }


def test_one_seed_answers_the_direction_and_says_the_noise_is_unknown():
    text = answer_dropout(side("workspace", one_seed()))
    assert text.startswith("**Yes on this seed, noise unknown** (run several seeds to measure it")
    assert "0.0006 (1 seed) with Dropout(0.3) vs 0.0068 (1 seed) without" in text


def test_several_seeds_give_a_verdict_with_its_evidence():
    text = answer_dropout(side("workspace", three_seeds()))
    assert re.match(r"\*\*Yes\*\* \(Welch p = 0\.\d+, 3 vs 3 seeds\)\. Overfitting gap", text), text
    assert "± " in text and "(3 seeds)" in text


def test_a_revision_without_the_runs_that_answer_a_question_says_so():
    no_dropout = answer_dropout(side("x", one_seed(), {"dropout": 0}))
    assert "trains no Dropout (`dropout: 0`)" in no_dropout and "Yes" not in no_dropout
    no_bn = answer_batchnorm(side("x", one_seed(), {"train_batchnorm.batchnorm": False}))
    assert "trains no BatchNormalization model (`train_batchnorm.batchnorm: false`)" in no_bn


def test_batchnorm_answers_from_divergence_from_the_named_factor_or_not_needed():
    assert answer_batchnorm(side("x", one_seed())).startswith("**Yes.** With BatchNormalization the min")
    several = answer_batchnorm(side("x", three_seeds()))
    assert "3 of 3 seeds, first at epoch 1" in several
    runs = one_seed()
    runs["no_batchnorm"] = [seed(4.07 * TRAINS_FACTOR + 1, 1.0, 100)]
    assert "barely trains" in answer_batchnorm(side("x", runs)) and "at least 3×" in answer_batchnorm(side("x", runs))
    runs["no_batchnorm"] = [seed(4.5, 1.0, 100)]
    assert answer_batchnorm(side("x", runs)).startswith("**Not needed here.**")


def test_metric_rows_show_counts_as_counts_and_seeds_next_to_values():
    old, new = side("main", one_seed()), side("workspace", three_seeds())
    rows, unchanged = metric_rows(Review(old, new, param_changes(old.params, new.params), {}))
    table = "\n".join(rows)
    # One seed that trained against three that all trained: no change in divergence.
    assert "diverged of dropout" in unchanged and "| dropout | diverged |" not in table
    assert "| dropout | min_val_loss | 0.1918 (1 seed) | 0.1910 ± 0.0010 (3 seeds) |" in table
    assert "noise unknown (1 seed on a side" in table
    assert "| dropout | min_val_loss_epoch | 46 (1 seed) | 41–46 (3 seeds) |" in table
    assert "| no_batchnorm | diverged | yes, epoch 1 (1 seed) | 3 of 3 seeds, first at epoch 1 |" in table
    assert ".0000 (" not in table.split("min_val_loss_epoch")[1].split("\n")[0]


def test_unchanged_metrics_are_one_line_and_real_changes_get_verdicts():
    old, new = side("main", three_seeds()), side("workspace", three_seeds(shift=-0.02))
    rows, unchanged = metric_rows(Review(old, new, [], {}))
    assert len(rows) == 1 and rows[0].startswith("| dropout | min_val_loss |")
    assert "better (Welch t-test, 3 vs 3 seeds: p = " in rows[0]
    assert "min_val_loss of no_dropout" in unchanged and "diverged of no_batchnorm" in unchanged


def test_the_report_leads_with_the_answer():
    old, new = side("main", one_seed()), side("workspace", one_seed(gap_d=0.0009), {"dropout": 0.5})
    text = markdown(Review(old, new, param_changes(old.params, new.params), {}), ["![f](f.png)"])
    order = [
        text.index(h)
        for h in ("## What changed", "## The notebook's questions", "## Metrics that changed", "## Loss curves")
    ]
    assert order == sorted(order)
    assert "| `dropout` | 0.3 | 0.5 |" in text
    assert "### Does BatchNormalization let SGD train on the unstandardised concrete data?" in text
    assert "- `workspace`, 1 seed: **Yes on this seed" in text and "- `main`, 1 seed:" in text
    assert "Unchanged (same values, seed for seed): " in text


@pytest.mark.parametrize("missing", ["dropout", "no_dropout"])
def test_a_run_without_results_cannot_answer(missing):
    runs = one_seed()
    del runs[missing]
    assert answer_dropout(side("x", runs)).startswith("Cannot tell")
