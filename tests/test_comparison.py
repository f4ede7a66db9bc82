"""The statistics of a comparison, on numbers worked out by hand, against SciPy on fixed examples, and on
simulated reports with a known answer."""

import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from dlpipe.report.comparison import HOW_TO_MEASURE, Comparison, Judgement, Sample, judge
from dlpipe.report.seed_tests import (
    ALPHA,
    MANN_WHITNEY,
    PAIRED_T,
    POWER,
    SIGN_TEST,
    WELCH,
    detectable_effect,
    holm,
    seeds_needed,
)


def compare(old, new) -> Comparison:
    return Comparison(Sample.of(old), Sample.of(new))


def alone(c: Comparison) -> Judgement:
    """``c``'s judgement in a family of one."""
    return judge([c])[c]


def test_a_sample_keeps_every_seed_and_its_finite_value_only():
    s = Sample.of({2: 3.0, 0: 1.0, 5: None, 1: math.nan, 3: math.inf, 4: 2.0})
    assert s.by_seed == ((0, 1.0), (1, None), (2, 3.0), (3, None), (4, 2.0), (5, None))
    assert (s.n, s.mean, s.std) == (3, 2.0, 1.0)
    assert s.seed_values() == {0: 1.0, 2: 3.0, 4: 2.0}
    unkeyed = Sample.of([1.0, None, 2.0])
    assert unkeyed.n == 2 and unkeyed.by_seed == ((None, 1.0), (None, None), (None, 2.0))
    assert Sample.of([0.5]).std is None  # one value: the noise is not known


def test_the_same_seed_on_both_sides_is_a_pair_tested_like_scipy_ttest_rel():
    old, new = {0: 1.0, 1: 2.0, 2: 3.0, 3: 4.0}, {3: 4.2, 1: 2.1, 0: 1.3, 2: 3.5}  # any order: paired by seed
    c = compare(old, new)
    # Differences 0.3, 0.1, 0.5, 0.2: mean 0.275, sd 0.17078, SE 0.085391, t = 3.2205 on 3 df, p = 0.0486.
    assert c.test.name == PAIRED_T and c.pairs == (0, 1, 2, 3)
    assert c.difference == pytest.approx(0.275) and c.test.standard_error == pytest.approx(0.0853913, rel=1e-5)
    p = c.test.p_value
    assert p == pytest.approx(stats.ttest_rel([1.3, 2.1, 3.5, 4.2], [1.0, 2.0, 3.0, 4.0]).pvalue, rel=1e-12)
    assert p == pytest.approx(0.048567, rel=1e-4)
    assert alone(c).verdict == "worse"  # a higher loss, p < 0.05 in a family of one
    assert alone(compare(new, old)).verdict == "better"


def test_pairing_removes_each_seeds_own_luck():
    # Seeds differ by a lot (1, 2, 3); the change lowers each by about 0.1. Paired, that is clear;
    # the same numbers under other seeds (nothing to pair) are lost in the seeds' spread.
    old = {0: 1.0, 1: 2.0, 2: 3.0}
    new = {0: 0.9, 1: 1.91, 2: 2.88}
    assert alone(compare(old, new)).verdict == "better"
    unpaired = compare(old, {3: 0.9, 4: 1.91, 5: 2.88})
    assert unpaired.test.name == WELCH and alone(unpaired).verdict == "within noise"


def test_welch_only_when_fewer_than_two_seeds_are_on_both_sides():
    # old 1, 2, 3 (mean 2, var 1); new 4, 5, 6, 7 (mean 5.5, var 5/3):
    # SE = sqrt(1/3 + (5/3)/4) = sqrt(0.75); t = 3.5 / 0.866 = 4.04; Welch df = 4.96; two-sided p = 0.0101.
    c = compare({0: 1, 1: 2, 2: 3}, {0: 4, 7: 5, 8: 6, 9: 7})  # one seed in common: not enough pairs
    assert c.pairs == (0,) and c.test.name == WELCH
    assert c.difference == pytest.approx(3.5) and c.test.standard_error == pytest.approx(math.sqrt(0.75))
    assert c.test.p_value == pytest.approx(stats.ttest_ind([4, 5, 6, 7], [1, 2, 3], equal_var=False).pvalue, rel=1e-12)
    assert c.test.p_value == pytest.approx(0.01008, abs=1e-4)
    assert compare([1, 2, 3], [4, 5, 6, 7]).test.name == WELCH  # seeds not known: never paired


