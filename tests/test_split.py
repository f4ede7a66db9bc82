import pandas as pd
import pytest

from dlpipe.core.errors import UserError
from dlpipe.data.split import group_split, random_split


def test_group_split_keeps_each_artist_on_one_side(spotify_df):
    train, valid = group_split(spotify_df, "track_artist", 0.75, seed=0)
    assert set(train["track_artist"]).isdisjoint(valid["track_artist"])
    assert len(train) + len(valid) == len(spotify_df.dropna())
    n_groups = spotify_df.dropna()["track_artist"].nunique()
    assert train["track_artist"].nunique() == round(0.75 * n_groups)


def test_group_split_depends_on_the_seed_only(spotify_df):
    a = group_split(spotify_df, "track_artist", 0.75, seed=1)[0]
    b = group_split(spotify_df, "track_artist", 0.75, seed=1)[0]
    c = group_split(spotify_df, "track_artist", 0.75, seed=2)[0]
    assert a.index.equals(b.index)
    assert not a.index.equals(c.index)


def test_random_split_is_the_notebooks_sample_on_a_table_with_a_known_answer():
    # The notebook's `df.sample(frac=0.7, random_state=0)` on ten rows keeps these, in this order
    # (pandas draws with NumPy's RandomState(0)); the validation rows are the rest, in table order.
    table = pd.DataFrame({"strength": [float(i) for i in range(10)]})
    train, valid = random_split(table, 0.7, seed=0)
    assert train.index.tolist() == [2, 8, 4, 9, 1, 6, 7]
    assert valid.index.tolist() == [0, 3, 5]
    assert train["strength"].tolist() == [2.0, 8.0, 4.0, 9.0, 1.0, 6.0, 7.0]


def test_group_split_with_a_single_artist_is_an_error(spotify_df):
    spotify_df["track_artist"] = "Solo"
    with pytest.raises(UserError, match="at least 2 distinct track_artist"):
        group_split(spotify_df, "track_artist", 0.75, seed=0)
