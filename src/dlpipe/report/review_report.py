"""The review report's Markdown: what changed, the notebook's two questions answered for each revision,
the metrics that changed with verdicts that know their noise, then the figures.

Pure functions of the gathered :class:`dlpipe.report.review_data.Review`; nothing here runs `dvc` or draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dlpipe.core.registry import BATCHNORM, DROPOUT, TRAINING_STAGES
from dlpipe.report.comparison import ALPHA, BETTER, HOW_TO_MEASURE, SAME, UNKNOWN, WITHIN_NOISE, WORSE, Comparison
from dlpipe.report.review_data import Review, Side
from dlpipe.train import render
from dlpipe.train.summary import LOWER_IS_BETTER

# A network "barely trains" when its min validation loss is at least this many times the loss of the
# same network with BatchNormalization. The notebook's failing run is NaN, far beyond; between seeds
# the min validation loss moves by a few percent here, so a threefold gap is not noise.
TRAINS_FACTOR = 3.0
COMPARED = ("min_val_loss", "overfitting_gap", "min_val_loss_epoch", "diverged")
JUDGED = (BETTER, WORSE, WITHIN_NOISE)


def _seeds(n: int) -> str:
    return f"{n} seed{'' if n == 1 else 's'}"


def _cell(value: Any) -> str:
    if value is None:
        return render.DASH
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _value(side: Side, run: str, metric: str) -> str:
    """A metric of a run as the report shows it, with the number of seeds behind it."""
    if not side.has(run):
        return render.DASH
    n = side.seed_count(run)
    if metric in LOWER_IS_BETTER:
        sample = side.sample(run, metric)
        if sample.mean is None:
            return f"{render.DASH} ({_seeds(n)})"
        spread = f" ± {render.number(sample.std)}" if sample.std is not None else ""
        return f"{render.number(sample.mean)}{spread} ({_seeds(sample.n)})"
    if metric == "min_val_loss_epoch":
        epochs = sorted({int(v) for v in side.sample(run, metric).values})
        text = render.DASH if not epochs else str(epochs[0]) if len(epochs) == 1 else f"{epochs[0]}–{epochs[-1]}"
        return f"{text} ({_seeds(n)})"
    summary = side.summary.get(run) or {"diverged": False}
    text = render.divergence(summary)
    return text if " seeds" in text else f"{text} ({_seeds(n)})"


def _per_seed(side: Side, run: str, metric: str) -> list[Any]:
    return [s.get(metric) for _, s in sorted(side.seeds.get(run, {}).items())] or [
        side.summary.get(run, {}).get(metric)
    ]


def metric_rows(review: Review) -> tuple[list[str], list[str]]:
    """Markdown rows of the metrics that changed, and the names of those that did not."""
    rows, unchanged = [], []
    for t in TRAINING_STAGES:
        for run in t.runs:
            if not (review.old.has(run) or review.new.has(run)):
                continue
            for metric in COMPARED:
                if metric in LOWER_IS_BETTER:
                    c = Comparison(review.old.sample(run, metric), review.new.sample(run, metric))
                    verdict = c.explain()
                    same = c.verdict == SAME
                    change = render.DASH if c.difference is None else render.signed(c.difference)
                    if c.standard_error is not None:
                        change += f" ± {render.number(c.standard_error)}"
                else:
                    # Descriptive values (an epoch, a yes or no): the same set of values on both sides is
                    # no change, whatever the number of seeds (three seeds that all trained vs one).
                    detail = "diverged_at_epoch" if metric == "diverged" else metric
                    old, new = review.old, review.new
                    same = all(set(_per_seed(old, run, m)) == set(_per_seed(new, run, m)) for m in (metric, detail))
                    verdict, change = ("same" if same else "changed"), render.DASH
                if same:
                    unchanged.append(f"{metric} of {run}")
                    continue
                rows.append(
                    f"| {run} | {metric} | {_value(review.old, run, metric)} | "
                    f"{_value(review.new, run, metric)} | {change} | {verdict} |"
                )
    return rows, unchanged


def _trains(side: Side, run: str) -> bool:
    return side.sample(run, "min_val_loss").n > 0


def answer_dropout(side: Side) -> str:
    """Does Dropout reduce overfitting here? The overfitting gap with Dropout against the run without."""
    rate = side.params.get("dropout")
    if rate == 0:
        return "This revision trains no Dropout (`dropout: 0`): both runs are the same network, nothing to compare."
    reg, ctl = DROPOUT.regularised, DROPOUT.control
    if not (_trains(side, reg) and _trains(side, ctl)):
        return "Cannot tell: a run of this revision has no finite validation loss (or no results at all)."
    gap = Comparison(side.sample(ctl, "overfitting_gap"), side.sample(reg, "overfitting_gap"))
    best = Comparison(side.sample(ctl, "min_val_loss"), side.sample(reg, "min_val_loss"))
    numbers = (
        f"Overfitting gap (final − min validation loss) {_value(side, reg, 'overfitting_gap')} with Dropout({rate}) "
        f"vs {_value(side, ctl, 'overfitting_gap')} without; min validation loss {_value(side, reg, 'min_val_loss')} "
        f"vs {_value(side, ctl, 'min_val_loss')} ({best.verdict}{' with Dropout' if best.verdict in JUDGED else ''})."
    )
    if gap.verdict == UNKNOWN:  # one seed: the direction is known, its significance is not
        smaller = (gap.difference or 0.0) < 0
        lead = f"**{'Yes' if smaller else 'No'} on this seed, noise unknown** ({HOW_TO_MEASURE})."
    elif gap.verdict == WITHIN_NOISE:
        lead = f"**No measurable difference** (Welch p = {gap.p_value:.2g} ≥ {ALPHA})."
    elif gap.verdict in (BETTER, WORSE):
        evidence = f"Welch p = {gap.p_value:.2g}, {gap.old.n} vs {gap.new.n} seeds"
        lead = f"**Yes** ({evidence})." if gap.verdict == BETTER else f"**No: it overfits more** ({evidence})."
    else:
        lead = "**No difference.**"
    return f"{lead} {numbers}"


def answer_batchnorm(side: Side) -> str:
    """Does BatchNormalization let the optimizer train on this data? Against the same network without it."""
    if side.params.get("train_batchnorm.batchnorm") is False:
        return (
            "This revision trains no BatchNormalization model (`train_batchnorm.batchnorm: false`): both runs "
            "are the same network, nothing to compare."
        )
    reg, ctl = BATCHNORM.regularised, BATCHNORM.control
    if not (side.has(reg) and side.has(ctl)):
        return "Cannot tell: this revision has no results for both runs."
    with_bn, without = side.sample(reg, "min_val_loss"), side.sample(ctl, "min_val_loss")
    control, regularised = side.summary.get(ctl, {}), side.summary.get(reg, {})
    both = f"min validation loss {_value(side, ctl, 'min_val_loss')} vs {_value(side, reg, 'min_val_loss')} with it"
    if with_bn.mean is None:
        return f"**No.** With BatchNormalization the network did not train either ({render.divergence(regularised)})."
    if control.get("diverged") and not regularised.get("diverged"):
        return (
            f"**Yes.** With BatchNormalization the min validation loss is {_value(side, reg, 'min_val_loss')}; "
            f"without it the loss became NaN or infinite ({render.divergence(control)}): training failed."
        )
    if without.mean is not None and without.mean >= TRAINS_FACTOR * with_bn.mean:
        return f"**Yes.** Without BatchNormalization the network barely trains: {both} (at least {TRAINS_FACTOR:g}×)."
    c = Comparison(without, with_bn)
    noise = c.explain() if c.verdict != UNKNOWN else "noise unknown"
    return f"**Not needed here.** Without BatchNormalization the network also trains: {both} ({noise})."


def _batchnorm_question(review: Review) -> str:
    params = review.new.params or review.old.params
    optimizer = str(params.get("train_batchnorm.optimizer", "the optimizer")).upper()
    data = "standardised" if params.get("preprocess.standardize_concrete") else "unstandardised"
    return f"Does BatchNormalization let {optimizer} train on the {data} concrete data?"


def _label(side: Side) -> str:
    counts = {side.seed_count(run) for t in TRAINING_STAGES for run in t.runs if side.has(run)}
    seeds = f", {_seeds(max(counts))}" if counts else ", no results"
    return f"`{side.label}`{seeds}"


def markdown(review: Review, figures: Sequence[str], extra: Sequence[str] = ()) -> str:
    """The whole report: params, answers, metrics, then ``figures`` (Markdown lines) and ``extra``."""
    old, new = review.old, review.new
    lines = [f"# Review: `{old.label}` → `{new.label}`", "", "## What changed", ""]
    if review.param_changes:
        lines += [f"| param | {old.label} | {new.label} |", "|---|---|---|"]
        lines += [f"| `{k}` | {_cell(a)} | {_cell(b)} |" for k, a, b in review.param_changes]
    else:
        lines.append("No params changed.")
    lines += ["", "## The notebook's questions", "", "### Does Dropout reduce overfitting here?", ""]
    lines += [f"- {_label(side)}: {answer_dropout(side)}" for side in (new, old)]
    lines += ["", f"### {_batchnorm_question(review)}", ""]
    lines += [f"- {_label(side)}: {answer_batchnorm(side)}" for side in (new, old)]
    rows, unchanged = metric_rows(review)
    lines += [
        "",
        "## Metrics that changed",
        "",
        "Lower loss and gap are better. A verdict needs at least two seeds on each side: *better* or *worse* "
        f"when a two-sided Welch t-test gives p < {ALPHA}, else *within noise*; with one seed on a side the noise "
        "is *unknown*. Values are mean ± standard deviation over the seeds; a change is ± its standard error.",
        "",
    ]
    if rows:
        lines += [f"| run | metric | {old.label} | {new.label} | change | verdict |", "|---|---|---|---|---|---|"]
        lines += rows
    else:
        lines.append("None: every metric of every run is the same.")
    if unchanged:
        lines += ["", f"Unchanged (same values, seed for seed): {', '.join(unchanged)}."]
    lines += ["", "## Loss curves", "", *figures]
    if extra:
        lines += ["", *extra]
    return "\n".join(lines) + "\n"
