import json
import math

import pandas as pd
import pytest

from dlpipe.summary import finite_history, mean_history, summarize, summarize_seeds


def history(loss, val_loss):
    return pd.DataFrame({"epoch": range(1, len(loss) + 1), "loss": loss, "val_loss": val_loss})


def test_summary_of_an_overfitting_run():
    s = summarize(history([0.5, 0.3, 0.2, 0.1], [0.6, 0.4, 0.45, 0.5]))
    assert s == {
        "epochs_trained": 4,
        "diverged": False,
        "min_val_loss": 0.4,
        "min_val_loss_epoch": 2,
        "final_loss": 0.1,
        "final_val_loss": 0.5,
        "overfitting_gap": pytest.approx(0.1),
    }


def test_a_run_that_diverges_later_keeps_its_finite_part():
    s = summarize(history([5.0, 4.0, math.nan], [6.0, 4.5, math.nan]))
    assert s["diverged"] is True and s["diverged_at_epoch"] == 3
    assert s["min_val_loss"] == 4.5 and s["final_loss"] == 4.0 and s["epochs_trained"] == 3


def test_a_run_that_diverges_at_once_has_no_loss_numbers_and_valid_json():
    s = summarize(history([math.nan], [math.inf]))
    assert s == {"epochs_trained": 1, "diverged": True, "diverged_at_epoch": 1}
    json.dumps(s, allow_nan=False)


def test_infinite_validation_loss_counts_as_divergence():
    h = history([1.0, 0.9], [2.0, math.inf])
    assert len(finite_history(h)) == 1
    assert summarize(h)["diverged_at_epoch"] == 2


def test_one_seed_summary_is_unchanged():
    one = summarize(history([0.5, 0.4], [0.6, 0.5]))
    assert summarize_seeds({7: one}) == one


def test_seeds_combine_finite_numbers_and_count_divergence():
    ok = summarize(history([0.5, 0.4], [0.6, 0.5]))
    bad = summarize(history([math.nan], [math.nan]))
    combined = summarize_seeds({0: ok, 1: bad, 2: summarize(history([0.5, 0.3], [0.6, 0.7]))})
    assert combined["seeds"] == 3 and combined["diverged"] is True and combined["diverged_seeds"] == 1
    assert combined["min_val_loss"] == pytest.approx(0.55) and combined["min_val_loss_std"] == pytest.approx(0.0707107)
    assert set(combined["per_seed"]) == {"0", "1", "2"}
    json.dumps(combined, allow_nan=False)


def test_mean_history_averages_the_seeds_still_finite():
    curve = mean_history({0: history([1.0, 0.5], [2.0, 1.0]), 1: history([3.0, math.nan], [4.0, math.nan])})
    assert curve["loss"].tolist() == [2.0, 0.5] and curve["seeds"].tolist() == [2, 1]
    assert curve["loss_std"].tolist() == pytest.approx([2**0.5, 0.0])
