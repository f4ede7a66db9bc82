"""How the review reads a run's values: over how many seeds of how many, divergence seed by seed, and
when a *better* is capped because more seeds diverged. Shared by the answers, the metric rows and the
loss curves' section."""

from __future__ import annotations

from collections.abc import Iterable

from dlpipe.core import environment
from dlpipe.core.registry import TRAINING_STAGES
from dlpipe.display import render
from dlpipe.report.comparison import BETTER, Judgement, Sample, Seed, seed_key
from dlpipe.report.review_data import Review, Side

# A lower loss over the seeds that trained, while more seeds diverged: never "better".
NOT_BETTER = "not better"


def seed_name(seed: Seed) -> str:
    """``seed 2``, or ``the seed`` when it is not known."""
    return "the seed" if seed is None else f"seed {seed}"


def in_seed_order(seeds: Iterable[Seed]) -> list[Seed]:
    """``seeds`` sorted by number, an unknown seed last."""
    return sorted(seeds, key=seed_key)


def over(side: Side, run: str, with_value: int) -> str:
    """Over how many seeds of how many a value is: ``(1 seed)``, ``(2 of 3 seeds; 1 diverged)``."""
    total, diverged = side.seed_count(run), side.diverged_count(run)
    if total == 1 and with_value == 1 and not diverged:
        return "(1 seed)"
    return f"({with_value} of {render.count(total, 'seed')}{f'; {diverged} diverged' if diverged else ''})"


def diverged_of(side: Side, run: str) -> str:
    """How many of ``run``'s seeds diverged: ``2 of 3 seeds``."""
    return f"{side.diverged_count(run)} of {render.count(side.seed_count(run), 'seed')}"


def divergence_text(side: Side, run: str) -> str:
    """``0 of 3 seeds``; ``2 of 3 seeds (seed 0 at epoch 1, seed 2 at epoch 40)``."""
    head, states = diverged_of(side, run), side.divergence(run)
    named = [f"{seed_name(s)} at epoch {states[s]}" for s in in_seed_order(states) if states[s] is not None]
    return f"{head} ({', '.join(named)})" if named else head


def diverged_lines(review: Review) -> list[str]:
    """Markdown lines naming each run with a diverged seed in either revision, with how many of its seeds
    diverged there and at which epochs: what DVC's charts cannot show (a curve only ends, or is missing)."""
    lines = []
    for t in TRAINING_STAGES:
        for run in t.runs:
            sides = [side for side in (review.old, review.new) if side.has(run)]
            if any(side.diverged_count(run) for side in sides):
                lines.append(f"- `{run}`: " + "; ".join(f"`{s.label}` {divergence_text(s, run)}" for s in sides))
    if not lines:
        return []
    lead = (
        "Diverged seeds (the charts draw, per epoch, the mean over the seeds still finite; a run none of whose "
        "seeds has a finite epoch has no curve):"
    )
    return [lead, "", *lines, ""]


def mean_text(sample: Sample) -> str:
    """``3.4500 ± 0.0707``: the mean with its spread (two values or more); a dash without values."""
    spread = f" ± {render.number(sample.std)}" if sample.std is not None else ""
    return f"{render.number(sample.mean)}{spread}"


def value_text(side: Side, run: str, metric: str) -> str:
    """A metric of a run as the report shows it, with the seeds it is over."""
    if not side.has(run):
        return render.DASH
    if metric == "diverged_seeds":
        return divergence_text(side, run)
    sample = side.sample(run, metric)
    if metric == "min_val_loss_epoch":
        return f"{render.epochs(int(v) for v in sample.values)} {over(side, run, sample.n)}"
    return f"{mean_text(sample)} {over(side, run, sample.n)}"


def diverged_share(side: Side, run: str) -> float:
    """The share of ``run``'s seeds that diverged in ``side``."""
    total = side.seed_count(run)
    return side.diverged_count(run) / total if total else 0.0


def cap_reason(j: Judgement, old: tuple[Side, str], new: tuple[Side, str]) -> str | None:
    """Why a *better* is not one: the new run's seeds diverged more often. None when it stands."""
    if j.verdict != BETTER or diverged_share(*new) <= diverged_share(*old):
        return None
    return f"{diverged_of(*new)} diverged, against {diverged_of(*old)}: lower only over the seeds that trained"


NOT_COMPARED = "not compared: computed in different environments"
REBUILD_HINT = "python -m dlpipe.report.review --old {old} --rebuild-old"


def where_computed(review: Review) -> list[str]:
    """The report's first section: where each side's results were computed, and, when the two differ for
    results that differ, a warning that no verdict is given for them and how to compare like with like."""
    lines = ["## Where each side was computed", ""]
    for side in (review.old, review.new):
        found = {t.stage: side.environments.get(t.stage) for t in TRAINING_STAGES if any(map(side.has, t.runs))}
        texts = {environment.summary(e) for e in found.values()}
        if len(texts) == 1:
            lines.append(f"- `{side.label}`: {texts.pop()}")
        else:
            lines += [f"- `{side.label}`, {stage}: {environment.summary(e)}" for stage, e in found.items()]
    differences = review.machine_differences()
    if differences:
        stages = ", ".join(f"`{stage}` ({'; '.join(found)})" for stage, found in differences.items())
        old = review.old.rev or review.old.label
        lines += [
            "",
            f"> **Not comparable here: the two sides were computed in different environments** for {stages}. "
            "Results differ in their last bits from one CPU model or library version to another, so the "
            "differences of these stages' runs below may come from the machine, not the change: they get no "
            f"verdict. Compare like with like by rebuilding the old side here: `{REBUILD_HINT.format(old=old)}`.",
        ]
    return lines
