"""The collector's report: the sweep's fixed params found, points with their spread, missing points named."""

from __future__ import annotations

from dlpipe.sweep.collect import markdown, reference
from dlpipe.sweep.results import section, select

BASE = {"dropout": 0.3, "seeds": [0], "train_dropout.epochs": 50}


def point(name: str, dropout: float, loss: float, **params: object) -> tuple[str, dict, dict]:
    summary = {"dropout": {"min_val_loss": loss, "min_val_loss_std": 0.002, "overfitting_gap": 0.001, "seeds": 3}}
    summary["no_dropout"] = {"min_val_loss": 0.2, "overfitting_gap": 0.004, "seeds": 3}
    return name, {**BASE, "seeds": [0, 1, 2], "dropout": dropout, **params}, summary


FOUND = [
    point("s-dropout-0.1-seeds-0_1_2", 0.1, 0.195),
    point("s-dropout-0.5-seeds-0_1_2", 0.5, 0.189),
    point("s-odd", 0.5, 0.3, **{"train_dropout.epochs": 5}),  # another param changed too: left out
]


def test_the_reference_is_what_most_points_share_seeds_included():
    assert reference("dropout", FOUND) == FOUND[0][1]
    assert reference("dropout", []) == {}
    # A tie: the first found.
    assert reference("dropout", FOUND[1:]) == FOUND[1][1] and reference("dropout", FOUND[:0:-1]) == FOUND[2][1]


def test_the_report_shows_mean_and_std_the_fixed_params_and_the_missing_points(tmp_path):
    sweep = select("dropout", reference("dropout", FOUND), FOUND)
    fixed = [("seeds", [0], [0, 1, 2])]
    missing = {"s-dropout-0.9-seeds-0_1_2": "dropout=0.9 seeds=[0,1,2]"}
    text = markdown("s", "3 experiment(s) of this sweep on `origin`.", fixed, section(sweep, tmp_path), missing)
    lines = text.splitlines()
    assert lines[:3] == ["# Sweep `s`", "", "3 experiment(s) of this sweep on `origin`."]
    assert "Every point also sets `seeds` = [0, 1, 2] (commit: [0])." in lines
    assert "| 0.1 | s-dropout-0.1-seeds-0_1_2 | 0.1950 ± 0.0020 | 0.0010 |" in lines
    assert "| 0.5 | s-dropout-0.5-seeds-0_1_2 | 0.1890 ± 0.0020 | 0.0010 |" in lines
    assert "- 1 other experiment(s) differ in another param too and are left out." in lines
    assert "![min validation loss and overfitting gap vs dropout](sweep-dropout.png)" in lines
    assert lines[-3:] == [
        "## Missing points",
        "",
        "- `dropout=0.9 seeds=[0,1,2]`: no experiment `s-dropout-0.9-seeds-0_1_2` "
        "(its worker failed or has not pushed yet)",
    ]
