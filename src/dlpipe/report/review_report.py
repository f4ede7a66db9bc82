"""The review report's Markdown: what changed, the notebook's two questions answered for each revision,
the metrics that changed with verdicts that know their noise, then the loss curves: which seeds diverged,
and the figures.

Every value is compared seed by seed (both sides train the same seeds), divergence is a result of its
own (``diverged_seeds``), and all the tested comparisons of one report, the answers' included, are judged
together (:func:`dlpipe.report.comparison.judge`). Pure functions of the gathered
:class:`dlpipe.report.review_data.Review`; nothing here runs `dvc` or draws.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dlpipe.core.registry import TRAINING_STAGES
from dlpipe.display import render
from dlpipe.report.comparison import (
    ALPHA,
    BETTER,
    GONE,
    NEW,
    POWER,
    SAME,
    UNKNOWN,
    WORSE,
    Comparison,
    Judgement,
    Seed,
    judge,
)
from dlpipe.report.review_answers import answer_batchnorm, answer_dropout, batchnorm_comparison, dropout_comparisons
from dlpipe.report.review_data import Review, Side
from dlpipe.report.review_text import (
    NOT_BETTER,
    NOT_COMPARED,
    cap_reason,
    diverged_lines,
    diverged_share,
    in_seed_order,
    seed_name,
    value_text,
    where_computed,
)
from dlpipe.train.summary import LOWER_IS_BETTER

# What the report compares, per run: two losses by a test, the epoch and divergence seed by seed.
COMPARED = ("min_val_loss", "overfitting_gap", "min_val_loss_epoch", "diverged_seeds")


def _runs(review: Review) -> list[str]:
    """The runs either revision has, in the registry's order."""
    return [run for t in TRAINING_STAGES for run in t.runs if review.old.has(run) or review.new.has(run)]


def _not_compared(review: Review) -> set[str]:
    """The runs whose two sides were computed in different environments: the machine alone could explain them."""
    stages = review.machine_differences()
    return {run for t in TRAINING_STAGES if t.stage in stages for run in t.runs}


def _loss(review: Review, run: str, metric: str) -> Comparison:
    return Comparison(review.old.sample(run, metric), review.new.sample(run, metric))


def report_verdicts(review: Review) -> dict[Comparison, Judgement]:
    """Every comparison the report judges (the losses of the runs compared and both revisions' answers),
    each with its verdict in the one family of the report's tests (Holm across all of them)."""
    skip = _not_compared(review)
    comparisons = [_loss(review, run, m) for run in _runs(review) if run not in skip for m in LOWER_IS_BETTER]
    for side in (review.new, review.old):
        comparisons += [*(dropout_comparisons(side) or ()), *filter(None, [batchnorm_comparison(side)])]
    return judge(comparisons)


def in_short(review: Review, verdicts: Mapping[Comparison, Judgement]) -> str:
    """One line for the top of the report: which losses got better or worse, how many are within noise, the
    same or of unknown noise, and which runs were not compared (computed in different environments)."""
    skip = _not_compared(review)
    found: dict[str, list[str]] = {}
    for run in (run for run in _runs(review) if run not in skip):
        for metric in LOWER_IS_BETTER:
            loss = _loss(review, run, metric)
            if loss.old.values or loss.new.values:  # a run that diverged at once on both sides has no loss
                judgement = verdicts.get(loss)
                found.setdefault(judgement.verdict if judgement else UNKNOWN, []).append(f"{metric} of {run}")
    named = [f"{v}: {', '.join(found.pop(v))}" for v in (BETTER, WORSE) if v in found]
    counted = [f"{v}: {len(found[v])} {'loss' if len(found[v]) == 1 else 'losses'}" for v in sorted(found)]
    if skip:
        counted.append(f"not compared (computed in different environments): {', '.join(sorted(skip))}")
    return "**In short:** " + "; ".join(named + counted) + "."


def _row(review: Review, run: str, metric: str, change: str, verdict: str) -> str:
    old, new = value_text(review.old, run, metric), value_text(review.new, run, metric)
    return f"| {run} | {metric} | {old} | {new} | {change} | {verdict} |"


