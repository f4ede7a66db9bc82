"""The review report's content, from synthetic revisions: answers that know which runs a revision has and
speak seed by seed, verdicts that know their noise, divergence compared as a result, and the answer first."""

from __future__ import annotations

import re

import pytest

from dlpipe.core.dvc_cli import param_changes
from dlpipe.core.environment import describe_here
from dlpipe.core.registry import TRAINING_STAGES
from dlpipe.report.comparison import ALPHA, detectable_effect
from dlpipe.report.review_answers import CONSTANT_PREDICTION_MAE, TRAINS_BELOW, answer_batchnorm, answer_dropout
from dlpipe.report.review_data import Review, Side
from dlpipe.report.review_report import markdown, metric_rows
from dlpipe.train.summary import aggregate
from tests.helpers.readme import page_text

PARAMS = {"dropout": 0.3, "train_batchnorm.batchnorm": True, "train_batchnorm.optimizer": "sgd"}


def seed(min_val: float | None, gap: float = 0.001, epoch: int = 5, diverged_at: int | None = None) -> dict:
    s = {"epochs_trained": 10, "diverged": diverged_at is not None}
    if diverged_at is not None:
        s["diverged_at_epoch"] = diverged_at
    if min_val is not None:
        s.update(min_val_loss=min_val, min_val_loss_epoch=epoch, overfitting_gap=gap, final_loss=0.1)
    return s


# Where a side was computed: the same machine on both sides unless a test says otherwise.
XEON = "vendor_id: GenuineIntel\ncpu family: 6\nmodel: 85\nmodel name: Intel Xeon\nflags: avx2\n"
EPYC = "vendor_id: AuthenticAMD\ncpu family: 25\nmodel: 17\nmodel name: AMD EPYC\nflags: avx2 avx512f\n"


def computed_on(cpuinfo: str) -> dict:
    return {t.stage: describe_here("jax", cpuinfo) for t in TRAINING_STAGES}


def side(
    label: str, runs: dict[str, list[dict] | dict[int, dict]], params: dict | None = None, cpuinfo: str = XEON
) -> Side:
    seeds = {run: dict(values) if isinstance(values, dict) else dict(enumerate(values)) for run, values in runs.items()}
    summary = {run: aggregate(by_seed) for run, by_seed in seeds.items()}
    rev = None if label == "workspace" else label
    return Side(label, rev, {**PARAMS, **(params or {})}, summary, seeds, computed_on(cpuinfo))


def review(
    old: dict, new: dict, old_params: dict | None = None, new_params: dict | None = None, new_cpu: str = XEON
) -> Review:
    a, b = side("main", old, old_params), side("workspace", new, new_params, new_cpu)
    return Review(a, b, param_changes(a.params, b.params), {})


def one_seed(gap_d=0.0006, gap_c=0.0068) -> dict[str, list[dict]]:
    return {
        "dropout": [seed(0.1918, gap_d, 46)],
        "no_dropout": [seed(0.1966, gap_c, 10)],
        "batchnorm": [seed(4.07, 0.76, 98)],
        "no_batchnorm": [seed(None, diverged_at=1)],
    }


def three_seeds(shift: float = 0.0) -> dict[str, list[dict]]:
    # A shift moves each seed a little differently (0.9, 1.0, 1.1 times): real changes are never exactly alike.
    return {
        "dropout": [
            seed(0.190 + shift * k + d, 0.0005 + d / 10, e)
            for d, e, k in ((0, 41, 1.0), (0.001, 44, 1.1), (0.002, 46, 0.9))
        ],
        "no_dropout": [seed(0.196 + d, 0.0070 + d, e) for d, e in ((0, 10), (0.001, 12), (0.002, 9))],
        "batchnorm": [seed(4.0 + d, 0.7, 90) for d in (0, 0.05, 0.1)],
        "no_batchnorm": [seed(None, diverged_at=1), seed(None, diverged_at=1), seed(30.0, 1.0, 3, diverged_at=4)],
    }


