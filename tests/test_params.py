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


# Spellings a user (or `dvc exp run -S`) may write, on keys of each type the schema has. For each, the
# value a stage gets must be the one DVC records (dvc.lock, `dvc params diff`), or the stage must refuse it.
SPELLINGS = ("1e-05", "1e-3", "1E-3", ".5", "010", "0o10", "1:00", "1_000", "yes", "on", "~", "0x10")
KEYS = {  # dotted key -> the line of the repository's params.yaml that sets it
    "train_dropout.learning_rate": "  learning_rate: 0.001\n",
    "train_dropout.epochs": "  epochs: 50\n",
    "preprocess.standardize_concrete": "  standardize_concrete: false\n",
}


# The types of value each key takes (an int is a valid rate, as in `dvc exp run -S dropout=0`).
FITS = {
    "train_dropout.learning_rate": (float, int),
    "train_dropout.epochs": (int,),
    "preprocess.standardize_concrete": (bool,),
}


@pytest.fixture(scope="module")
def dvc_reading(tmp_path_factory):
    """params.yaml text -> what DVC itself reads from it (its `params show`, in a DVC project of its own)."""
    from dvc.repo import Repo

    folder = tmp_path_factory.mktemp("dvc-project")
    Repo.init(str(folder), no_scm=True)
    (folder / "dvc.yaml").write_text("stages:\n  s:\n    cmd: 'true'\n    params:\n      - params.yaml:\n")

    def read(text: str) -> dict:
        (folder / "params.yaml").write_text(text, encoding="utf-8")
        with Repo(str(folder)) as repo:
            return repo.params.show()[""]["data"]["params.yaml"]["data"]

    return read


def _at(tree: dict, dotted: str):
    for part in dotted.split("."):
        tree = tree[part]
    return tree


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("key", list(KEYS))
def test_a_stage_reads_every_spelling_as_dvc_does_or_refuses_it(tmp_path, dvc_reading, key, spelling):
    original = (ROOT / "params.yaml").read_text(encoding="utf-8")
    line = KEYS[key]
    assert original.count(line) == 1
    text = original.replace(line, line.split(":")[0] + f": {spelling}\n")
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    recorded = _at(dvc_reading(text), key)
    try:
        value = _at(load_params(path).model_dump(), key)
    except UserError as exc:
        # Refused: only a value of another type than the key's, in one message naming the key and the
        # very value DVC records.
        assert f"{key}: {recorded!r} is not allowed" in str(exc)
        assert type(recorded) not in FITS[key]
    else:
        assert value == recorded and type(recorded) in FITS[key]


def test_the_spellings_pyyaml_misreads_are_read_as_dvc_writes_them(tmp_path):
    # DVC writes 1e-5 as 1e-05 (`dvc exp run -S train_dropout.learning_rate=1e-5`): a number, not a string;
    # 010 is ten, not eight (YAML 1.1's octal); 1:00 is a string, not sixty (YAML 1.1's base 60).
    original = (ROOT / "params.yaml").read_text(encoding="utf-8")
    path = tmp_path / "params.yaml"
    path.write_text(original.replace("  learning_rate: 0.001\n", "  learning_rate: 1e-05\n"), encoding="utf-8")
    assert load_params(path).train_dropout.learning_rate == 1e-05
    path.write_text(original.replace("  seed: 0\n", "  seed: 010\n"), encoding="utf-8")
    assert load_params(path).group_split.seed == 10
    path.write_text(original.replace("  epochs: 50\n", "  epochs: 1:00\n"), encoding="utf-8")
    with pytest.raises(UserError, match=r"train_dropout\.epochs: '1:00' is not allowed"):
        load_params(path)


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (lambda p: p.update(dropuot=0.5), "dropuot: unknown key (did you mean dropout?)"),
        (lambda p: p.update(learning_rate=0.5), "learning_rate: unknown key (the keys here are seeds, dropout,"),
        (
            lambda p: p["train_dropout"].update(learnig_rate=0.5),
            "train_dropout.learnig_rate: unknown key (did you mean learning_rate?)",
        ),
    ],
)
def test_an_unknown_key_is_named_with_the_closest_known_one(change, line):
    params = raw_params()
    change(params)
    with pytest.raises(UserError) as info:
        validate_params(params)
    assert line in str(info.value)


def test_invalid_yaml_is_one_message_naming_the_file_and_line(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("dropout: 0.3\ndropout: 0.5\n", encoding="utf-8")
    with pytest.raises(UserError) as info:
        load_params(path)
    message = str(info.value)
    assert message.startswith(f"{path} is not valid YAML") and 'duplicate key "dropout"' in message
    assert "line 2" in message and "\n" not in message
