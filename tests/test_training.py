import json

import numpy as np
import pytest

from dlpipe.arrays import Arrays
from dlpipe.experiment import Outputs, run_experiment
from dlpipe.params import TrainParams


def linear_arrays(n=256, seed=0, scale=1.0) -> Arrays:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32) * scale
    y = (x @ np.array([[1.0], [-2.0], [0.5], [0.0]], dtype=np.float32)) / scale
    return Arrays(x[: n * 3 // 4], y[: n * 3 // 4], x[n * 3 // 4 :], y[n * 3 // 4 :])


def train_params(**overrides) -> TrainParams:
    base = dict(
        units=[16, 8],
        activation="relu",
        optimizer="adam",
        learning_rate=0.01,
        loss="mae",
        batch_size=32,
        epochs=5,
        steps_per_execution=4,
    )
    return TrainParams(**{**base, **overrides})


def outputs(root) -> Outputs:
    return Outputs(root / "models", root / "metrics.json", root / "plots", root / "plots" / "loss.png")


def run(root, arrays, train, runs, seed=0):
    return run_experiment(runs, arrays, train, outputs(root), title="t", seeds=[seed])


def test_experiment_writes_models_metrics_curves_and_figure(tmp_path):
    metrics = run(tmp_path, linear_arrays(), train_params(), {"dropout": {"dropout": 0.3}, "no_dropout": {}})
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert on_disk == metrics and set(on_disk) == {"dropout", "no_dropout"}
    assert on_disk["no_dropout"]["epochs_trained"] == 5 and on_disk["no_dropout"]["diverged"] is False
    first = on_disk["no_dropout"]["min_val_loss"]
    curve = (tmp_path / "plots" / "no_dropout.csv").read_text().splitlines()
    assert curve[0] == "epoch,loss,val_loss" and len(curve) == 6
    assert min(float(line.split(",")[2]) for line in curve[1:]) == pytest.approx(first, rel=1e-6)
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["dropout.keras", "no_dropout.keras"]
    assert (tmp_path / "plots" / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Training actually learned something: the loss fell.
    assert on_disk["no_dropout"]["final_loss"] < float(curve[1].split(",")[1])


def test_same_seed_gives_bit_identical_metrics(tmp_path):
    runs = {"dropout": {"dropout": 0.3}}
    a = run(tmp_path / "a", linear_arrays(), train_params(), runs)
    b = run(tmp_path / "b", linear_arrays(), train_params(), runs)
    c = run(tmp_path / "c", linear_arrays(), train_params(), runs, seed=1)
    assert (tmp_path / "a/metrics.json").read_bytes() == (tmp_path / "b/metrics.json").read_bytes()
    assert (tmp_path / "a/plots/dropout.csv").read_bytes() == (tmp_path / "b/plots/dropout.csv").read_bytes()
    assert a == b and a != c


def test_divergence_is_recorded_and_stops_only_that_run(tmp_path):
    arrays = linear_arrays(scale=1e4)
    train = train_params(optimizer="sgd", learning_rate=1e30, epochs=4)
    metrics = run(tmp_path, arrays, train, {"batchnorm": {"batchnorm": True}, "no_batchnorm": {}})
    assert metrics["no_batchnorm"]["diverged"] is True
    assert metrics["no_batchnorm"]["epochs_trained"] == metrics["no_batchnorm"]["diverged_at_epoch"] < 4
    json.loads((tmp_path / "metrics.json").read_text())  # strict JSON: no NaN tokens
    assert "nan" not in (tmp_path / "plots" / "no_batchnorm.csv").read_text().lower()


def test_several_seeds_give_mean_std_and_each_seeds_own_result(tmp_path):
    runs = {"dropout": {"dropout": 0.3}}
    single = {s: run(tmp_path / f"s{s}", linear_arrays(), train_params(), runs, seed=s)["dropout"] for s in (0, 1)}
    both = run_experiment(runs, linear_arrays(), train_params(), outputs(tmp_path / "both"), title="t", seeds=[0, 1])[
        "dropout"
    ]
    # Each seed's result is exactly what a one-seed run with that seed gives.
    assert both["per_seed"] == {"0": single[0], "1": single[1]}
    values = [single[0]["min_val_loss"], single[1]["min_val_loss"]]
    assert both["min_val_loss"] == pytest.approx(sum(values) / 2)
    assert both["min_val_loss_std"] == pytest.approx(abs(values[0] - values[1]) / 2**0.5)
    assert both["seeds"] == 2 and both["diverged"] is False and both["diverged_seeds"] == 0
    header = (tmp_path / "both/plots/dropout.csv").read_text().splitlines()[0]
    assert header == "epoch,loss,val_loss,loss_std,val_loss_std,seeds"
    models = sorted(p.name for p in (tmp_path / "both/models").iterdir())
    assert models == ["dropout_seed0.keras", "dropout_seed1.keras"]