def test_pairs_are_the_seeds_with_a_value_on_both_sides():
    c = compare({0: 0.20, 1: 0.21, 2: 0.22}, {0: 0.19, 1: 0.205, 2: None})  # seed 2 diverged on the new side
    assert c.pairs == (0, 1) and c.test.name == PAIRED_T and c.test.n_old == 2
    assert c.difference == pytest.approx((-0.01 - 0.005) / 2)


def test_no_spread_is_not_no_noise():
    # Two seeds whose overfitting gap is exactly 0, then exactly 0.0005: a t-test would say p = 0.
    unpaired = compare([0.0, 0.0], [0.0005, 0.0005])
    assert unpaired.test.name == MANN_WHITNEY and unpaired.test.p_value == pytest.approx(1 / 3)
    assert alone(unpaired).verdict == "within noise"
    paired = compare({0: 0.0, 1: 0.0}, {0: 0.0005, 1: 0.0005})
    assert paired.test.name == SIGN_TEST and paired.test.p_value == pytest.approx(0.5)
    assert alone(paired).verdict == "within noise"
    assert "no spread in the differences: a sign test needs 6 seeds for p < 0.05" in alone(paired).explain()
    # The same shift on every seed, up to float rounding, is no spread either; with 6 seeds the sign test
    # can decide (p = 2/2⁶), and it uses only the directions.
    old = {s: 0.1 * (s + 1) for s in range(6)}
    six = compare(old, {s: v + 0.02 for s, v in old.items()})
    assert six.test.name == SIGN_TEST and six.test.p_value == pytest.approx(2 / 2**6) and alone(six).verdict == "worse"


def test_one_seed_on_a_side_gives_no_verdict_and_says_how_to_measure():
    for old, new in (([0.1918], [0.1927]), ([0.1918], [0.19, 0.2, 0.21]), ([0.19, 0.2, 0.21], [0.1927])):
        j = alone(compare(old, new))
        assert j.verdict == "noise unknown" and j.comparison.test is None
        assert HOW_TO_MEASURE in j.explain() and "seeds=[0,1,2]" in j.explain()
    diverged = compare({0: 3.5, 1: 3.4, 2: 3.6}, {0: 3.3, 1: None, 2: None})
    assert alone(diverged).explain().startswith("noise unknown (1 seed with a value, of 3, on a side;")


def test_identical_values_are_the_same_seed_for_seed():
    assert alone(compare([0.1918], [0.1918])).verdict == "same"
    assert alone(compare({0: 0.19, 1: 0.2}, {0: 0.19, 1: 0.2})).verdict == "same"
    # The same values on other seeds are not the same result.
    assert alone(compare({0: 0.19, 1: 0.2}, {0: 0.2, 1: 0.19})).verdict != "same"
    assert alone(compare({0: 3.4, 1: None}, {0: 3.4, 2: None})).verdict != "same"


def test_runs_that_appear_or_disappear_or_never_have_a_value():
    assert alone(compare([], [0.2])).verdict == "new"
    assert alone(compare([0.2], [])).verdict == "gone"
    assert alone(compare([], [])).verdict == "same"
    assert alone(compare({0: None}, {0: None, 1: None})).verdict == "no values"


def test_holm_on_the_textbook_example():
    # Holm–Bonferroni's standard example: four hypotheses, p = 0.01, 0.04, 0.03, 0.005, α = 0.05.
    # Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, max(0.04·1, 0.06) = 0.06: H4 and H1 rejected.
    adjusted = holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted.tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert (adjusted < 0.05).tolist() == [True, False, False, True]
    # One family per row; adjusted p-values never exceed 1.
    rows = holm([[0.01, 0.04, 0.03, 0.005], [0.5, 0.9, 0.2, 0.6]])
    assert rows[0].tolist() == pytest.approx(adjusted.tolist()) and rows[1].tolist() == pytest.approx([1, 1, 0.8, 1])
    assert holm([]).size == 0