def _loss_row(review: Review, run: str, metric: str, c: Comparison, j: Judgement | None) -> str | None:
    """A loss's row: its change ± standard error and its verdict ``j`` in the report (None: the run is not
    compared); None when it is the same seed for seed."""
    if c.status == SAME:
        return None
    change = render.DASH if c.difference is None else render.signed(c.difference)
    if c.test is not None and c.test.standard_error is not None:
        change += f" ± {render.number(c.test.standard_error)}"
    if j is None:
        return _row(review, run, metric, change, NOT_COMPARED)
    why = cap_reason(j, (review.old, run), (review.new, run))
    if why:
        verdict = f"{NOT_BETTER} ({why}; {j.evidence()})"
    elif j.verdict == NEW and review.old.has(run):
        verdict = f"{NEW}: no seed had a value before"
    elif j.verdict == GONE and review.new.has(run):
        verdict = f"{GONE}: no seed has a value now"
    else:
        verdict = j.explain()
    return _row(review, run, metric, change, verdict)


def _seed_change(metric: str, seed: Seed, old: Any, new: Any) -> str:
    name = seed_name(seed)
    if metric != "diverged_seeds":
        return f"{name}: {render.DASH if old is None else old} → {render.DASH if new is None else new}"
    if old is None:
        return f"{name} now diverges (epoch {new})"
    if new is None:
        return f"{name} no longer diverges (was epoch {old})"
    return f"{name} diverges at epoch {new}, was {old}"


def _seed_row(review: Review, run: str, metric: str, compared: bool) -> str | None:
    """The epoch's or divergence's row: the seeds whose value differs, then those on one side only; None when
    every seed is the same."""
    old, new = review.old, review.new
    divergence = metric == "diverged_seeds"
    a, b = (
        (old.divergence(run), new.divergence(run))
        if divergence
        else (old.per_seed(run, metric), new.per_seed(run, metric))
    )
    if a == b:
        return None
    parts = [_seed_change(metric, s, a[s], b[s]) for s in in_seed_order(a.keys() & b.keys()) if a[s] != b[s]]
    for only, side in ((a.keys() - b.keys(), old), (b.keys() - a.keys(), new)):
        if only:
            seeds = in_seed_order(only)
            names = seed_name(seeds[0]) if len(seeds) == 1 else "seeds " + ", ".join(str(s) for s in seeds)
            parts.append(f"{names} only in `{side.label}`")
    detail = "; ".join(parts)
    if not compared:
        verdict = f"{NOT_COMPARED}: {detail}"
    elif not old.has(run) or not new.has(run):
        verdict = NEW if new.has(run) else GONE
    elif divergence and diverged_share(new, run) != diverged_share(old, run):
        verdict = (
            f"{'more' if diverged_share(new, run) > diverged_share(old, run) else 'fewer'} seeds diverge: {detail}"
        )
    else:
        verdict = f"changed: {detail}"
    return _row(review, run, metric, render.DASH, verdict)


def metric_rows(review: Review, verdicts: Mapping[Comparison, Judgement] | None = None) -> tuple[list[str], list[str]]:
    """Markdown rows of the metrics that changed, and the names of those that are the same seed for seed.

    A metric no seed has on either side (the losses of a run whose every seed diverged at once) is in
    neither. ``verdicts``: the report's (:func:`report_verdicts`), computed here when not given."""
    verdicts = report_verdicts(review) if verdicts is None else verdicts
    skip = _not_compared(review)
    rows, unchanged = [], []
    for run in _runs(review):
        for metric in COMPARED:
            if metric != "diverged_seeds" and not any(side.sample(run, metric).n for side in (review.old, review.new)):
                continue  # no seed has a value on either side
            if metric in LOWER_IS_BETTER:
                c = _loss(review, run, metric)
                row = _loss_row(review, run, metric, c, None if run in skip else verdicts[c])
            else:
                row = _seed_row(review, run, metric, run not in skip)
            if row is None:
                unchanged.append(f"{metric} of {run}")
            else:
                rows.append(row)
    return rows, unchanged


