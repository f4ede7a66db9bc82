"""The schemas of params.yaml and sources.yaml: types, ranges and allowed names, in one place.

Both files are read by DVC's own YAML reader (ruamel.yaml's YAML 1.2 "safe" loader, through
:func:`dvc.utils.serialize.parse_yaml`), so that every value means to a stage exactly what DVC records
in dvc.lock and shows in `dvc params diff`: ``1e-05`` is a number, ``010`` is ten, ``yes`` and ``1:00``
are strings (PyYAML's YAML 1.1 reads them as a string, eight, true and sixty).
Validation happens before any heavy import, so a typo costs a second, not a TensorFlow start-up.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dlpipe.core.errors import UserError

# Names accepted by keras.optimizers.get / keras.losses.get, listed here so that a typo is
# caught before Keras is imported.
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "ftrl", "lion")
LOSSES = (
    "mae",
    "mse",
    "mape",
    "msle",
    "huber",
    "log_cosh",
    "mean_absolute_error",
    "mean_squared_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
)

Fraction = Annotated[float, Field(gt=0, lt=1)]
PositiveInt = Annotated[int, Field(ge=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


ModelT = TypeVar("ModelT", bound=_Strict)


Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Url = Annotated[str, Field(pattern=r"^https?://\S+/[^/\s]+$")]


class _Source(_Strict):
    url: Url
    rows: PositiveInt
    # Verification can be turned off only on purpose, never by leaving the checksum out.
    verify: bool = True
    _check: ClassVar[str]  # the field the file is checked against

    @model_validator(mode="after")
    def _checked(self) -> _Source:
        if self.verify and getattr(self, self._check) is None:
            raise ValueError(f"needs `{self._check}` to check the file against, or `verify: false` to skip the check")
        return self


class SpotifySource(_Source):
    """The Spotify songs CSV, recognised by the sha256 of its bytes."""

    sha256: Sha256 | None = None
    _check = "sha256"


class ConcreteSource(_Source):
    """The concrete table, recognised by its content (an Excel file's bytes change on every re-save)."""

    fingerprint: Sha256 | None = None
    _check = "fingerprint"


class Sources(_Strict):
    """The whole sources.yaml: where the raw tables come from and how to recognise them."""

    spotify: SpotifySource
    concrete: ConcreteSource


class SplitParams(_Strict):
    seed: Annotated[int, Field(ge=0, lt=2**32)]
    spotify_train_size: Fraction
    concrete_train_size: Fraction


class PreprocessParams(_Strict):
    standardize_concrete: bool


class TrainParams(_Strict):
    """One network and how to train it."""

    units: Annotated[list[PositiveInt], Field(min_length=1)]
    activation: Literal["relu", "elu", "gelu", "selu", "tanh", "sigmoid", "swish", "linear"]
    optimizer: Literal[OPTIMIZERS]  # type: ignore[valid-type]
    learning_rate: Annotated[float, Field(gt=0)]
    loss: Literal[LOSSES]  # type: ignore[valid-type]
    batch_size: PositiveInt
    epochs: PositiveInt
    steps_per_execution: PositiveInt


class BatchnormTrainParams(TrainParams):
    batchnorm: bool


class Params(_Strict):
    """The whole params.yaml."""

    seeds: Annotated[list[Annotated[int, Field(ge=0, lt=2**31)]], Field(min_length=1, max_length=100)]
    dropout: Annotated[float, Field(ge=0, lt=1)]
    keras_backend: Literal["jax", "tensorflow"]
    group_split: SplitParams
    preprocess: PreprocessParams
    train_dropout: TrainParams
    train_batchnorm: BatchnormTrainParams

    @field_validator("seeds")
    @classmethod
    def _distinct(cls, seeds: list[int]) -> list[int]:
        if len(set(seeds)) != len(seeds):
            raise ValueError("seeds must be distinct")
        return seeds


def _known_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys a mapping at ``loc`` (a path of keys under ``model``) may have."""
    for key in loc:
        field = model.model_fields.get(str(key))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _describe(error: dict, model: type[BaseModel]) -> str:
    where = ".".join(str(p) for p in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        known = _known_keys(model, error["loc"][:-1])
        close = difflib.get_close_matches(str(error["loc"][-1]), known, n=1)
        hint = f"did you mean {close[0]}?" if close else f"the keys here are {', '.join(known)}"
        return f"{where}: unknown key ({hint}); remove it or fix its name"
    if error["type"] == "missing":
        return f"{where}: missing"
    if error["type"] == "value_error" and isinstance(error.get("input"), dict):
        return f"{where}: {error['msg'].removeprefix('Value error, ')}"
    return f"{where}: {error['input']!r} is not allowed: {error['msg']}"


def _validate(model: type[ModelT], raw: object, source: str) -> ModelT:
    # Strict: "0.5" (a string) or true are not numbers; an int is still a valid float, so
    # `dvc exp run -S dropout=0` works.
    if not isinstance(raw, dict):
        what = "empty" if raw is None else f"a {type(raw).__name__}, not a mapping of keys to values"
        raise UserError(f"invalid {source}: the file is {what}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        lines = [_describe(e, model) for e in exc.errors()]
        raise UserError(f"invalid {source}:\n  " + "\n  ".join(lines)) from None


def validate_params(raw: object, source: str = "params.yaml") -> Params:
    """Validate a parsed params mapping; raise UserError with one line per problem."""
    return _validate(Params, raw, source)


def validate_sources(raw: object, source: str = "sources.yaml") -> Sources:
    """Validate a parsed sources mapping; raise UserError with one line per problem."""
    return _validate(Sources, raw, source)


def parse_yaml(text: str, source: str) -> object:
    """``text`` as DVC reads a params or config file (None when empty); a UserError naming ``source`` if
    it is not valid YAML."""
    from dvc.utils.serialize import YAMLError, parse_yaml

    try:
        # DVC's reader answers {} for an empty document; None here, so that the schema says "empty".
        return parse_yaml(text, source) or None
    except YAMLError as exc:
        detail = " ".join(str(exc.__cause__ or exc).replace('"<unicode string>"', source).split())
        raise UserError(f"{source} is not valid YAML: {detail}") from None


def read_yaml(path: Path) -> object:
    """A YAML file as DVC reads it (:func:`parse_yaml`); UserErrors for a missing or non-UTF-8 file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path} not found; run from the repository root") from None
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text") from None
    return parse_yaml(text, str(path))


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate params.yaml."""
    return validate_params(read_yaml(Path(path)), str(path))


def check_params_file(path: str | Path = "params.yaml") -> None:
    """Validate the whole params.yaml (every key, known or not); a UserError if anything is wrong."""
    load_params(path)


def load_sources(path: str | Path = "sources.yaml") -> Sources:
    """Read and validate sources.yaml."""
    return validate_sources(read_yaml(Path(path)), str(path))
