import json
import math

import pandas as pd
import pytest

from dlpipe.summary import finite_history, summarize


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
