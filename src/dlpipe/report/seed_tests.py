"""The tests behind a comparison's verdict, and what they can see: the paired and unpaired tests (with
their fall-backs when the values have no spread), Holm's adjustment, the smallest detectable difference.
Pure functions on values; why these tests: :mod:`dlpipe.report.comparison`."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

# Family-wise significance level: the chance of any false "better" or "worse" in one report.
ALPHA = 0.05
# Probability with which a verdict's stated smallest detectable difference is found.
POWER = 0.8
MIN_SEEDS = 2
# Differences within float32's rounding of the values compared are no spread (the metrics are float32).
ROUNDING = float(np.finfo(np.float32).eps)
PAIRED_T, SIGN_TEST, WELCH, MANN_WHITNEY = "paired t-test", "sign test", "Welch t-test", "Mann–Whitney U test"


@dataclass(frozen=True)
class Outcome:
    """A test of "no difference" between two samples, and what it measured."""

    name: str  # PAIRED_T, SIGN_TEST, WELCH or MANN_WHITNEY
    n_old: int  # values in the test on each side (equal when paired)
    n_new: int
    difference: float  # paired: mean of the per-seed differences new − old; else new mean − old mean
    standard_error: float | None  # of ``difference``; None for the rank tests
    p_value: float  # two-sided
    spread: float | None  # standard deviation a detectable difference is counted in; None for rank tests

    @property
    def paired(self) -> bool:
        """Whether the test compares the same seeds."""
        return self.name in (PAIRED_T, SIGN_TEST)


def _scale(*values: Sequence[float]) -> float:
    return ROUNDING * max(abs(v) for side in values for v in side)


def paired_test(old: Sequence[float], new: Sequence[float]) -> Outcome:
    """Two-sided test of the per-seed differences ``new − old`` (the same seeds, in the same order):
    a paired t-test; the exact sign test when the differences have no spread."""
    from scipy import stats  # only here: SciPy takes longer to import (≈1.5 s) than a one-seed review

    differences = np.subtract(new, old, dtype=float)
    n, mean = len(differences), float(np.mean(differences))
    spread = float(np.std(differences, ddof=1))
    scale = _scale(old, new)
    if spread <= scale:
        up, down = int(np.sum(differences > scale)), int(np.sum(differences < -scale))
        p = stats.binomtest(up, up + down).pvalue if up + down else 1.0
        return Outcome(SIGN_TEST, n, n, mean, None, float(p), None)
    p = stats.ttest_rel(new, old).pvalue
    return Outcome(PAIRED_T, n, n, mean, spread / math.sqrt(n), float(p), spread)


def unpaired_test(old: Sequence[float], new: Sequence[float]) -> Outcome:
    """Two-sided test of "the means are equal" for values of different seeds: Welch's t-test; the exact
    Mann–Whitney U test when neither side has any spread."""
    from scipy import stats

    n_old, n_new = len(old), len(new)
    s_old, s_new = statistics.stdev(old), statistics.stdev(new)
    difference = statistics.fmean(new) - statistics.fmean(old)
    if max(s_old, s_new) <= _scale(old, new):
        p = stats.mannwhitneyu(new, old, alternative="two-sided", method="exact").pvalue
        return Outcome(MANN_WHITNEY, n_old, n_new, difference, None, float(p), None)
    p = stats.ttest_ind(new, old, equal_var=False).pvalue
    error = math.sqrt(s_old**2 / n_old + s_new**2 / n_new)
    pooled = math.sqrt(((n_old - 1) * s_old**2 + (n_new - 1) * s_new**2) / (n_old + n_new - 2))
    return Outcome(WELCH, n_old, n_new, difference, error, float(p), pooled)


def detectable_effect(seeds: int | tuple[int, int], level: float = ALPHA, power: float = POWER) -> float:
    """The smallest true difference, in standard deviations, that a two-sided t-test at ``level`` calls
    real, in its direction, with probability ``power`` (SciPy's noncentral t).

    ``seeds``: a number of pairs (paired t-test; in standard deviations of the differences), or the
    numbers of seeds of the two sides (two-sample t-test with equal variances, in the standard deviation
    of one seed's value: Welch's power is close to it when the spreads are alike)."""
    from scipy import optimize, stats

    if isinstance(seeds, int):
        df, scale = seeds - 1, math.sqrt(seeds)
    else:
        df, scale = seeds[0] + seeds[1] - 2, 1 / math.sqrt(1 / seeds[0] + 1 / seeds[1])
    if df < 1:
        raise ValueError(f"a t-test needs at least {MIN_SEEDS} seeds a side, got {seeds}")
    critical = stats.t.isf(level / 2, df)

    def shortfall(effect: float) -> float:
        # Only the upper tail: a rejection in the wrong direction would be the wrong verdict.
        return float(stats.nct.sf(critical, df, effect * scale)) - power

    high = 1.0
    while shortfall(high) < 0:
        high *= 2
    return float(optimize.brentq(shortfall, 0.0, high))


def seeds_needed(test: str, level: float = ALPHA) -> int:
    """The fewest seeds (pairs for the sign test, per side for Mann–Whitney) with which a rank test's
    most extreme outcome has a two-sided p below ``level``."""
    from scipy import stats

    n = MIN_SEEDS
    while True:
        if test == SIGN_TEST:
            p = stats.binomtest(n, n).pvalue
        else:
            p = stats.mannwhitneyu(range(n), range(n, 2 * n), method="exact").pvalue
        if p < level:
            return n
        n += 1


def holm(p_values: ArrayLike) -> np.ndarray:
    """Holm's step-down adjusted p-values along the last axis (one family per row).

    With the m p-values sorted, p₍ᵢ₎ becomes max over j ≤ i of min(1, (m − j + 1) · p₍ⱼ₎); a hypothesis is
    rejected at family-wise level α when its adjusted p is below α. Holm (1979), valid under any
    dependence between the tests. (``scipy.stats.false_discovery_control`` is Benjamini–Hochberg: it
    controls the share of false discoveries, not the chance of any.)"""
    p = np.asarray(p_values, dtype=float)
    m = p.shape[-1]
    order = np.argsort(p, axis=-1, kind="stable")
    scaled = np.take_along_axis(p, order, axis=-1) * (m - np.arange(m))
    adjusted = np.minimum(np.maximum.accumulate(scaled, axis=-1), 1.0)
    out = np.empty_like(adjusted)
    np.put_along_axis(out, order, adjusted, axis=-1)
    return out
