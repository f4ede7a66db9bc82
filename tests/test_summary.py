import json
import math

import pandas as pd
import pytest

from dlpipe.train.summary import (
    SEED_COLUMNS,
    aggregate,
    finite_history,
    mean_history,
    metric_major,
    pipeline_summary,
    read_seed_table,
    run_major,
    summarize_seed,
    write_seed_table,
)


def history(loss, val_loss):
    return pd.DataFrame({"epoch": range(1, len(loss) + 1), "loss": loss, "val_loss": val_loss})


def test_summary_of_an_overfitting_run():
    s = summarize_seed(history([0.5, 0.3, 0.2, 0.1], [0.6, 0.4, 0.45, 0.5]))
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
    s = summarize_seed(history([5.0, 4.0, math.nan], [6.0, 4.5, math.nan]))
    assert s["diverged"] is True and s["diverged_at_epoch"] == 3
    assert s["min_val_loss"] == 4.5 and s["final_loss"] == 4.0 and s["epochs_trained"] == 3


def test_a_run_that_diverges_at_once_has_no_loss_numbers_and_valid_json():
    s = summarize_seed(history([math.nan], [math.inf]))
    assert s == {"epochs_trained": 1, "diverged": True, "diverged_at_epoch": 1}
    json.dumps(s, allow_nan=False)


def test_infinite_validation_loss_counts_as_divergence():
    h = history([1.0, 0.9], [2.0, math.inf])
    assert len(finite_history(h)) == 1
    assert summarize_seed(h)["diverged_at_epoch"] == 2


def test_one_seed_gives_what_a_reviewer_compares_as_that_seed_gave_it():
    one = summarize_seed(history([0.5, 0.4], [0.6, 0.5]))
    assert aggregate({7: one}) == {
        "min_val_loss": 0.5,
        "min_val_loss_epoch": 2,
        "overfitting_gap": 0.0,
        "diverged": False,
    }
    bad = aggregate({0: summarize_seed(history([math.nan], [math.nan]))})
    assert bad == {"diverged": True, "diverged_at_epoch": 1}


def test_seeds_combine_finite_numbers_and_count_divergence():
    ok = summarize_seed(history([0.5, 0.4], [0.6, 0.5]))
    bad = summarize_seed(history([math.nan], [math.nan]))
    later = summarize_seed(history([0.5, 0.3, math.inf], [0.6, 0.7, 0.8]))
    combined = aggregate({0: ok, 1: bad, 2: later})
    assert combined["seeds"] == 3 and combined["diverged"] is True and combined["diverged_seeds"] == 2
    assert combined["diverged_at_epoch"] == 1
    assert combined["min_val_loss"] == pytest.approx(0.55) and combined["min_val_loss_std"] == pytest.approx(0.0707107)
    assert (combined["min_val_loss_epoch_min"], combined["min_val_loss_epoch_max"]) == (1, 2)
    assert "min_val_loss_epoch" not in combined  # a mean epoch is not an epoch
    json.dumps(combined, allow_nan=False)


def test_one_finite_value_among_several_seeds_has_no_standard_deviation():
    ok = summarize_seed(history([0.5, 0.4], [0.6, 0.5]))
    bad = summarize_seed(history([math.nan], [math.nan]))
    combined = aggregate({0: ok, 1: bad})
    assert combined["min_val_loss"] == 0.5 and "min_val_loss_std" not in combined


def test_metric_major_puts_every_runs_min_val_loss_first_and_round_trips():
    per_run = {
        "dropout": {"min_val_loss": 0.19, "min_val_loss_epoch": 41, "overfitting_gap": 0.001, "diverged": False},
        "no_batchnorm": {"diverged": True, "diverged_at_epoch": 1},
    }
    major = metric_major(per_run)
    assert list(major) == ["min_val_loss", "overfitting_gap", "min_val_loss_epoch", "diverged", "diverged_at_epoch"]
    assert major["min_val_loss"] == {"dropout": 0.19} and major["diverged"] == {"dropout": False, "no_batchnorm": True}
    assert run_major(major) == per_run


def test_the_seed_table_round_trips_every_detail_exactly(tmp_path):
    per_run = {
        "dropout": {0: summarize_seed(history([0.5, 0.4], [0.6, 0.1 + 0.2])), 3: summarize_seed(history([0.5], [0.7]))},
        "no_dropout": {0: summarize_seed(history([math.nan], [math.nan]))},
    }
    write_seed_table(per_run, tmp_path / "seeds.csv")
    assert (tmp_path / "seeds.csv").read_text().splitlines()[0] == ",".join(SEED_COLUMNS)
    assert read_seed_table(tmp_path / "seeds.csv") == per_run


def test_pipeline_summary_aggregates_every_stage_and_refuses_a_run_twice(tmp_path):
    write_seed_table({"dropout": {0: summarize_seed(history([0.5], [0.6]))}}, tmp_path / "a.csv")
    write_seed_table({"batchnorm": {0: summarize_seed(history([5.0], [4.0]))}}, tmp_path / "b.csv")
    summary = pipeline_summary([tmp_path / "a.csv", tmp_path / "b.csv"])
    assert summary["min_val_loss"] == {"dropout": 0.6, "batchnorm": 4.0}
    with pytest.raises(ValueError, match="run dropout is also in another stage's table"):
        pipeline_summary([tmp_path / "a.csv", tmp_path / "a.csv"])


def test_mean_history_averages_the_seeds_still_finite():
    curve = mean_history({0: history([1.0, 0.5], [2.0, 1.0]), 1: history([3.0, math.nan], [4.0, math.nan])})
    assert curve["loss"].tolist() == [2.0, 0.5] and curve["seeds"].tolist() == [2, 1]
    assert curve["loss_std"].tolist() == pytest.approx([2**0.5, 0.0])