def _batchnorm_question(review: Review) -> str:
    params = review.new.params or review.old.params
    optimizer = str(params.get("train_batchnorm.optimizer", "the optimizer")).upper()
    data = "standardised" if params.get("preprocess.standardize_concrete") else "unstandardised"
    return f"Does BatchNormalization let {optimizer} train on the {data} concrete data?"


def _label(side: Side) -> str:
    counts = {side.seed_count(run) for t in TRAINING_STAGES for run in t.runs if side.has(run)}
    seeds = f", {render.count(max(counts), 'seed')}" if counts else ", no results"
    return f"`{side.label}`{seeds}"


def _method(tests: int) -> str:
    """The paragraph that says how the verdicts are reached, with this report's number of tests."""
    if tests > 1:
        judged_by = (
            f"*Better* or *worse* need p < {ALPHA} after Holm's adjustment over the {tests} tests of this report "
            f"(the answers above included), which keeps the chance of any false *better* or *worse* in it at "
            f"{ALPHA:.0%}; a verdict shows its p and Holm's."
        )
    else:
        count = render.count(tests, "test")
        judged_by = f"*Better* or *worse* need p < {ALPHA} (this report has {count}: nothing to adjust)."
    return (
        "Lower loss and gap are better. Values are mean ± standard deviation over the seeds that have one, with "
        "how many of how many seeds: a seed that diverged at once has no value, one that diverged later keeps "
        "what it reached before. Both revisions train the same seeds, so the same seed on both sides is a pair: "
        "a change is the mean of the per-seed differences ± its standard error, tested by a two-sided paired "
        "t-test (Welch's unpaired t-test only when fewer than two seeds are on both sides); when the differences "
        "have no spread, by the exact sign test (unpaired: Mann–Whitney U), which does not take zero spread "
        f"for zero noise. {judged_by} Otherwise the verdict is *within noise*, and says the smallest difference "
        f"its seeds detect with {POWER:.0%} power "
        "at the strictest level of this report (in the metric's units, and in standard deviations of the "
        "per-seed differences, or of one seed's value when unpaired). With one seed on a side the noise is "
        f"*unknown*. A loss lower over the seeds that trained is *{NOT_BETTER}* when more seeds diverged; "
        "`diverged_seeds` compares divergence seed by seed, and epochs are compared seed by seed too."
    )


def markdown(review: Review, figures: Sequence[str], extra: Sequence[str] = ()) -> str:
    """The whole report: params, answers, metrics, then ``figures`` (Markdown lines) and ``extra``."""
    old, new = review.old, review.new
    verdicts = report_verdicts(review)
    lines = [f"# Review: `{old.label}` → `{new.label}`", "", in_short(review, verdicts), ""]
    lines += [*where_computed(review), "", "## What changed", ""]
    if review.param_changes:
        lines += [f"| param | {old.label} | {new.label} |", "|---|---|---|"]
        lines += [f"| `{k}` | {render.param_value(a)} | {render.param_value(b)} |" for k, a, b in review.param_changes]
    else:
        lines.append("No params changed.")
    lines += ["", "## The notebook's questions", "", "### Does Dropout reduce overfitting here?", ""]
    lines += [f"- {_label(side)}: {answer_dropout(side, verdicts)}" for side in (new, old)]
    lines += ["", f"### {_batchnorm_question(review)}", ""]
    lines += [f"- {_label(side)}: {answer_batchnorm(side, verdicts)}" for side in (new, old)]
    rows, unchanged = metric_rows(review, verdicts)
    tests = max((j.tests for j in verdicts.values()), default=0)
    lines += ["", "## Metrics that changed", "", _method(tests), ""]
    if rows:
        lines += [f"| run | metric | {old.label} | {new.label} | change | verdict |", "|---|---|---|---|---|---|"]
        lines += rows
    else:
        lines.append("None: every metric of every run is the same, seed for seed.")
    if unchanged:
        lines += ["", f"Unchanged (same values, seed for seed): {', '.join(unchanged)}."]
    lines += ["", "## Loss curves", "", *diverged_lines(review), *figures]
    if extra:
        lines += ["", *extra]
    return "\n".join(lines) + "\n"
