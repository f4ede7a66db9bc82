"""The notebook's two questions, answered for one revision, seed by seed and on the notebook's scale:
does Dropout reduce overfitting here, and does BatchNormalization let the optimizer train on the
concrete data?"""

from __future__ import annotations

from collections.abc import Mapping

from dlpipe.core.registry import BATCHNORM, DROPOUT
from dlpipe.display import render
from dlpipe.report import notebook
from dlpipe.report.comparison import (
    BETTER,
    HOW_TO_MEASURE,
    UNKNOWN,
    WITHIN_NOISE,
    WORSE,
    Comparison,
    Judgement,
    Sample,
    Seed,
    judge,
)
from dlpipe.report.review_data import Side
from dlpipe.report.review_text import NOT_BETTER, cap_reason, in_seed_order, mean_text, over, seed_name, value_text

# The concrete target's scale. Predicting the same number for every row (the training targets' median)
# gives a validation MAE of 13.57 on the notebook's split (a random 70 % for training, seed 0); the
# notebook's BatchNormalization run reaches 3.9469, its run without it NaN.
CONSTANT_PREDICTION_MAE = 13.57

# A concrete run "trains" when its min validation MAE is below half of a constant prediction's: it has
# learned at least half of what a constant misses. The notebook's BN run is far below (3.95); a run that
# diverges has no finite loss, and one that stays near a constant prediction (10 epochs of SGD with
# BatchNormalization: 30.7, worse than a constant) has not trained. Only meaningful for an MAE loss.
TRAINS_BELOW = CONSTANT_PREDICTION_MAE / 2

# The Dropout answer's lead for each verdict a test gave the overfitting gap.
DROPOUT_LEADS = {BETTER: "Yes", WORSE: "No: it overfits more", WITHIN_NOISE: "No measurable difference"}


def dropout_comparisons(side: Side) -> tuple[Comparison, Comparison] | None:
    """(overfitting gap, min validation loss) of the run without Dropout (old) against the run with it
    (new), seed by seed; None when this revision cannot answer."""
    reg, ctl = DROPOUT.regularised, DROPOUT.control
    if side.params.get("dropout") == 0 or not all(side.sample(run, "min_val_loss").n for run in (reg, ctl)):
        return None
    gap = Comparison(side.sample(ctl, "overfitting_gap"), side.sample(reg, "overfitting_gap"))
    return gap, Comparison(side.sample(ctl, "min_val_loss"), side.sample(reg, "min_val_loss"))


def answer_dropout(side: Side, verdicts: Mapping[Comparison, Judgement] | None = None) -> str:
    """Does Dropout reduce overfitting here? The overfitting gap with Dropout against the run without,
    seed by seed. ``verdicts``: the report's; alone, the answer's two comparisons are its family."""
    rate = side.params.get("dropout")
    if rate == 0:
        return "This revision trains no Dropout (`dropout: 0`): both runs are the same network, nothing to compare."
    pair = dropout_comparisons(side)
    if pair is None:
        return "Cannot tell: a run of this revision has no finite validation loss (or no results at all)."
    gap, best = pair
    verdicts = judge(pair) if verdicts is None else verdicts
    g, b = verdicts[gap], verdicts[best]
    reg, ctl = DROPOUT.regularised, DROPOUT.control
    best_verdict = f"{b.verdict} with Dropout" if b.verdict in (BETTER, WORSE, WITHIN_NOISE) else b.verdict
    if cap_reason(b, (side, ctl), (side, reg)):
        best_verdict = f"{NOT_BETTER} with Dropout: lower only over the seeds that trained, more diverged"
    direction = ""
    if len(gap.pairs) > 1:  # seed by seed, over the seeds both runs have
        old, new = gap.old.seed_values(), gap.new.seed_values()
        direction = f", smaller with Dropout on {sum(new[s] < old[s] for s in gap.pairs)} of {len(gap.pairs)} seeds"
    numbers = (
        f"Overfitting gap (final − min validation loss) {value_text(side, reg, 'overfitting_gap')} with "
        f"Dropout({rate}) vs {value_text(side, ctl, 'overfitting_gap')} without{direction}; "
        f"min validation loss {value_text(side, reg, 'min_val_loss')} vs {value_text(side, ctl, 'min_val_loss')} "
        f"({best_verdict}; the notebook: {notebook.reference(reg)} with Dropout)."
    )
    why = cap_reason(g, (side, ctl), (side, reg))
    if g.verdict == UNKNOWN:  # one seed: the direction is known, its significance is not
        smaller = (gap.difference or 0.0) < 0
        lead = f"**{'Yes' if smaller else 'No'} on this seed, noise unknown** ({HOW_TO_MEASURE})."
    elif why:
        lead = f"**Not clearly: more seeds diverged with Dropout** ({why}; {g.evidence()})."
    elif g.verdict in DROPOUT_LEADS:
        lead = f"**{DROPOUT_LEADS[g.verdict]}** ({g.evidence()})."
    else:
        lead = "**No difference.**"
    return f"{lead} {numbers}"


def _threshold(side: Side) -> float | None:
    """The min validation loss below which a concrete run has trained; None when the loss is not MAE."""
    return TRAINS_BELOW if side.params.get("train_batchnorm.loss", "mae") == "mae" else None