def row(rows: list[str], run: str, metric: str) -> str:
    found = [r for r in rows if r.startswith(f"| {run} | {metric} |")]
    assert len(found) == 1, rows
    return found[0]


# The notebook's questions.


def test_one_seed_answers_the_direction_and_says_the_noise_is_unknown():
    text = answer_dropout(side("workspace", one_seed()))
    assert text.startswith("**Yes on this seed, noise unknown** (run several seeds to measure it")
    assert "0.0006 (1 seed) with Dropout(0.3) vs 0.0068 (1 seed) without" in text
    assert "the notebook: 0.1923 with Dropout" in text


def test_several_seeds_give_a_paired_verdict_with_its_evidence_and_the_seed_count():
    text = answer_dropout(side("workspace", three_seeds()))
    evidence = r"paired t-test, 3 seeds paired: p = 0\.\d+, Holm 0\.\d+ over 2 tests; detects [\d.e-]+ \([\d.]+ sd\)"
    assert re.match(rf"\*\*Yes\*\* \({evidence} with 80% power\)\. Overfitting gap", text), text
    assert "0.0006 ± 0.0001 (3 of 3 seeds) with Dropout(0.3)" in text
    assert "smaller with Dropout on 3 of 3 seeds" in text


def test_a_revision_without_the_runs_that_answer_a_question_says_so():
    no_dropout = answer_dropout(side("x", one_seed(), {"dropout": 0}))
    assert "trains no Dropout (`dropout: 0`)" in no_dropout and "Yes" not in no_dropout
    no_bn = answer_batchnorm(side("x", one_seed(), {"train_batchnorm.batchnorm": False}))
    assert "trains no BatchNormalization model (`train_batchnorm.batchnorm: false`)" in no_bn


def test_a_smaller_gap_with_more_seeds_diverged_is_not_a_yes():
    runs = three_seeds()
    runs["no_dropout"] = [seed(0.196 + d, 0.0070 + d, 10) for d in (0, 0.001, 0.002, 0.0015)]
    runs["dropout"] = [seed(0.190 + d, 0.0005 + d / 10, 41) for d in (0, 0.001, 0.002)] + [seed(None, diverged_at=1)]
    text = answer_dropout(side("x", runs))
    assert text.startswith("**Not clearly: more seeds diverged with Dropout** (1 of 4 seeds diverged, against 0 of 4")
    assert "0.0006 ± 0.0001 (3 of 4 seeds; 1 diverged) with Dropout" in text


@pytest.mark.parametrize("missing", ["dropout", "no_dropout"])
def test_a_run_without_results_cannot_answer(missing):
    runs = one_seed()
    del runs[missing]
    assert answer_dropout(side("x", runs)).startswith("Cannot tell")


def test_batchnorm_helps_when_it_trains_and_the_run_without_it_does_not():
    one = answer_batchnorm(side("x", one_seed()))
    assert one.startswith(
        "**Yes.** BN trained: 4.0700 (1 seed); without it no seed trained: seed 0 diverged at epoch 1."
    )
    assert "the notebook: 3.9469 with BatchNormalization, nan (diverged) without" in one
    three = answer_batchnorm(side("x", three_seeds()))
    assert three.startswith("**Yes.** BN trained: 4.0500 ± 0.0500 (3 of 3 seeds); without it no seed trained: ")
    # A seed that reached a loss no better than half a constant prediction's did not train either.
    assert "seed 2 reached only 30.0000, then diverged at epoch 4" in three


def test_batchnorm_that_does_not_train_itself_is_no_answer_however_the_other_run_fails():
    # 10 epochs of SGD: the BN run reaches 30.72 (a constant prediction's MAE is about 13.6); without BN NaN.
    runs = one_seed()
    runs["batchnorm"] = [seed(30.72, 5.0, 10)]
    text = answer_batchnorm(side("x", runs))
    assert text.startswith("**No: with BatchNormalization the network did not train either:** seed 0 reached only")
    assert "30.7200" in text and f"below {TRAINS_BELOW:.2f} (half the MAE of a constant prediction" in text
    assert "**Yes" not in text


