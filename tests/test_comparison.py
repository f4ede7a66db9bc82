"""The statistics of a comparison, on numbers worked out by hand and on synthetic data with a known answer."""

import math
import subprocess
import sys

import numpy as np
import pytest

from dlpipe.report.comparison import ALPHA, HOW_TO_MEASURE, Comparison, Sample


def compare(old, new, lower_is_better=True) -> Comparison:
    return Comparison(Sample.of(old), Sample.of(new), lower_is_better)


def test_a_sample_keeps_finite_values_only():
    s = Sample.of([1.0, None, 2.0, math.nan, 3.0, math.inf])
    assert (s.n, s.mean, s.std) == (3, 2.0, 1.0)
    assert Sample.of([0.5]).std is None  # one value: the noise is not known


def test_welch_on_numbers_worked_by_hand():
    # old 1, 2, 3 (mean 2, var 1); new 4, 5, 6, 7 (mean 5.5, var 5/3):
    # SE = sqrt(1/3 + (5/3)/4) = sqrt(0.75); t = 3.5 / 0.866 = 4.04; Welch df = 4.96; two-sided p = 0.0101.
    c = compare([1, 2, 3], [4, 5, 6, 7])
    assert c.difference == pytest.approx(3.5)
    assert c.standard_error == pytest.approx(math.sqrt(0.75))
    assert c.p_value == pytest.approx(0.01008, abs=1e-4)
    assert c.verdict == "worse"  # a higher loss
    assert compare([4, 5, 6, 7], [1, 2, 3]).verdict == "better"
    assert compare([1, 2, 3], [4, 5, 6, 7], lower_is_better=False).verdict == "changed"
    assert c.explain() == "worse (p = 0.01, 3 vs 4 seeds)"


def test_one_seed_on_a_side_gives_no_verdict_and_says_how_to_measure():
    for old, new in (([0.1918], [0.1927]), ([0.1918], [0.19, 0.2, 0.21]), ([0.19, 0.2, 0.21], [0.1927])):
        c = compare(old, new)
        assert c.verdict == "noise unknown" and c.p_value is None
        assert HOW_TO_MEASURE in c.explain() and "seeds=[0,1,2]" in c.explain()


def test_identical_values_are_the_same_whatever_the_number_of_seeds():
    assert compare([0.1918], [0.1918]).verdict == "same"
    assert compare([0.19, 0.2], [0.19, 0.2]).verdict == "same"


def test_runs_that_appear_or_disappear():
    assert compare([], [0.2]).verdict == "new"
    assert compare([0.2], []).verdict == "gone"
    assert compare([], []).verdict == "same"


def test_a_small_difference_inside_the_spread_is_within_noise():
    c = compare([0.190, 0.195, 0.200], [0.192, 0.197, 0.199])
    assert c.verdict == "within noise" and c.p_value > ALPHA


def test_on_synthetic_data_a_real_difference_is_found_and_noise_is_not():
    rng = np.random.default_rng(7)
    found = [
        compare(rng.normal(0.20, 0.005, 5), rng.normal(0.19, 0.005, 5)).verdict for _ in range(200)
    ]  # a real improvement of 2 standard deviations, 5 seeds a side
    assert found.count("better") / len(found) > 0.8 and "worse" not in found
    noise = [compare(rng.normal(0.2, 0.005, 3), rng.normal(0.2, 0.005, 3)).verdict for _ in range(2000)]
    # No real difference: "better" or "worse" about ALPHA of the time, no more.
    false_alarms = (noise.count("better") + noise.count("worse")) / len(noise)
    assert 0.02 <= false_alarms <= 0.08
    assert noise.count("within noise") == len(noise) - noise.count("better") - noise.count("worse")


def test_verdicts_get_sharper_with_more_seeds():
    # The same true difference (one standard deviation) is usually invisible with 3 seeds a side
    # and usually found with 30: the test's power grows with the seeds, unlike a fixed 2-std rule.
    rng = np.random.default_rng(11)

    def power(n: int) -> float:
        runs = [compare(rng.normal(0.2, 0.01, n), rng.normal(0.19, 0.01, n)).verdict for _ in range(300)]
        return runs.count("better") / len(runs)

    assert power(3) < 0.4 < 0.9 < power(30)


def test_scipy_is_imported_only_for_a_p_value():
    code = (
        "import sys; from dlpipe.report.comparison import Comparison, Sample\n"
        "one = Comparison(Sample.of([0.19]), Sample.of([0.2]), True); one.explain()\n"
        "print('scipy.stats' in sys.modules)\n"
        "Comparison(Sample.of([0.19, 0.2]), Sample.of([0.3, 0.31]), True).explain()\n"
        "print('scipy.stats' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