def test_judge_adjusts_across_the_whole_family():
    tested = [
        compare({0: 1.0, 1: 2.0, 2: 3.0, 3: 4.0}, {0: 1.3, 1: 2.1, 2: 3.5, 3: 4.2}),  # p = 0.0486 alone
        compare({0: 0.19, 1: 0.2, 2: 0.21}, {0: 0.191, 1: 0.2005, 2: 0.2095}),
        compare([1, 2, 3], [4, 5, 6, 7]),
    ]
    untested = [compare([0.1], [0.2]), compare([0.3], [0.3])]  # noise unknown, same: not in the family
    judged = judge(tested + untested + [tested[0]])  # a comparison listed twice is one test
    assert list(judged) == tested + untested
    expected = holm([c.test.p_value for c in tested])
    assert [judged[c].adjusted_p for c in tested] == pytest.approx(expected.tolist())
    assert [j.tests for j in judged.values()] == [3] * 5
    assert [judged[c].verdict for c in untested] == ["noise unknown", "same"]
    assert alone(tested[0]).verdict == "worse" and judged[tested[0]].verdict == "within noise"  # not among three
    assert "paired t-test, 4 seeds paired: p = 0.049, Holm 0.097 over 3 tests" in judged[tested[0]].explain()


def test_the_smallest_detectable_difference():
    # At that difference the test finds it with POWER probability (SciPy's noncentral t, again here).
    for seeds, level in ((3, ALPHA), (5, ALPHA / 6), (10, ALPHA / 8)):
        d = detectable_effect(seeds, level)
        critical = stats.t.isf(level / 2, seeds - 1)
        assert stats.nct.sf(critical, seeds - 1, d * math.sqrt(seeds)) == pytest.approx(POWER, abs=1e-6)
    # Many pairs: the normal approximation (z₀.₉₇₅ + z₀.₈) / √n = 0.2802 at 100 pairs, the t a little more.
    assert 0.2802 < detectable_effect(100) < 0.2802 * 1.02
    # More seeds see smaller differences; a stricter level needs bigger ones; unpaired needs more.
    assert detectable_effect(3) > detectable_effect(5) > detectable_effect(10)
    assert detectable_effect(5, ALPHA / 6) > detectable_effect(5)
    assert detectable_effect((5, 5)) > detectable_effect(5)
    with pytest.raises(ValueError, match="at least 2 seeds"):
        detectable_effect(1)


def test_the_verdict_says_what_its_seeds_could_detect():
    c = compare({0: 0.190, 1: 0.195, 2: 0.200}, {0: 0.192, 1: 0.196, 2: 0.199})
    spread = float(np.std([0.002, 0.001, -0.001], ddof=1))
    d = detectable_effect(3, ALPHA)
    assert alone(c).verdict == "within noise" and c.test.p_value > ALPHA
    assert alone(c).explain().endswith(f"; detects {d * spread:.2g} ({d:.2g} sd) with 80% power)")
    # In a family of six, the strictest level is ALPHA / 6: a bigger difference is needed.
    six = judge([c] + [compare({0: i, 1: i + 1.0, 2: i + 2.5}, {0: i, 1: i + 1.5, 2: i + 2.0}) for i in range(5)])
    assert f"({detectable_effect(3, ALPHA / 6):.2g} sd)" in six[c].explain() and six[c].level == ALPHA / 6


def test_rank_tests_need_enough_seeds_to_ever_decide():
    # The sign test's smallest p is 2/2ⁿ: below 0.05 from 6 pairs. Mann–Whitney's is 2/C(2n, n).
    assert seeds_needed(SIGN_TEST) == 6 and seeds_needed(SIGN_TEST, ALPHA / 6) == 8  # 2/2⁸ = 0.0078 < 0.0083
    assert seeds_needed(MANN_WHITNEY) == 4  # 2/C(8, 4) = 0.029; 2/C(6, 3) = 0.1


# Simulated reports: 6 metrics, the same seeds on both sides. Each seed has its own luck (a shared
# component, sd 1, the same on both sides of a pair) and each run its own noise (sd 0.1): the paired
# differences' sd is 0.1·√2. The p-values come from SciPy's paired t-test over the seeds axis, what
# Comparison uses for each pair of samples (checked on the first reports), and are adjusted by holm.
METRICS, NOISE, SHARED = 6, 0.1, 1.0


