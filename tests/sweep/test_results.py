"""Sweep points: experiments that vary the swept param alone, duplicates checked, ambiguity reported."""

import pytest

from dlpipe.core.errors import UserError
from dlpipe.sweep.results import Sweep, experiments, load_sweep, section, select, varying_runs

BASE = {"dropout": 0.3, "seeds": [0], "train_dropout.epochs": 50}


def metrics(loss: float, std: float | None = None) -> dict:
    m = {"min_val_loss": {"dropout": loss, "no_dropout": 0.2}, "overfitting_gap": {"dropout": 0.001}}
    if std is not None:
        m["min_val_loss_std"] = {"dropout": std}
    return m


def exp(name: str, params: dict, summary: dict) -> dict:
    nested: dict = {}
    for key, value in params.items():
        *parents, last = key.split(".")
        node = nested
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return {
        "name": name,
        "rev": name * 8,
        "data": {
            "params": {"params.yaml": {"data": nested}},
            "metrics": {"metrics/summary.json": {"data": summary}},
        },
    }


def show_answer() -> list:
    return [
        {
            "rev": "workspace",
            "name": None,
            "data": exp("ws", BASE, metrics(0.19))["data"],
            "experiments": [
                {"revs": [exp("exp-a", {**BASE, "dropout": 0.1}, metrics(0.195, 0.002))]},
                {"revs": [exp("exp-b", {**BASE, "dropout": 0.5}, metrics(0.189))]},
                {"revs": [exp("exp-c", {**BASE, "dropout": 0.5}, metrics(0.200))]},  # same params, other result
                {"revs": [exp("exp-d", {**BASE, "dropout": 0.1, "train_dropout.epochs": 5}, metrics(0.3))]},
                {"revs": [exp("exp-e", {**BASE, "dropout": 0.1}, metrics(0.195, 0.002))]},  # a true duplicate
            ],
        }
    ]


def test_points_vary_the_param_alone_and_ambiguous_duplicates_are_reported():
    sweep = select("dropout", BASE, list(experiments(show_answer())))
    assert [(p.value, p.names) for p in sweep.points] == [(0.1, ("exp-a", "exp-e")), (0.3, ("workspace",))]
    assert sweep.ambiguous == {0.5: ["exp-b", "exp-c"]}
    assert sweep.ignored == 1  # exp-d changed the epochs too
    assert varying_runs(sweep) == ["dropout"]  # no_dropout is 0.2 everywhere


def test_the_section_and_its_figure_show_the_points_with_their_spread(tmp_path):
    sweep = select("dropout", BASE, list(experiments(show_answer())))
    lines = section(sweep, tmp_path)
    assert "| 0.1 | exp-a, exp-e | 0.1950 ± 0.0020 | 0.0010 |" in lines
    assert any("Ambiguous: `dropout=0.5` has different results in exp-b, exp-c; not drawn." in line for line in lines)
    assert "![min validation loss and overfitting gap vs dropout](sweep-dropout.png)" in lines
    assert [p.name for p in tmp_path.iterdir()] == ["sweep-dropout.png"]
    assert (tmp_path / "sweep-dropout.png").read_bytes().startswith(b"\x89PNG")


def test_an_empty_sweep_says_so_and_draws_nothing(tmp_path):
    lines = section(Sweep("train_dropout.learning_rate", [], {}, 3), tmp_path)
    assert "No experiment varies `train_dropout.learning_rate` alone" in lines[2]
    assert not any("](" in line for line in lines) and not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("param", "message"),
    [
        (
            "nonsense",
            "--sweep nonsense: unknown param; the params with a number in params.yaml are dropout, "
            "train_dropout.epochs",
        ),
        (
            "train_dropout.epoch",
            "--sweep train_dropout.epoch: unknown param (did you mean train_dropout.epochs?); the params with a "
            "number in params.yaml are train_dropout.epochs, dropout",
        ),
        (
            "seeds",
            "--sweep seeds: its value [0] is not a number, and a sweep draws the results against a number; "
            "give one of dropout, train_dropout.epochs",
        ),
    ],
)
def test_a_param_that_cannot_be_swept_is_one_line_naming_those_that_can(tmp_path, param, message):
    # Refused before DVC is asked anything (tmp_path is no repository).
    with pytest.raises(UserError) as info:
        load_sweep(param, BASE, tmp_path)
    assert str(info.value) == message
