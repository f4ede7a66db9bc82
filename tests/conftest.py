"""Small tables with the real schemas, generated so that tests run offline and fast."""

from __future__ import annotations

import os
from pathlib import Path

from dlpipe.core.layout import jax_cache_dir
from dlpipe.train.backend import configure_backend

# Unit tests run in one process on one backend, chosen before Keras is first imported. With the
# compile cache the stages use: each new model would otherwise compile its programs again (about a
# second per fit), and the stages' own processes that tests start inherit it.
configure_backend(os.environ.get("DLPIPE_TEST_BACKEND", "jax"), jax_cache_dir(os.environ))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from dlpipe.data.raw_tables import CONCRETE_COLUMNS, SPOTIFY_COLUMNS  # noqa: E402

GENRES = ("pop", "rap", "rock", "latin", "r&b", "edm")


def make_spotify(n_rows: int = 300, n_artists: int = 40, seed: int = 0) -> pd.DataFrame:
    """A Spotify-like table: the 23 TidyTuesday columns, popularity tied to the features."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({c: [f"{c}_{i}" for i in range(n_rows)] for c in SPOTIFY_COLUMNS})
    df["track_artist"] = [f"Artist Ñ{rng.integers(n_artists)}" for _ in range(n_rows)]
    df["playlist_genre"] = [GENRES[i % len(GENRES)] for i in range(n_rows)]
    for col in ("danceability", "energy", "speechiness", "acousticness", "instrumentalness", "liveness", "valence"):
        df[col] = rng.uniform(0, 1, n_rows).round(4)
    df["key"] = rng.integers(0, 12, n_rows)
    df["mode"] = rng.integers(0, 2, n_rows)
    df["loudness"] = rng.uniform(-20, 0, n_rows).round(3)
    df["tempo"] = rng.uniform(60, 200, n_rows).round(3)
    df["duration_ms"] = rng.integers(100_000, 400_000, n_rows)
    popularity = 30 + 40 * df["danceability"] + 10 * df["energy"] + rng.normal(0, 5, n_rows)
    df["track_popularity"] = popularity.clip(0, 100).round().astype(int)
    df.loc[3, ["track_name", "track_artist", "track_album_name"]] = np.nan
    return df.loc[:, list(SPOTIFY_COLUMNS)]


def make_concrete(n_rows: int = 120, seed: int = 0) -> pd.DataFrame:
    """A concrete-like table with the Kaggle column names and realistic scales."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "Cement": rng.uniform(100, 540, n_rows).round(1),
            "BlastFurnaceSlag": rng.uniform(0, 360, n_rows).round(1),
            "FlyAsh": rng.uniform(0, 200, n_rows).round(1),
            "Water": rng.uniform(120, 250, n_rows).round(1),
            "Superplasticizer": rng.uniform(0, 32, n_rows).round(1),
            "CoarseAggregate": rng.uniform(800, 1150, n_rows).round(1),
            "FineAggregate": rng.uniform(590, 990, n_rows).round(1),
            "Age": rng.integers(1, 366, n_rows),
        }
    )
    df["CompressiveStrength"] = (0.08 * df["Cement"] + 0.05 * df["Age"] + rng.normal(0, 3, n_rows)).round(2)
    return df.loc[:, list(CONCRETE_COLUMNS)]


@pytest.fixture
def spotify_df() -> pd.DataFrame:
    return make_spotify()


@pytest.fixture
def concrete_df() -> pd.DataFrame:
    return make_concrete()


@pytest.fixture
def real_tables() -> Path:
    """The folder of the two real tables, from FETCH_MIRROR (as the pipeline reads it); skips without it."""
    mirror = os.environ.get("FETCH_MIRROR")
    if not mirror:
        pytest.skip(
            "FETCH_MIRROR not set: the tests on the real tables need it set to a folder holding "
            "spotify_songs.csv and Concrete_Data.xls"
        )
    return Path(mirror)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """End the run with what it could not test here, one line per reason (each names what to install)."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    if not reasons:
        return
    terminalreporter.write_line("")
    terminalreporter.write_line("Not tested on this machine:", yellow=True, bold=True)
    for reason, count in sorted(reasons.items()):
        terminalreporter.write_line(f"  {reason} ({count} test{'s' if count > 1 else ''})")
