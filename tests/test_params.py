from pathlib import Path

import pytest
import yaml

from dlpipe.core.errors import UserError
from dlpipe.core.params import load_params, validate_params

ROOT = Path(__file__).resolve().parents[1]


def raw_params() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def test_repository_params_are_valid_and_hold_the_notebook_defaults():
    params = load_params(ROOT / "params.yaml")
    assert params.dropout == 0.3
    assert params.train_dropout.units == [128, 64]
    assert (params.train_dropout.optimizer, params.train_dropout.loss) == ("adam", "mae")
    assert (params.train_dropout.batch_size, params.train_dropout.epochs) == (512, 50)
    assert params.train_batchnorm.units == [512, 512, 512]
    assert (params.train_batchnorm.optimizer, params.train_batchnorm.batch_size) == ("sgd", 64)
    assert params.train_batchnorm.epochs == 100 and params.train_batchnorm.batchnorm is True
    assert params.preprocess.standardize_concrete is False
    assert params.group_split.spotify_train_size == 0.75
    assert params.group_split.concrete_train_size == 0.7


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda p: p.update(dropout=1.0), "dropout: 1.0 is not allowed"),
        (lambda p: p.update(dropout="abc"), "dropout: 'abc' is not allowed"),
        (lambda p: p.update(dropuot=0.5), "dropuot: unknown key"),
        (lambda p: p["train_dropout"].update(optimizer="adamm"), "train_dropout.optimizer: 'adamm'"),
        (lambda p: p["train_batchnorm"].update(epochs=0), "train_batchnorm.epochs: 0"),
        (lambda p: p["train_batchnorm"].update(units=[]), "train_batchnorm.units: []"),
        (lambda p: p["group_split"].update(spotify_train_size=1.5), "group_split.spotify_train_size: 1.5"),
        (lambda p: p["group_split"].pop("seed"), "group_split.seed: missing"),
    ],
)
def test_bad_params_are_reported_by_key_and_value(change, fragment):
    params = raw_params()
    change(params)
    with pytest.raises(UserError) as info:
        validate_params(params)
    assert fragment in str(info.value)


def test_an_integer_where_a_rate_is_expected_is_accepted():
    params = raw_params()
    params["dropout"] = 0
    assert validate_params(params).dropout == 0.0
