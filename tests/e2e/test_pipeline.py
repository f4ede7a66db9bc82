"""The real `dvc repro` in a temporary clone, on small data with the real schemas."""

import json

import pytest

pytestmark = pytest.mark.e2e

STAGES = ("fetch", "group_split", "preprocess", "train_dropout", "train_batchnorm")


def ran(output: str) -> set[str]:
    return {s for s in STAGES if f"Running stage '{s}'" in output}


def test_repro_builds_every_output_then_does_nothing(clone):
    out = clone.dvc("repro").stdout
    assert ran(out) == set(STAGES)

    metrics = json.loads((clone.path / "metrics/train_dropout.json").read_text())
    assert set(metrics) == {"dropout", "no_dropout"}
    for run in metrics.values():
        assert run["epochs_trained"] == 3 and run["diverged"] is False
        assert 1 <= run["min_val_loss_epoch"] <= 3 and run["min_val_loss"] > 0
        assert run["overfitting_gap"] >= 0
    batchnorm = json.loads((clone.path / "metrics/train_batchnorm.json").read_text())
    assert set(batchnorm) == {"batchnorm", "no_batchnorm"}
    assert batchnorm["batchnorm"]["epochs_trained"] == 4

    curve = (clone.path / "plots/train_dropout/dropout.csv").read_text().splitlines()
    assert curve[0] == "epoch,loss,val_loss" and [r.split(",")[0] for r in curve[1:]] == ["1", "2", "3"]
    assert sorted(p.name for p in (clone.path / "data/models/train_dropout").iterdir()) == [
        "dropout.keras",
        "no_dropout.keras",
    ]
    assert sorted(p.name for p in (clone.path / "data/raw").iterdir()) == ["concrete.csv", "spotify_songs.csv"]

    # DVC draws the top-level plots from these files: both runs, train and validation.
    plots = json.loads(clone.dvc("plots", "show", "--json").stdout)["data"]
    values = plots["dropout_loss"][0]["content"]["data"]["values"]
    assert {v["filename::field"] for v in values} == {
        "dropout.csv::loss",
        "dropout.csv::val_loss",
        "no_dropout.csv::loss",
        "no_dropout.csv::val_loss",
    }
    shown = json.loads(clone.dvc("metrics", "show", "--json").stdout)
    assert shown[""]["data"]["metrics/train_dropout.json"]["data"] == metrics

    assert "Data and pipelines are up to date" in clone.dvc("status").stdout
    again = clone.dvc("repro").stdout
    assert ran(again) == set() and "Data and pipelines are up to date" in again


def test_changing_dropout_retrains_only_the_dropout_stage(clone):
    clone.dvc("repro")
    before = json.loads((clone.path / "metrics/train_dropout.json").read_text())
    batchnorm = (clone.path / "metrics/train_batchnorm.json").read_bytes()

    out = clone.dvc("exp", "run", "-S", "dropout=0.5").stdout
    assert ran(out) == {"train_dropout"}
    after = json.loads((clone.path / "metrics/train_dropout.json").read_text())
    assert after["dropout"] != before["dropout"]
    # The control run has no Dropout layer: same seed, same data, same result.
    assert after["no_dropout"] == before["no_dropout"]
    assert (clone.path / "metrics/train_batchnorm.json").read_bytes() == batchnorm


def test_forced_retraining_is_bit_identical(clone):
    clone.dvc("repro")
    first = {
        p: (clone.path / p).read_bytes()
        for p in ("metrics/train_dropout.json", "metrics/train_batchnorm.json", "plots/train_dropout/dropout.csv")
    }
    out = clone.dvc("repro", "--force", "--single-item", "train_dropout", "train_batchnorm").stdout
    assert ran(out) == {"train_dropout", "train_batchnorm"}
    assert {p: (clone.path / p).read_bytes() for p in first} == first


def test_bad_data_fails_with_one_clear_line_and_writes_nothing(clone):
    mirror = clone.env["FETCH_MIRROR"]
    path = f"{mirror}/concrete.csv"
    with open(path) as fh:
        text = fh.read()
    with open(path, "w") as fh:
        fh.write(text.replace("Water", "H2O", 1))
    proc = clone.dvc("repro", check=False)
    assert proc.returncode != 0
    assert "fetch: error:" in proc.stdout and "neither the Kaggle names" in proc.stdout
    assert "Traceback" not in proc.stdout
    assert not (clone.path / "data/raw").exists()
