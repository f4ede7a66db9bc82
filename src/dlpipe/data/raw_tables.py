"""The two raw tables: their schemas, how to read them, and how to recognise them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
from python_calamine import CalamineError

from dlpipe.core.errors import UserError

# The model's numeric features: the last twelve columns of the file, in its order.
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
    *SPOTIFY_NUMERIC,
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
_UCI_PREFIXES = dict(
    zip(
        (
            "cement",
            "blast furnace slag",
            "fly ash",
            "water",
            "superplasticizer",
            "coarse aggregate",
            "fine aggregate",
            "age",
            "concrete compressive strength",
        ),
        CONCRETE_COLUMNS,
        strict=True,
    )
)
# Closed ranges the data defines (Spotify's audio features are fractions; a mixture holds no
# negative quantity; the UCI ages are 1 to 365 days).
_FRACTIONS = ("danceability", "energy", "speechiness", "acousticness", "instrumentalness", "liveness", "valence")
SPOTIFY_RANGES: dict[str, tuple[float, float]] = {
    **{c: (0.0, 1.0) for c in _FRACTIONS},
    "key": (-1, 11),
    "mode": (0, 1),
    "tempo": (0.0, 1000.0),
    "duration_ms": (1, 24 * 3600 * 1000),
    "track_popularity": (0, 100),
}
CONCRETE_RANGES: dict[str, tuple[float, float]] = {
    **{c: (0.0, 10_000.0) for c in CONCRETE_FEATURES if c != "Age"},
    "Age": (1, 365),
    "CompressiveStrength": (0.0, 1000.0),
}


def _show(value: object) -> str:
    """A cell value as the user wrote it (NumPy scalars as plain Python values)."""
    return repr(value.item() if hasattr(value, "item") else value)


def _require_columns(df: pd.DataFrame, required: tuple[str, ...], where: str) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise UserError(f"{where}: missing column(s) {', '.join(missing)}; expected {', '.join(required)}")


def _reject(df: pd.DataFrame, col: str, bad: pd.Series, problem: str, where: str) -> None:
    """A UserError naming the first row where ``bad`` holds, its value in ``col`` and ``problem``."""
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise UserError(f"{where}: column {col}, data row {row + 1}: {_show(df[col].iloc[row])} {problem}")


def _require_numeric(df: pd.DataFrame, columns: tuple[str, ...], where: str) -> pd.DataFrame:
    df = df.copy()
    for col in columns:
        values = pd.to_numeric(df[col], errors="coerce")
        _reject(df, col, values.isna() & df[col].notna(), "is not a number", where)
        df[col] = values
    return df


def _require_ranges(df: pd.DataFrame, ranges: dict[str, tuple[float, float]], where: str) -> None:
    for col, (lo, hi) in ranges.items():
        _reject(df, col, (df[col] < lo) | (df[col] > hi), f"is outside [{lo}, {hi}]", where)


def _require_rows(df: pd.DataFrame, expected: int | None, where: str) -> None:
    if df.empty:
        raise UserError(f"{where}: the table has no data rows")
    if expected is not None and len(df) != expected:
        raise UserError(f"{where}: {len(df)} data rows, expected {expected}; is it the right file?")


def read_spotify(path: Path, expected_rows: int | None = None, source: str | None = None) -> pd.DataFrame:
    """Read and check the Spotify songs table (UTF-8 CSV with the TidyTuesday columns).

    Messages name ``source`` (where the file came from) if given, else ``path``.
    """
    where = source or str(path)
    try:
        # utf-8-sig also reads files that start with a byte-order mark, as Excel writes them.
        df = pd.read_csv(path, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise UserError(f"{where}: the file is empty") from None
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise UserError(f"{where}: not a readable UTF-8 CSV ({exc})".replace("\n", " ")) from None
    _require_columns(df, SPOTIFY_COLUMNS, where)
    _require_rows(df, expected_rows, where)
    df = _require_numeric(df, (*SPOTIFY_NUMERIC, SPOTIFY_TARGET), where)
    _require_ranges(df, SPOTIFY_RANGES, where)
    return df


def _normalise_concrete_names(df: pd.DataFrame, where: str) -> pd.DataFrame:
    if all(c in df.columns for c in CONCRETE_COLUMNS):
        return df.loc[:, list(CONCRETE_COLUMNS)]
    renames = {}
    for column in df.columns:
        words = " ".join(str(column).lower().split())
        for prefix, kaggle in _UCI_PREFIXES.items():
            if words.startswith(prefix) and kaggle not in renames.values():
                renames[column] = kaggle
                break
    if len(renames) == len(CONCRETE_COLUMNS):
        return df.rename(columns=renames).loc[:, list(CONCRETE_COLUMNS)]
    raise UserError(
        f"{where}: columns {list(df.columns)} are neither the Kaggle names "
        f"({', '.join(CONCRETE_COLUMNS)}) nor the UCI sheet's"
    )


def read_concrete(path: Path, expected_rows: int | None = None, source: str | None = None) -> pd.DataFrame:
    """Read the concrete table (UCI .xls/.xlsx sheet or Kaggle concrete.csv) with Kaggle names.

    Messages name ``source`` (where the file came from) if given, else ``path``.
    """
    where = source or str(path)
    try:
        if path.suffix.lower() in (".xls", ".xlsx"):
            df = pd.read_excel(path, engine="calamine")
        else:
            df = pd.read_csv(path, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise UserError(f"{where}: the file is empty") from None
    except CalamineError as exc:  # the Excel reader's own errors (not an Excel file, a damaged one)
        raise UserError(
            f"{where}: not a readable Excel workbook ({' '.join(str(exc).split())}); fetch it again (it may be "
            "damaged, or another kind of file under an Excel name: a CSV table's name must end in .csv)"
        ) from None
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise UserError(f"{where}: not a readable table ({exc})".replace("\n", " ")) from None
    df = _normalise_concrete_names(df, where)
    _require_rows(df, expected_rows, where)
    df = _require_numeric(df, CONCRETE_COLUMNS, where)
    if df.isna().any().any():
        col = df.columns[df.isna().any()][0]
        row = int(df[col].isna().to_numpy().argmax())
        raise UserError(f"{where}: column {col}, data row {row + 1} is empty")
    _require_ranges(df, CONCRETE_RANGES, where)
    _reject(df, "Age", df["Age"] != df["Age"].round(), "is not a whole number of days", where)
    return df.astype({c: "float64" for c in CONCRETE_COLUMNS}).astype({"Age": "int64"})


def concrete_fingerprint(df: pd.DataFrame) -> str:
    """sha256 of the table's canonical CSV: the same cells give the same fingerprint, whatever
    program saved the file."""
    canonical = df.to_csv(index=False, lineterminator="\n", float_format="%.17g")
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