def test_a_run_without_batchnorm_that_diverged_late_still_trained():
    # Without BN 3.5, 3.4, 3.6, one of them diverging at epoch 40 after its minimum; with BN 3.92: BN is not needed.
    runs = three_seeds()
    runs["batchnorm"] = [seed(3.92 + d, 0.7, 90) for d in (-0.02, 0, 0.02)]
    runs["no_batchnorm"] = [seed(3.5, 0.2, 30), seed(3.4, 0.2, 31, diverged_at=40), seed(3.6, 0.2, 29)]
    text = answer_batchnorm(side("x", runs))
    assert text.startswith("**Not needed here.** Without BatchNormalization every seed trained: 3.5000 ± 0.1000")
    assert "(3 of 3 seeds; 1 diverged); diverged later, after reaching their minimum: seed 1 at epoch 40" in text
    assert "BN trained: 3.9200 ± 0.0200 (3 of 3 seeds) (worse (paired t-test, 3 seeds paired" in text
    assert "failed" not in text and "**Yes" not in text


def test_one_seed_of_three_failing_without_batchnorm_is_said_per_seed():
    runs = three_seeds()
    runs["batchnorm"] = [seed(3.92 + d, 0.7, 90) for d in (-0.02, 0, 0.02)]
    runs["no_batchnorm"] = [seed(None, diverged_at=1), seed(3.5, 0.2, 30), seed(3.4, 0.2, 31)]
    text = answer_batchnorm(side("x", runs))
    assert text.startswith("**Partly: without it 1 of 3 seeds did not train.** BN trained: 3.9200 ± 0.0200 (3 of 3")
    assert (
        "without it 1 of 3 seeds did not train (seed 0 diverged at epoch 1), the other 2 reached 3.4500 ± 0.0707"
        in text
    )


def test_the_trains_threshold_decides_and_only_for_an_mae_loss():
    runs = one_seed()
    runs["no_batchnorm"] = [seed(TRAINS_BELOW + 0.1, 1.0, 100)]
    assert answer_batchnorm(side("x", runs)).startswith("**Yes.**")
    runs["no_batchnorm"] = [seed(TRAINS_BELOW - 0.1, 1.0, 100)]
    assert answer_batchnorm(side("x", runs)).startswith("**Not needed here.**")
    runs["batchnorm"] = [seed(30.72, 5.0, 10)]
    mse = answer_batchnorm(side("x", runs, {"train_batchnorm.loss": "mse"}))
    assert "the loss is mse, not MAE: the notebook's scale does not apply" in mse and mse.startswith("**Not needed")
    runs["batchnorm"] = [seed(3.9, 0.7, 90), seed(None, diverged_at=3)]
    runs["no_batchnorm"] = [seed(None, diverged_at=1), seed(None, diverged_at=1)]
    assert answer_batchnorm(side("x", runs)).startswith(
        "**Not reliably: with BatchNormalization 1 of 2 seeds trained**"
    )


# The metrics that changed.


def test_metric_rows_show_counts_as_counts_and_seeds_next_to_values():
    rows, _ = metric_rows(review(one_seed(), three_seeds()))
    loss = row(rows, "dropout", "min_val_loss")
    assert "| dropout | min_val_loss | 0.1918 (1 seed) | 0.1910 ± 0.0010 (3 of 3 seeds) |" in loss
    assert "noise unknown (1 seed on a side" in loss
    assert row(rows, "dropout", "min_val_loss_epoch") == (
        "| dropout | min_val_loss_epoch | 46 (1 seed) | 41–46 (3 of 3 seeds) | – | "
        "changed: seed 0: 46 → 41; seeds 1, 2 only in `workspace` |"
    )
    assert row(rows, "no_batchnorm", "diverged_seeds").startswith(
        "| no_batchnorm | diverged_seeds | 1 of 1 seed (seed 0 at epoch 1) | 3 of 3 seeds (seed 0 at epoch 1, "
        "seed 1 at epoch 1, seed 2 at epoch 4) | – | changed: seeds 1, 2 only in `workspace` |"
    )
    # no_batchnorm had no loss at all before, a loss on one seed of three now.
    loss = row(rows, "no_batchnorm", "min_val_loss")
    assert "| – (0 of 1 seed; 1 diverged) | 30.0000 (1 of 3 seeds; 3 diverged) |" in loss and "new: no seed had" in loss
    assert not any(".0000 (" in r for r in rows if "min_val_loss_epoch" in r)


