"""The two raw tables: their schemas, how to read them, and how to recognise them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from dlpipe.errors import UserError

SPOTIFY_COLUMNS = (
    "track_id",
    "track_name",
    "track_artist",
    "track_popularity",
    "track_album_id",
    "track_album_name",
    "track_album_release_date",
    "playlist_name",
    "playlist_id",
    "playlist_genre",
    "playlist_subgenre",
    "danceability",
    "energy",
    "key",
    "loudness",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
    "duration_ms",
)
SPOTIFY_NUMERIC = (
    "danceability",
    "energy",
    "key",
    "loudness",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
    "duration_ms",
)
SPOTIFY_CATEGORICAL = ("playlist_genre",)
SPOTIFY_TARGET = "track_popularity"
SPOTIFY_GROUP = "track_artist"

CONCRETE_FEATURES = (
    "Cement",
    "BlastFurnaceSlag",
    "FlyAsh",
    "Water",
    "Superplasticizer",
    "CoarseAggregate",
    "FineAggregate",
    "Age",
)
CONCRETE_TARGET = "CompressiveStrength"
CONCRETE_COLUMNS = (*CONCRETE_FEATURES, CONCRETE_TARGET)
# The UCI sheet's long headers start with these words, in this order.
_UCI_PREFIXES = (
    "cement",
    "blast furnace slag",
    "fly ash",
    "water",
    "superplasticizer",
    "coarse aggregate",
    "fine aggregate",
    "age",
    "concrete compressive strength",
)


def _require_columns(df: pd.DataFrame, required: tuple[str, ...], where: Path) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise UserError(f"{where}: missing column(s) {', '.join(missing)}; expected {', '.join(required)}")


def _require_numeric(df: pd.DataFrame, columns: tuple[str, ...], where: Path) -> pd.DataFrame:
    df = df.copy()
    for col in columns:
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna() & df[col].notna()
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise UserError(f"{where}: column {col}, data row {row + 1}: {df[col].iloc[row]!r} is not a number")
        df[col] = values
    return df


def _require_rows(df: pd.DataFrame, expected: int | None, where: Path) -> None:
    if df.empty:
        raise UserError(f"{where}: the table has no data rows")
    if expected is not None and len(df) != expected:
        raise UserError(f"{where}: {len(df)} data rows, expected {expected}; is it the right file?")


def read_spotify(path: Path, expected_rows: int | None = None) -> pd.DataFrame:
    """Read and check the Spotify songs table (UTF-8 CSV with the TidyTuesday columns)."""
    try:
        df = pd.read_csv(path, encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise UserError(f"{path}: the file is empty") from None
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise UserError(f"{path}: not a readable UTF-8 CSV ({exc})".replace("\n", " ")) from None
    _require_columns(df, SPOTIFY_COLUMNS, path)
    _require_rows(df, expected_rows, path)
    return _require_numeric(df, (*SPOTIFY_NUMERIC, SPOTIFY_TARGET), path)


def _normalise_concrete_names(df: pd.DataFrame, where: Path) -> pd.DataFrame:
    if all(c in df.columns for c in CONCRETE_COLUMNS):
        return df.loc[:, list(CONCRETE_COLUMNS)]
    lowered = [str(c).strip().lower() for c in df.columns]
    if len(lowered) >= len(_UCI_PREFIXES) and all(
        name.startswith(prefix) for name, prefix in zip(lowered, _UCI_PREFIXES, strict=False)
    ):
        renamed = df.iloc[:, : len(CONCRETE_COLUMNS)]
        renamed.columns = list(CONCRETE_COLUMNS)
        return renamed
    raise UserError(
        f"{where}: columns {list(df.columns)} are neither the Kaggle names "
        f"({', '.join(CONCRETE_COLUMNS)}) nor the UCI sheet's"
    )


def read_concrete(path: Path, expected_rows: int | None = None) -> pd.DataFrame:
    """Read the concrete table (UCI .xls/.xlsx sheet or Kaggle concrete.csv) with Kaggle names."""
    try:
        if path.suffix.lower() in (".xls", ".xlsx"):
            df = pd.read_excel(path, engine="calamine")
        else:
            df = pd.read_csv(path, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise UserError(f"{path}: the file is empty") from None
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise UserError(f"{path}: not a readable table ({exc})".replace("\n", " ")) from None
    df = _normalise_concrete_names(df, path)
    _require_rows(df, expected_rows, path)
    df = _require_numeric(df, CONCRETE_COLUMNS, path)
    if df.isna().any().any():
        col = df.columns[df.isna().any()][0]
        row = int(df[col].isna().to_numpy().argmax())
        raise UserError(f"{path}: column {col}, data row {row + 1} is empty")
    return df.astype({c: "float64" for c in CONCRETE_COLUMNS}).astype({"Age": "int64"})


def concrete_fingerprint(df: pd.DataFrame) -> str:
    """sha256 of the table's canonical CSV: the same cells give the same fingerprint, whatever
    program saved the file."""
    canonical = df.to_csv(index=False, lineterminator="\n", float_format="%.17g")
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
