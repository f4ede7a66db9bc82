"""Train/validation splits, as the notebook makes them."""

from __future__ import annotations

import pandas as pd
from sklearn.model_selection import GroupShuffleSplit

from dlpipe.core.errors import UserError


def group_split(df: pd.DataFrame, group: str, train_size: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop rows with missing values, then split so that no ``group`` value is in both parts.

    Rows keep their original order within each part (like ``X.iloc[train]`` in the notebook).
    """
    df = df.dropna()
    if df[group].nunique() < 2:
        raise UserError(f"group split needs at least 2 distinct {group} values, found {df[group].nunique()}")
    splitter = GroupShuffleSplit(n_splits=1, train_size=train_size, random_state=seed)
    train_idx, valid_idx = next(splitter.split(df, groups=df[group]))
    return df.iloc[train_idx], df.iloc[valid_idx]


def random_split(df: pd.DataFrame, train_size: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows at random: ``df.sample(frac=train_size, random_state=seed)`` and the rest."""
    train = df.sample(frac=train_size, random_state=seed)
    valid = df.drop(train.index)
    if train.empty or valid.empty:
        raise UserError(f"random split of {len(df)} rows with train_size={train_size} leaves a part empty")
    return train, valid