def test_one_more_seed_diverging_is_a_change_named_by_seed():
    old = {"no_batchnorm": [seed(None, diverged_at=1), seed(3.5, 0.2, 30), seed(3.4, 0.2, 31)]}
    new = {"no_batchnorm": [seed(None, diverged_at=1), seed(None, diverged_at=1), seed(3.4, 0.2, 31)]}
    rows, unchanged = metric_rows(review(old, new))
    assert "diverged_seeds of no_batchnorm" not in unchanged
    assert row(rows, "no_batchnorm", "diverged_seeds") == (
        "| no_batchnorm | diverged_seeds | 1 of 3 seeds (seed 0 at epoch 1) | 2 of 3 seeds (seed 0 at epoch 1, "
        "seed 1 at epoch 1) | – | more seeds diverge: seed 1 now diverges (epoch 1) |"
    )
    loss = row(rows, "no_batchnorm", "min_val_loss")
    assert "| 3.4500 ± 0.0707 (2 of 3 seeds; 1 diverged) | 3.4000 (1 of 3 seeds; 2 diverged) |" in loss
    assert "better" not in loss  # one seed with a value left: the noise is unknown, whatever the mean says
    back = metric_rows(review(new, old))[0]
    assert "fewer seeds diverge: seed 1 no longer diverges (was epoch 1)" in row(back, "no_batchnorm", "diverged_seeds")


def test_epochs_are_compared_seed_by_seed_not_as_sets():
    old = {"dropout": [seed(0.19, 0.001, e) for e in (10, 20, 20)]}
    new = {"dropout": [seed(0.19, 0.001, e) for e in (10, 10, 20)]}
    rows, unchanged = metric_rows(review(old, new))
    assert row(rows, "dropout", "min_val_loss_epoch").endswith("| – | changed: seed 1: 20 → 10 |")
    assert "min_val_loss_epoch of dropout" not in unchanged
    assert unchanged == ["min_val_loss of dropout", "overfitting_gap of dropout", "diverged_seeds of dropout"]


def test_the_unchanged_list_names_only_metrics_both_sides_have():
    diverged = {
        "no_batchnorm": [seed(None, diverged_at=1)] * 3,
        "batchnorm": [seed(4.0 + d, 0.7, 90) for d in (0, 0.1, 0.2)],
    }
    rows, unchanged = metric_rows(review(diverged, diverged))
    assert rows == []
    assert "diverged_seeds of no_batchnorm" in unchanged and "min_val_loss of batchnorm" in unchanged
    assert not any(name.endswith("of no_batchnorm") and not name.startswith("diverged_seeds") for name in unchanged)


def test_a_lower_loss_with_more_seeds_diverged_is_not_better():
    old = {"no_batchnorm": [seed(3.5), seed(3.4), seed(3.6), seed(3.45)]}
    trained = {"no_batchnorm": [seed(3.3), seed(3.21), seed(3.39), seed(3.25)]}
    rows, _ = metric_rows(review(old, trained))
    assert "| better (paired t-test, 4 seeds paired: p = " in row(rows, "no_batchnorm", "min_val_loss")
    one_diverged = {"no_batchnorm": [seed(3.3), seed(3.21), seed(3.39), seed(None, diverged_at=1)]}
    rows, _ = metric_rows(review(old, one_diverged))
    capped = row(rows, "no_batchnorm", "min_val_loss")
    assert (
        "| not better (1 of 4 seeds diverged, against 0 of 4 seeds: lower only over the seeds that trained; " in capped
    )
    assert "paired t-test, 3 seeds paired: p = " in capped and "| better" not in capped


