import pytest

from dlpipe.core.errors import UserError
from dlpipe.data.raw_tables import (
    CONCRETE_COLUMNS,
    concrete_fingerprint,
    read_concrete,
    read_spotify,
)

UCI_HEADERS = [
    "Cement (component 1)(kg in a m^3 mixture)",
    "Blast Furnace Slag (component 2)(kg in a m^3 mixture)",
    "Fly Ash (component 3)(kg in a m^3 mixture)",
    "Water  (component 4)(kg in a m^3 mixture)",
    "Superplasticizer (component 5)(kg in a m^3 mixture)",
    "Coarse Aggregate  (component 6)(kg in a m^3 mixture)",
    "Fine Aggregate (component 7)(kg in a m^3 mixture)",
    "Age (day)",
    "Concrete compressive strength(MPa, megapascals) ",
]


def test_spotify_table_is_read_with_its_values(tmp_path, spotify_df):
    path = tmp_path / "spotify_songs.csv"
    spotify_df.to_csv(path, index=False)
    df = read_spotify(path, expected_rows=len(spotify_df))
    assert df["track_popularity"].sum() == spotify_df["track_popularity"].sum()
    assert df["track_artist"].iloc[0].startswith("Artist Ñ")


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        (lambda df: df.drop(columns="energy"), "missing column(s) energy"),
        (lambda df: df.assign(tempo=["fast", *list(df["tempo"].iloc[1:])]), "column tempo, data row 1: 'fast'"),
        (lambda df: df.iloc[:0], "no data rows"),
        (lambda df: df.iloc[:-1], "data rows, expected 300"),
    ],
)
def test_bad_spotify_tables_name_the_problem(tmp_path, spotify_df, damage, fragment):
    path = tmp_path / "spotify_songs.csv"
    damage(spotify_df).to_csv(path, index=False)
    with pytest.raises(UserError) as info:
        read_spotify(path, expected_rows=300)
    assert fragment in str(info.value) and str(path) in str(info.value)


def test_empty_file_is_reported(tmp_path):
    path = tmp_path / "spotify_songs.csv"
    path.write_bytes(b"")
    with pytest.raises(UserError, match="the file is empty"):
        read_spotify(path)


def test_uci_headers_are_renamed_to_kaggle_names(tmp_path, concrete_df):
    uci = concrete_df.copy()
    uci.columns = UCI_HEADERS
    path = tmp_path / "uci.csv"
    uci.to_csv(path, index=False)
    df = read_concrete(path, expected_rows=len(concrete_df))
    assert list(df.columns) == list(CONCRETE_COLUMNS)
    assert df["Age"].dtype == "int64" and df["Cement"].dtype == "float64"
    assert df["Cement"].sum() == pytest.approx(concrete_df["Cement"].sum())


def test_fingerprint_depends_on_cells_not_on_layout(tmp_path, concrete_df):
    kaggle, uci = tmp_path / "kaggle.csv", tmp_path / "uci.csv"
    concrete_df.to_csv(kaggle, index=False)
    renamed = concrete_df.copy()
    renamed.columns = UCI_HEADERS
    renamed.to_csv(uci, index=False, lineterminator="\r\n")
    a, b = read_concrete(kaggle), read_concrete(uci)
    assert concrete_fingerprint(a) == concrete_fingerprint(b)
    changed = a.copy()
    changed.loc[5, "Water"] += 0.1
    assert concrete_fingerprint(changed) != concrete_fingerprint(a)


def test_unknown_concrete_columns_are_rejected(tmp_path, concrete_df):
    path = tmp_path / "concrete.csv"
    concrete_df.rename(columns={"Water": "H2O"}).to_csv(path, index=False)
    with pytest.raises(UserError, match="neither the Kaggle names"):
        read_concrete(path)
