"""Train/validation splits, as the notebook makes them."""

from __future__ import annotations

import math

import pandas as pd
from sklearn.model_selection import GroupShuffleSplit

from dlpipe.core.errors import UserError


def _rounded(value: float, rounding) -> str:
    """``value`` to 3 significant digits, rounded with ``rounding`` (math.ceil or math.floor): a bound
    the user can copy that still works. (Rounded to 9 places first: 0.025 * 10**4 is 250.00000000000003.)"""
    digits = 2 - math.floor(math.log10(value))
    return f"{rounding(round(value * 10**digits, 9)) / 10**digits:g}"


def group_split(
    df: pd.DataFrame,
    group: str,
    train_size: float,
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop rows with missing values, then split so that no ``group`` value is in both parts.

    Rows keep their original order within each part (like ``X.iloc[train]`` in the notebook).
    """
    df = df.dropna()
    n_groups = df[group].nunique()
    if n_groups < 2:
        raise UserError(f"group split needs at least 2 distinct {group} values, found {n_groups}")
    # GroupShuffleSplit trains on floor(train_size * groups) groups and validates on the rest.
    if math.floor(train_size * n_groups) < 1:
        raise UserError(
            f"group_split.spotify_train_size: {train_size} of this table's {n_groups} {group} values is less than "
            f"one, so the training part would be empty; use a value from 1/{n_groups} "
            f"(≈{_rounded(1 / n_groups, math.ceil)}) to below 1"
        )
    splitter = GroupShuffleSplit(n_splits=1, train_size=train_size, random_state=seed)
    train_idx, valid_idx = next(splitter.split(df, groups=df[group]))
    return df.iloc[train_idx], df.iloc[valid_idx]


def random_split(df: pd.DataFrame, train_size: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows at random: ``df.sample(frac=train_size, random_state=seed)`` and the rest."""
    train = df.sample(frac=train_size, random_state=seed)
    valid = df.drop(train.index)
    if train.empty or valid.empty:
        n = len(df)
        empty = "training" if train.empty else "validation"
        raise UserError(
            f"group_split.concrete_train_size: {train_size} of this table's {n} rows leaves the {empty} part "
            f"empty; use a value from 1/{n} (≈{_rounded(1 / n, math.ceil)}) to {n - 1}/{n} "
            f"(≈{_rounded((n - 1) / n, math.floor)})"
        )
    return train, valid
