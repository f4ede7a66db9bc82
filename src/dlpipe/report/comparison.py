"""The statistics of a comparison: is a difference between two sets of seeds a real one?

Pure functions on per-seed values. A verdict of *better* or *worse* needs a measured noise: at
least two seeds on each side, and a two-sided Welch t-test (unequal variances) whose p-value is
below :data:`ALPHA`. With one seed on a side nothing is known about the noise, and the verdict says
so and how to measure it, unless the two sides are bit-identical (the same seeds giving the same
numbers: the change did not touch that run).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# Significance level of the two-sided Welch t-test behind "better" and "worse": a difference this
# unlikely under "no real difference" (5 %) is called real.
ALPHA = 0.05
MIN_SEEDS = 2
HOW_TO_MEASURE = "run several seeds to measure it: dvc exp run -S 'seeds=[0,1,2]'"

BETTER, WORSE, WITHIN_NOISE, SAME, UNKNOWN, CHANGED, NEW, GONE = (
    "better",
    "worse",
    "within noise",
    "same",
    "noise unknown",
    "changed",
    "new",
    "gone",
)


@dataclass(frozen=True)
class Sample:
    """The values of one metric over the seeds of one side of a comparison."""

    values: tuple[float, ...]

    @classmethod
    def of(cls, values: Sequence[float]) -> Sample:
        """A sample of finite values (a seed without a value, e.g. diverged at once, is not in it)."""
        return cls(tuple(float(v) for v in values if v is not None and math.isfinite(v)))

    @property
    def n(self) -> int:
        """Number of seeds with a value."""
        return len(self.values)

    @property
    def mean(self) -> float | None:
        """Mean over the seeds, None without values."""
        return statistics.fmean(self.values) if self.values else None

    @property
    def std(self) -> float | None:
        """Sample standard deviation, None with fewer than two values (the noise is not known)."""
        return statistics.stdev(self.values) if self.n >= MIN_SEEDS else None


@dataclass(frozen=True)
class Comparison:
    """Old and new values of one metric, with the difference of means and what it means."""

    old: Sample
    new: Sample
    lower_is_better: bool = True

    @property
    def difference(self) -> float | None:
        """new mean − old mean."""
        if self.old.mean is None or self.new.mean is None:
            return None
        return self.new.mean - self.old.mean

    @property
    def standard_error(self) -> float | None:
        """Welch's standard error of the difference of means: sqrt(s_old²/n_old + s_new²/n_new)."""
        if self.old.std is None or self.new.std is None:
            return None
        return math.sqrt(self.old.std**2 / self.old.n + self.new.std**2 / self.new.n)

    @property
    def p_value(self) -> float | None:
        """Two-sided Welch t-test of "the means are equal"; None when a side has fewer than two seeds."""
        if self.old.n < MIN_SEEDS or self.new.n < MIN_SEEDS:
            return None
        if self.old.std == 0 and self.new.std == 0:
            return 1.0 if self.old.mean == self.new.mean else 0.0
        # Imported only here: SciPy's statistics take longer to import (≈1.5 s) than a whole one-seed
        # review, the default, which never needs them.
        from scipy import stats

        return float(stats.ttest_ind(self.new.values, self.old.values, equal_var=False).pvalue)

    @property
    def verdict(self) -> str:
        """better / worse / within noise / same / noise unknown / changed / new / gone."""
        if self.old.n == 0 and self.new.n == 0:
            return SAME
        if self.old.n == 0:
            return NEW
        if self.new.n == 0:
            return GONE
        if self.old.values == self.new.values:
            return SAME
        p = self.p_value
        if p is None:
            return UNKNOWN
        if p >= ALPHA:
            return WITHIN_NOISE
        if not self.lower_is_better:
            return CHANGED
        return BETTER if (self.difference or 0.0) < 0 else WORSE

    def explain(self) -> str:
        """The verdict with its evidence, for a report: ``better (p = 0.003, 3 vs 3 seeds)``."""
        verdict = self.verdict
        if verdict == UNKNOWN:
            seeds = min(self.old.n, self.new.n)
            return f"{verdict} ({seeds} seed{'s' if seeds != 1 else ''} on a side; {HOW_TO_MEASURE})"
        if verdict in (BETTER, WORSE, WITHIN_NOISE, CHANGED) and self.p_value is not None:
            return f"{verdict} (p = {self.p_value:.2g}, {self.old.n} vs {self.new.n} seeds)"
        return verdict