def test_real_changes_get_verdicts_from_the_reports_one_family_of_tests():
    rows, unchanged = metric_rows(review(three_seeds(), three_seeds(shift=-0.02)))
    assert len(rows) == 1, rows
    assert re.search(r"\| better \(paired t-test, 3 seeds paired: p = [\d.e-]+, Holm [\d.e-]+ over \d+ tests;", rows[0])
    assert {"min_val_loss of no_dropout", "min_val_loss_epoch of dropout", "diverged_seeds of no_batchnorm"} <= set(
        unchanged
    )


def test_a_revision_without_a_seeds_table_is_paired_by_the_seed_its_params_name():
    per_seed = one_seed()
    details = side("workspace", per_seed)
    for params in ({"seeds": [0]}, {"seed": 0}):  # `seed: 0` before the seeds param
        summary_only = Side(
            "old", "old", {**PARAMS, **params}, {r: aggregate(dict(enumerate(s))) for r, s in per_seed.items()}
        )
        rows, unchanged = metric_rows(Review(summary_only, details, [], {}))
        assert rows == [] and "min_val_loss of dropout" in unchanged


# The whole report.


def test_the_report_leads_with_the_answer_and_says_how_it_judges():
    rv = review(one_seed(), one_seed(gap_d=0.0009), new_params={"dropout": 0.5})
    text = markdown(rv, ["![f](f.png)"])
    order = [
        text.index(h)
        for h in ("## What changed", "## The notebook's questions", "## Metrics that changed", "## Loss curves")
    ]
    assert order == sorted(order)
    assert "| `dropout` | 0.3 | 0.5 |" in text
    assert "### Does BatchNormalization let SGD train on the unstandardised concrete data?" in text
    assert "- `workspace`, 1 seed: **Yes on this seed" in text and "- `main`, 1 seed:" in text
    assert "Unchanged (same values, seed for seed): " in text
    assert "paired t-test" in text and "sign test" in text and "*not better* when more seeds diverged" in text


def test_the_loss_curves_say_which_seeds_diverged_where_the_charts_only_end():
    text = markdown(review(one_seed(), three_seeds()), ["![dropout_loss](dropout_loss.png)"])
    curves = text.split("## Loss curves", 1)[1]
    named = [line for line in curves.splitlines() if line.startswith("- ")]
    # Only the run with a diverged seed, both revisions with their seeds and epochs; then DVC's charts.
    assert named == [
        "- `no_batchnorm`: `main` 1 of 1 seed (seed 0 at epoch 1); "
        "`workspace` 3 of 3 seeds (seed 0 at epoch 1, seed 1 at epoch 1, seed 2 at epoch 4)"
    ]
    assert curves.index("no_batchnorm") < curves.index("![dropout_loss](dropout_loss.png)")
    runs = {**one_seed(), "no_batchnorm": [seed(3.5, 0.2, 30)]}
    text = markdown(review(runs, runs), ["![dropout_loss](dropout_loss.png)"])
    assert "Diverged seeds" not in text and text.endswith("## Loss curves\n\n![dropout_loss](dropout_loss.png)\n")


def test_the_answers_and_the_rows_share_the_reports_family_of_tests():
    text = markdown(review(three_seeds(), three_seeds(shift=-0.02)), [])
    tests = int(re.search(r"Holm's adjustment over the (\d+) tests of this report", text).group(1))
    assert tests > 2  # the metric that changed and both revisions' answers
    verdicts = re.findall(r"Holm [\d.e-]+ over (\d+) tests", text)
    assert verdicts and set(verdicts) == {str(tests)}