def _trained(side: Side, run: str) -> dict[Seed, float]:
    """The seeds of ``run`` that trained (see :data:`TRAINS_BELOW`), with their min validation loss."""
    below = _threshold(side)
    values = side.per_seed(run, "min_val_loss")
    return {s: v for s, v in values.items() if v is not None and (below is None or v < below)}


def _failures(side: Side, run: str) -> str:
    """How each seed of ``run`` that did not train failed: ``seed 0 diverged at epoch 1, seed 2 reached only …``."""
    trained, states, values = _trained(side, run), side.divergence(run), side.per_seed(run, "min_val_loss")
    out = []
    for seed in in_seed_order(s for s in values if s not in trained):
        at, value = states.get(seed), values[seed]
        if value is None:
            out.append(f"{seed_name(seed)} diverged at epoch {at}")
        else:
            then = f", then diverged at epoch {at}" if at is not None else ""
            out.append(f"{seed_name(seed)} reached only {render.number(value)}{then}")
    return ", ".join(out)


def _late_divergence(side: Side, run: str) -> str:
    """``; seed 1 diverged later, at epoch 40, after its minimum`` for the seeds that trained, then diverged."""
    trained, states = _trained(side, run), side.divergence(run)
    late = [f"{seed_name(s)} at epoch {states[s]}" for s in in_seed_order(trained) if states.get(s) is not None]
    return f"; diverged later, after reaching their minimum: {', '.join(late)}" if late else ""


def _bar(side: Side) -> str:
    below = _threshold(side)
    if below is None:
        loss = side.params.get("train_batchnorm.loss")
        return f"a finite loss (the loss is {loss}, not MAE: the notebook's scale does not apply)"
    return f"below {below:.2f} (half the MAE of a constant prediction, {CONSTANT_PREDICTION_MAE})"


def batchnorm_comparison(side: Side) -> Comparison | None:
    """Without BatchNormalization (old) against with it (new), min validation loss seed by seed: only
    when every seed of both runs trained (otherwise the answer is about training, not a loss)."""
    reg, ctl = BATCHNORM.regularised, BATCHNORM.control
    if side.params.get("train_batchnorm.batchnorm") is False or not (side.has(reg) and side.has(ctl)):
        return None
    if any(len(_trained(side, run)) < side.seed_count(run) for run in (reg, ctl)):
        return None
    return Comparison(side.sample(ctl, "min_val_loss"), side.sample(reg, "min_val_loss"))


def answer_batchnorm(side: Side, verdicts: Mapping[Comparison, Judgement] | None = None) -> str:
    """Does BatchNormalization let the optimizer train on this data? Seed by seed: the BN run must itself
    train (min validation loss below :data:`TRAINS_BELOW`), then the run without it is compared."""
    if side.params.get("train_batchnorm.batchnorm") is False:
        return (
            "This revision trains no BatchNormalization model (`train_batchnorm.batchnorm: false`): both runs "
            "are the same network, nothing to compare."
        )
    reg, ctl = BATCHNORM.regularised, BATCHNORM.control
    if not (side.has(reg) and side.has(ctl)):
        return "Cannot tell: this revision has no results for both runs."
    n_bn, n_ctl = side.seed_count(reg), side.seed_count(ctl)
    bn, without = _trained(side, reg), _trained(side, ctl)
    scale = (
        f"Trained means a min validation loss {_bar(side)}; the notebook: {notebook.reference(reg)} with "
        f"BatchNormalization, {notebook.reference(ctl)} without."
    )
    late = _late_divergence(side, ctl)
    if len(without) == n_ctl:
        control = f"every seed trained: {mean_text(Sample.of(without))} {over(side, ctl, len(without))}{late}"
    elif without:
        control = (
            f"{n_ctl - len(without)} of {render.count(n_ctl, 'seed')} did not train ({_failures(side, ctl)}), "
            f"the other {len(without)} reached {mean_text(Sample.of(without))}{late}"
        )
    else:
        control = f"no seed trained: {_failures(side, ctl)}"
    trained = f"BN trained: {mean_text(Sample.of(bn))} {over(side, reg, len(bn))}{_late_divergence(side, reg)}"
    if not bn:
        lead = f"**No: with BatchNormalization the network did not train either:** {_failures(side, reg)}"
    elif len(bn) < n_bn:
        lead = (
            f"**Not reliably: with BatchNormalization {len(bn)} of {render.count(n_bn, 'seed')} trained** "
            f"({mean_text(Sample.of(bn))}), {_failures(side, reg)}"
        )
    elif not without:
        lead = f"**Yes.** {trained}"
    elif len(without) < n_ctl:
        lead = (
            f"**Partly: without it {n_ctl - len(without)} of {render.count(n_ctl, 'seed')} did not train.** {trained}"
        )
    else:  # every seed of both runs trained: their losses compare
        c = batchnorm_comparison(side)
        assert c is not None
        j = (judge([c]) if verdicts is None else verdicts)[c]
        verdict = j.explain() if j.verdict != UNKNOWN else UNKNOWN
        return f"**Not needed here.** Without BatchNormalization {control}; {trained} ({verdict}). {scale}"
    return f"{lead}; without it {control}. {scale}"
