"""Turn split tables into float32 arrays ready to train on."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_transformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from dlpipe.core.errors import UserError
from dlpipe.data.arrays import Arrays
from dlpipe.data.raw_tables import (
    CONCRETE_FEATURES,
    CONCRETE_TARGET,
    SPOTIFY_CATEGORICAL,
    SPOTIFY_NUMERIC,
    SPOTIFY_TARGET,
)


def _f32(values) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(values, dtype=np.float32))


def spotify_preprocessor() -> ColumnTransformer:
    """The notebook's preprocessor: StandardScaler on the 12 numeric features, one-hot genre, with the
    notebook's OneHotEncoder (a category the training split never saw is an error, not a row of zeros)."""
    return make_column_transformer(
        (StandardScaler(), list(SPOTIFY_NUMERIC)),
        (OneHotEncoder(sparse_output=False), list(SPOTIFY_CATEGORICAL)),
    )


def spotify_arrays(train: pd.DataFrame, valid: pd.DataFrame) -> tuple[Arrays, ColumnTransformer]:
    """Fit the preprocessor on ``train`` only; target is popularity / 100."""
    pre = spotify_preprocessor()
    x_train = pre.fit_transform(train)
    unseen = {
        column: sorted(set(valid[column].dropna()) - set(train[column].dropna())) for column in SPOTIFY_CATEGORICAL
    }
    unseen = {column: values for column, values in unseen.items() if values}
    if unseen:
        what = "; ".join(f"{column} {', '.join(map(repr, values))}" for column, values in unseen.items())
        raise UserError(
            f"the validation split has categories the training split does not ({what}): the notebook's one-hot "
            "encoder has no column for them; change group_split.seed or group_split.spotify_train_size"
        )
    x_valid = pre.transform(valid)
    arrays = Arrays(
        x_train=_f32(x_train),
        y_train=_f32(train[SPOTIFY_TARGET].to_numpy().reshape(-1, 1) / 100),
        x_valid=_f32(x_valid),
        y_valid=_f32(valid[SPOTIFY_TARGET].to_numpy().reshape(-1, 1) / 100),
    )
    return arrays, pre


def concrete_arrays(
    train: pd.DataFrame, valid: pd.DataFrame, standardize: bool
) -> tuple[Arrays, StandardScaler | None]:
    """Concrete features as they are (the notebook's point), or standardised on ``train``."""
    x_train = train.loc[:, list(CONCRETE_FEATURES)].to_numpy(dtype=np.float64)
    x_valid = valid.loc[:, list(CONCRETE_FEATURES)].to_numpy(dtype=np.float64)
    scaler = None
    if standardize:
        scaler = StandardScaler().fit(x_train)
        x_train, x_valid = scaler.transform(x_train), scaler.transform(x_valid)
    arrays = Arrays(
        x_train=_f32(x_train),
        y_train=_f32(train[CONCRETE_TARGET].to_numpy().reshape(-1, 1)),
        x_valid=_f32(x_valid),
        y_valid=_f32(valid[CONCRETE_TARGET].to_numpy().reshape(-1, 1)),
    )
    return arrays, scaler