def test_the_docs_state_the_reports_numbers():
    review = page_text("experiments.md")
    assert f"`TRAINS_BELOW` = {TRAINS_BELOW:.2f}, half the MAE of a constant prediction" in review
    assert f"on the concrete validation set ({CONSTANT_PREDICTION_MAE};" in review
    six_tests = round(detectable_effect(3, ALPHA / 6))
    statistics = page_text("seeds-and-statistics.md")
    assert f"at 3 seeds and six tests, about {six_tests} standard deviations of the differences" in statistics


# Where each side was computed.


def test_the_report_says_where_each_side_was_computed_first():
    text = markdown(review(one_seed(), one_seed(), new_cpu=EPYC), [])
    where = text.split("## Where each side was computed", 1)[1].split("## What changed", 1)[0]
    assert "- `main`: Intel Xeon (family 6 model 85, AVX2)" in where
    assert "- `workspace`: AMD EPYC (family 25 model 17, AVX-512)" in where
    # The same values seed for seed: nothing to blame on either machine, no warning.
    assert "Not comparable" not in text and "None: every metric of every run is the same" in text


def test_results_that_differ_between_two_machines_get_no_verdict_and_a_warning_on_top():
    # The same code and seeds on an EPYC: batchnorm's last bits differ (3.9193 at epoch 82 against 3.9125 at 92).
    old = {**one_seed(), "batchnorm": [seed(3.9125, epoch=92)]}
    new = {**one_seed(), "batchnorm": [seed(3.9193, epoch=82)]}
    text = markdown(review(old, new, new_cpu=EPYC), [])
    top = text.split("## What changed", 1)[0]
    assert "**Not comparable here: the two sides were computed in different environments** for `train_batchnorm`" in top
    assert "--old main --rebuild-old" in top
    rows = [line for line in text.splitlines() if line.startswith("| batchnorm |")]
    assert rows and all("not compared: computed in different environments" in row for row in rows)
    assert not any(word in row for row in rows for word in ("better", "worse", "within noise"))
    # The dropout runs, the same on both machines, are not named in the warning.
    assert "`train_dropout`" not in top


def test_the_same_difference_on_one_machine_is_compared():
    old = {**one_seed(), "batchnorm": [seed(3.9125, epoch=92)]}
    new = {**one_seed(), "batchnorm": [seed(3.9193, epoch=82)]}
    text = markdown(review(old, new), [])
    assert "Not comparable" not in text
    row = next(line for line in text.splitlines() if line.startswith("| batchnorm | min_val_loss |"))
    assert "noise unknown" in row  # one seed a side: judged, and honest about its noise


def test_a_side_that_recorded_no_environment_is_not_compared_with_one_that_did():
    old = {**one_seed(), "batchnorm": [seed(3.9125, epoch=92)]}
    new = {**one_seed(), "batchnorm": [seed(3.9193, epoch=82)]}
    r = review(old, new)
    unrecorded = Review(Side(r.old.label, r.old.rev, r.old.params, r.old.summary, r.old.seeds), r.new, [], {})
    text = markdown(unrecorded, [])
    assert "- `main`: not recorded" in text
    assert "(where a side was computed is not recorded)" in text


def test_the_report_opens_with_one_line_of_what_got_better_or_worse_and_how_many_losses_are_noise():
    # Three seeds, dropout's min validation loss clearly lower on every seed; the rest the same seed for seed.
    text = markdown(review(three_seeds(), three_seeds(shift=-0.01)), [])
    short = text.splitlines()[2]
    assert text.index(short) < text.index("## What changed")
    assert short.startswith("**In short:** better: min_val_loss of dropout;"), short
    assert "worse" not in short and "same: " in short and short.endswith(".")
    # Differing machines: the runs they explain are named as not compared, never judged.
    old = {**one_seed(), "batchnorm": [seed(3.9125, epoch=92)]}
    new = {**one_seed(), "batchnorm": [seed(3.9193, epoch=82)]}
    short = markdown(review(old, new, new_cpu=EPYC), []).splitlines()[2]
    assert short.endswith("not compared (computed in different environments): batchnorm, no_batchnorm."), short
    assert short.startswith("**In short:** same: 4 losses;"), short  # the dropout runs, the same seed for seed
