"""The statistics of a comparison: is a difference between two sets of seeds a real one?

Pure functions on per-seed values (:class:`Sample`: seed -> value). The method, and why:

- **The same seed is a pair.** Both sides of a review train the same seeds (the same initial weights,
  the same batch order), so seed s before and seed s after differ by the change and by little else:
  the seed's own luck is in both and cancels in their difference. A change is therefore judged on the
  per-seed differences, over the seeds that have a value on both sides, by a two-sided paired t-test
  (``scipy.stats.ttest_rel``). Welch's unpaired t-test (``ttest_ind``) is used only when the seed
  lists differ so much that fewer than two seeds are on both sides (with at least two on each).
- **Few seeds.** The paired t-test is exact for any number of pairs from two on when the differences
  are normal, so it can give a verdict at three seeds. A test that assumes nothing about the noise
  cannot: an exact sign-flip permutation test (or the sign test) has 2ⁿ equally likely sign patterns,
  so its smallest two-sided p-value is 2/2ⁿ and it cannot reach p < 0.05 below 6 pairs. The t-test's
  price is the normality assumption, which a handful of seeds can neither confirm nor refute.
- **No spread is not no noise.** A t-test divides by the spread of the differences. When every
  difference is the same (an overfitting gap of exactly 0 on every seed is common: the minimum is at
  the last epoch), t is infinite and p = 0, which says only that the noise is below the metric's
  resolution on these seeds, not that there is none. Then the verdict falls back to a test that uses
  only the direction of each pair and holds whatever the noise: the exact sign test
  (``scipy.stats.binomtest``; unpaired: the exact Mann–Whitney U test). With three seeds its p is
  0.25: within noise, as it should be. Differences within float32 rounding of the values (the metrics
  are float32 computations) count as no spread.
- **One report, many comparisons.** A report judges several metrics at once; at 5 % each, six
  comparisons of runs with no real difference give at least one false *better* or *worse* in about a
  quarter of the reports. :func:`judge` adjusts the p-values of all the comparisons of one report with
  Holm's step-down method (:func:`holm`), which keeps the chance of any false verdict in the report at
  or below :data:`ALPHA`, whatever the dependence between the metrics.
- **What a verdict could have seen.** *Within noise* is not *no difference*: every tested verdict
  states the smallest difference its seeds find with :data:`POWER` probability at the report's
  strictest level (Holm's first step, ALPHA / number of tests), from SciPy's noncentral t
  (:func:`detectable_effect`), in standard deviations of the differences and in the metric's units.
- One seed with a value on a side: nothing is known about the noise, and the verdict says so and how
  to measure it, unless both sides are bit-identical seed for seed (the change did not touch that run).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from dlpipe.display.render import count
from dlpipe.report.seed_tests import (
    ALPHA,
    MIN_SEEDS,
    POWER,
    Outcome,
    detectable_effect,
    holm,
    paired_test,
    seeds_needed,
    unpaired_test,
)

HOW_TO_MEASURE = "run several seeds to measure it: dvc exp run -S 'seeds=[0,1,2]'"

BETTER, WORSE, WITHIN_NOISE, SAME, UNKNOWN = "better", "worse", "within noise", "same", "noise unknown"
NEW, GONE, NO_VALUES = "new", "gone", "no values"

Seed = int | None  # None: a value whose seed is not known (a summary without its per-seed table)


def seed_key(seed: Seed) -> tuple[bool, int]:
    """Sort key of a seed: by number, an unknown seed last."""
    return (seed is None, seed or 0)


@dataclass(frozen=True)
class Sample:
    """The values of one metric over the seeds of one side: ``(seed, value)`` in seed order, the value
    None for a seed that has none (a run that diverged before its first finite epoch)."""

    by_seed: tuple[tuple[Seed, float | None], ...] = ()

    @classmethod
    def of(cls, values: Mapping[Seed, float | None] | Sequence[float | None]) -> Sample:
        """From ``{seed: value}``, or from a list of values whose seeds are not known (never paired).
        A value that is missing, NaN or infinite is no value."""
        if isinstance(values, Mapping):
            items = sorted(values.items(), key=lambda item: seed_key(item[0]))
        else:
            items = [(None, v) for v in values]
        return cls(tuple((seed, float(v) if v is not None and math.isfinite(v) else None) for seed, v in items))

    @property
    def values(self) -> tuple[float, ...]:
        """The finite values, in seed order."""
        return tuple(v for _, v in self.by_seed if v is not None)

    @property
    def n(self) -> int:
        """Number of seeds with a value."""
        return len(self.values)

    def seed_values(self) -> dict[int, float]:
        """``{seed: value}`` of the seeds with a known seed and a value."""
        return {seed: v for seed, v in self.by_seed if seed is not None and v is not None}

    @property
    def mean(self) -> float | None:
        """Mean over the seeds with a value, None without values."""
        return statistics.fmean(self.values) if self.values else None

    @property
    def std(self) -> float | None:
        """Sample standard deviation, None with fewer than two values (the noise is not known)."""
        return statistics.stdev(self.values) if self.n >= MIN_SEEDS else None


@dataclass(frozen=True)
class Comparison:
    """Old and new values of one metric (lower is better), seed by seed, and the test that compares them."""

    old: Sample
    new: Sample

    @property
    def pairs(self) -> tuple[int, ...]:
        """The seeds with a value on both sides (none when a side has a value whose seed is not known)."""
        if any(seed is None for side in (self.old, self.new) for seed, _ in side.by_seed):
            return ()
        new = self.new.seed_values()
        return tuple(seed for seed in self.old.seed_values() if seed in new)

    @cached_property
    def test(self) -> Outcome | None:
        """The paired test over :attr:`pairs` when there are at least two, else the unpaired test when
        both sides have at least two values; None when the sides are identical or too small."""
        if self.old.by_seed == self.new.by_seed:
            return None
        if len(pairs := self.pairs) >= MIN_SEEDS:
            old, new = self.old.seed_values(), self.new.seed_values()
            return paired_test([old[s] for s in pairs], [new[s] for s in pairs])
        if self.old.n >= MIN_SEEDS and self.new.n >= MIN_SEEDS:
            return unpaired_test(self.old.values, self.new.values)
        return None

    @property
    def status(self) -> str | None:
        """SAME, NO_VALUES, NEW, GONE or UNKNOWN when no test decides; None when one does."""
        if self.old.by_seed == self.new.by_seed:
            return SAME
        if not self.old.n and not self.new.n:
            return NO_VALUES
        if not self.old.n:
            return NEW
        if not self.new.n:
            return GONE
        return None if self.test is not None else UNKNOWN

    @property
    def difference(self) -> float | None:
        """The tested difference (paired: mean of the per-seed differences), else new mean − old mean."""
        if self.test is not None:
            return self.test.difference
        if self.old.mean is None or self.new.mean is None:
            return None
        return self.new.mean - self.old.mean


@dataclass(frozen=True)
class Judgement:
    """A comparison's verdict within a family of tests (one report): its Holm-adjusted p-value."""

    comparison: Comparison
    adjusted_p: float | None  # None when no test decides
    tests: int  # how many distinct tests the family holds

    @property
    def level(self) -> float:
        """The strictest level a p-value meets in this family (Holm's first step: ALPHA / tests)."""
        return ALPHA / max(self.tests, 1)

    @property
    def verdict(self) -> str:
        """better / worse / within noise (tested); same / new / gone / no values / noise unknown."""
        c = self.comparison
        if c.status is not None or self.adjusted_p is None or c.test is None:
            return c.status or UNKNOWN
        if self.adjusted_p >= ALPHA:
            return WITHIN_NOISE
        return BETTER if c.test.difference < 0 else WORSE

    def evidence(self) -> str:
        """What the verdict rests on: the test, its seeds, p (and Holm's), the smallest detectable difference."""
        c, t = self.comparison, self.comparison.test
        if t is None:
            if c.status != UNKNOWN:
                return ""
            side = min((c.old, c.new), key=lambda s: s.n)
            total = len(side.by_seed)
            of = f" with a value, of {total}," if total > side.n else ""
            return f"{count(side.n, 'seed')}{of} on a side; {HOW_TO_MEASURE}"
        seeds = f"{count(t.n_old, 'seed')} paired" if t.paired else f"{t.n_old} vs {t.n_new} seeds"
        text = f"{t.name}, {seeds}: p = {t.p_value:.2g}"
        if self.tests > 1:
            text += f", Holm {self.adjusted_p:.2g} over {self.tests} tests"
        if t.spread is None:
            what = "differences" if t.paired else "values"
            needed = seeds_needed(t.name, self.level)
            return f"{text}; no spread in the {what}: a {t.name} needs {needed} seeds for p < {self.level:.2g}"
        effect = detectable_effect(t.n_old if t.paired else (t.n_old, t.n_new), self.level)
        return f"{text}; detects {effect * t.spread:.2g} ({effect:.2g} sd) with {POWER:.0%} power"

    def explain(self) -> str:
        """The verdict with its evidence, for a report: ``better (paired t-test, 3 seeds paired: p = …)``."""
        evidence = self.evidence()
        return f"{self.verdict} ({evidence})" if evidence else self.verdict


def judge(comparisons: Sequence[Comparison]) -> dict[Comparison, Judgement]:
    """The verdicts of all the comparisons of one report: the tested ones' p-values adjusted together by
    :func:`holm`, so that the chance of any false *better* or *worse* among them stays at or below
    :data:`ALPHA`. A comparison listed twice (the same values) is one test."""
    family = list(dict.fromkeys(comparisons))
    tested = [c for c in family if c.status is None]
    adjusted = dict(zip(tested, holm([c.test.p_value for c in tested if c.test is not None]), strict=True))
    return {c: Judgement(c, float(adjusted[c]) if c in adjusted else None, len(tested)) for c in family}
