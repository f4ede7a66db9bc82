"""Sweep points: DVC's grid syntax expanded, one point's values, the experiment name every machine derives."""

from __future__ import annotations

import json
import re

import pytest

from dlpipe.core.errors import UserError
from dlpipe.sweep.grid import (
    check_sweep_name,
    expand,
    experiment_name,
    main,
    matrix,
    parse_point,
    seeds_override,
    swept_params,
)


def test_a_grid_expands_like_dvc_exp_run_s_with_the_seeds_on_every_point():
    points = expand("dropout=0.0,0.1 train_dropout.optimizer=adam,sgd", seeds="0, 1,2")
    assert points == [
        ["dropout=0.0", "train_dropout.optimizer=adam", "seeds=[0,1,2]"],
        ["dropout=0.0", "train_dropout.optimizer=sgd", "seeds=[0,1,2]"],
        ["dropout=0.1", "train_dropout.optimizer=adam", "seeds=[0,1,2]"],
        ["dropout=0.1", "train_dropout.optimizer=sgd", "seeds=[0,1,2]"],
    ]
    assert swept_params(points) == ["dropout", "train_dropout.optimizer"]
    assert expand("params.yaml:dropout=0.1,0.2") == [["dropout=0.1"], ["dropout=0.2"]]
    # A value written twice is one point: one job, one experiment.
    assert expand("dropout=0.1,0.1,0,0.0") == [["dropout=0.1"], ["dropout=0"]]
    units = expand("train_dropout.units=[64,32],[128,64]")
    assert units == [["train_dropout.units=[64,32]"], ["train_dropout.units=[128,64]"]]


@pytest.mark.parametrize(
    ("grid", "seeds", "message"),
    [
        ("", "", "the grid is empty"),
        ("dropout=[0.1", "", "grid 'dropout=[0.1': "),
        ('dropout=0.1 "x', "", "No closing quotation"),
        ("dropout=0.1", "0,x", "seeds '0,x': give them as numbers separated by commas"),
        ("other.yaml:a=1,2", "", "only params.yaml params can be swept"),
        ("dropout=", "", "dropout=: dropout has an empty value; give it one: dropout=VALUE"),
        ("dropout=0.1 train_dropout.epochs=''", "", "train_dropout.epochs=: train_dropout.epochs has an empty value"),
    ],
)
def test_a_bad_grid_is_one_line(grid, seeds, message):
    with pytest.raises(UserError, match=re.escape(message)) as info:
        expand(grid, seeds)
    assert "\n" not in str(info.value)


def test_a_point_is_parsed_as_dvc_parses_it():
    assert parse_point(["train_dropout.learning_rate=1e-3", "seeds=[0, 1]", "dropout=0"]) == {
        "dropout": 0,
        "seeds": [0, 1],
        "train_dropout.learning_rate": 0.001,
    }
    assert seeds_override("") == [] and seeds_override("3,4") == ["seeds=[3,4]"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["dropout=0.1,0.2"], "is a sweep; a worker runs one point"),
        (["+x=1"], "can only change existing params"),
        (["~dropout"], "can only change existing params"),
        (["dropout=0.1", "dropout=0.2"], "dropout is set twice"),
        (["dropout"], "-S dropout: Error parsing override"),
        (["dropout="], "dropout=: dropout has an empty value; give it one: dropout=VALUE"),
        ([], "a point needs at least one -S"),
    ],
)
def test_a_point_is_one_value_per_existing_param(overrides, message):
    with pytest.raises(UserError, match=re.escape(message)):
        parse_point(overrides)


def test_experiment_names_are_readable_deterministic_and_valid_git_refs():
    assert experiment_name("wide", parse_point(["seeds=[0,1,2]", "dropout=0.3"])) == "wide-dropout-0.3-seeds-0_1_2"
    # The same point written differently is the same experiment.
    assert experiment_name("s", {"dropout": 0}) == experiment_name("s", {"dropout": 0.0}) == "s-dropout-0"
    assert experiment_name("s", {"train_dropout.learning_rate": 1e-05}) == "s-train_dropout.learning_rate-1e-05"
    assert experiment_name("s", {"train_dropout.loss": "log_cosh"}) == "s-train_dropout.loss-log_cosh"
    assert experiment_name("s", {"preprocess.standardize_concrete": True}) == "s-preprocess.standardize_concrete-true"
    # No short unambiguous form, or too long: the readable start and a hash of the values.
    odd = experiment_name("s", {"train_dropout.activation": "a b/c"})
    assert re.fullmatch(r"s-train_dropout\.activation-[0-9a-f]{8}", odd)
    assert odd != experiment_name("s", {"train_dropout.activation": "a b/d"})
    assert experiment_name("s", {"a": "x y", "b": [1, 2]}) == experiment_name("s", {"a": "x y", "b": [1.0, 2.0]})
    long = experiment_name("s", {"train_batchnorm.units": list(range(40))})
    assert len(long) <= 80 and long == experiment_name("s", {"train_batchnorm.units": list(range(40))})
    for name in (odd, long, "wide-dropout-0.3-seeds-0_1_2"):
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]*", name) and ".." not in name


@pytest.mark.parametrize("name", ["", "a-b", "with space", "x" * 41, "a/b"])
def test_sweep_names_cannot_look_like_another_sweeps_experiments(name):
    with pytest.raises(UserError, match="sweep name"):
        check_sweep_name(name)


def test_the_matrix_is_one_job_per_point_by_index(capsys):
    assert matrix([["dropout=0.1"], ["dropout=0.2", "seeds=[0,1]"]]) == {
        "include": [{"index": 0, "point": "dropout=0.1"}, {"index": 1, "point": "dropout=0.2 seeds=[0,1]"}]
    }
    main(["--grid", "dropout=0.0,0.5", "--seeds", "0,1"])
    printed = capsys.readouterr().out
    assert printed.count("\n") == 1
    assert json.loads(printed)["include"][1] == {"index": 1, "point": "dropout=0.5 seeds=[0,1]"}