def _simulated(rng: np.random.Generator, reports: int, seeds: int, shift: np.ndarray) -> tuple[np.ndarray, ...]:
    shared = rng.normal(0, SHARED, (reports, METRICS, seeds))
    old = shared + rng.normal(0, NOISE, shared.shape)
    new = shared + shift[:, None] + rng.normal(0, NOISE, shared.shape)
    return old, new


def _adjusted_by_judge(old: np.ndarray, new: np.ndarray) -> list[list[float]]:
    """Each simulated report's Holm-adjusted p-values as :func:`judge` gives them, metric by metric."""
    out = []
    for r in range(len(old)):
        comparisons = [compare(dict(enumerate(o)), dict(enumerate(n))) for o, n in zip(old[r], new[r], strict=True)]
        judged = judge(comparisons)
        out.append([judged[c].adjusted_p for c in comparisons])
    return out


def test_simulated_reports_without_a_real_difference_rarely_claim_one():
    rng = np.random.default_rng(2025)
    reports = 20_000
    old, new = _simulated(rng, reports, 3, np.zeros(METRICS))
    p = stats.ttest_rel(new, old, axis=-1).pvalue  # (reports, metrics)
    adjusted = holm(p)
    for report, by_judge in enumerate(_adjusted_by_judge(old[:20], new[:20])):  # the same numbers as judge's
        assert by_judge == pytest.approx(adjusted[report].tolist(), rel=1e-9)
    false_alarm = float(np.mean((adjusted < ALPHA).any(axis=1)))
    unadjusted = float(np.mean((p < ALPHA).any(axis=1)))
    # Holm keeps any false "better" or "worse" in a report at or below 5 % (exactly 1 − (1 − 0.05/6)⁶ =
    # 4.9 % here); allowed: three standard errors of a proportion over 20,000 reports (0.46 points).
    margin = 3 * math.sqrt(ALPHA * (1 - ALPHA) / reports)
    assert false_alarm <= ALPHA + margin, false_alarm
    # Without the adjustment the same reports claim a difference about a quarter of the time (1 − 0.95⁶).
    assert unadjusted > 0.2, unadjusted


def test_simulated_reports_find_the_stated_smallest_difference_with_the_stated_power():
    # 5 seeds, one metric of six really lower by the difference the verdicts state for that report
    # (80 % power at ALPHA / 6, in sd of the paired differences: 2.76 sd here), the other five unchanged.
    rng = np.random.default_rng(7)
    reports, seeds = 4000, 5
    effect = detectable_effect(seeds, ALPHA / METRICS)
    shift = np.zeros(METRICS)
    shift[0] = -effect * NOISE * math.sqrt(2)
    old, new = _simulated(rng, reports, seeds, shift)
    result = stats.ttest_rel(new, old, axis=-1)
    adjusted = holm(result.pvalue)
    for report, by_judge in enumerate(_adjusted_by_judge(old[:10], new[:10])):
        assert by_judge == pytest.approx(adjusted[report].tolist(), rel=1e-9)
    found = float(np.mean((adjusted[:, 0] < ALPHA) & (result.statistic[:, 0] < 0)))
    wrong_way = float(np.mean((adjusted[:, 0] < ALPHA) & (result.statistic[:, 0] > 0)))
    # Holm rejects whatever is below ALPHA / 6, so the power is POWER, a little more when a false
    # alarm lowers the bar; allowed: three standard errors over 4000 reports (1.9 points).
    margin = 3 * math.sqrt(POWER * (1 - POWER) / reports)
    assert POWER - margin <= found <= POWER + margin + 0.01, found
    assert wrong_way == 0.0


def test_scipy_is_imported_only_for_a_p_value():
    code = (
        "import sys; from dlpipe.report.comparison import Comparison, Sample, judge\n"
        "one = Comparison(Sample.of([0.19]), Sample.of([0.2])); judge([one])[one].explain()\n"
        "print('scipy.stats' in sys.modules)\n"
        "two = Comparison(Sample.of([0.19, 0.2]), Sample.of([0.3, 0.31])); judge([two])[two].explain()\n"
        "print('scipy.stats' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
