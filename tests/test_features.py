import numpy as np

from dlpipe.data.arrays import Arrays
from dlpipe.data.features import concrete_arrays, spotify_arrays
from dlpipe.data.split import group_split, random_split


def test_spotify_arrays_have_18_inputs_scaled_on_train_only(spotify_df):
    train, valid = group_split(spotify_df, "track_artist", 0.75, seed=0)
    arrays, pre = spotify_arrays(train, valid)
    assert arrays.x_train.shape == (len(train), 18) and arrays.x_valid.shape == (len(valid), 18)
    assert arrays.x_train.dtype == np.float32 and arrays.y_train.shape == (len(train), 1)
    # Standardised with the training statistics: mean 0 on train, not exactly 0 on valid.
    assert np.allclose(arrays.x_train[:, :12].mean(axis=0), 0, atol=1e-5)
    assert not np.allclose(arrays.x_valid[:, :12].mean(axis=0), 0, atol=1e-3)
    assert np.array_equal(arrays.x_train[:, 12:].sum(axis=1), np.ones(len(train)))
    assert np.allclose(arrays.y_train[:, 0], train["track_popularity"].to_numpy() / 100)
    assert pre.transform(valid).shape == (len(valid), 18)


def test_concrete_is_left_unstandardised_unless_asked(concrete_df):
    train, valid = random_split(concrete_df, 0.7, seed=0)
    raw, scaler = concrete_arrays(train, valid, standardize=False)
    assert scaler is None
    assert np.allclose(raw.x_train[:, 0], train["Cement"].to_numpy())
    scaled, scaler = concrete_arrays(train, valid, standardize=True)
    assert scaler is not None
    assert np.allclose(scaled.x_train.mean(axis=0), 0, atol=1e-4)
    assert np.allclose(scaled.y_train, raw.y_train)


def test_arrays_round_trip(tmp_path, concrete_df):
    arrays, _ = concrete_arrays(*random_split(concrete_df, 0.7, seed=0), standardize=False)
    arrays.save(tmp_path / "a.npz")
    back = Arrays.load(tmp_path / "a.npz")
    assert all(np.array_equal(getattr(arrays, k), getattr(back, k)) for k in arrays.__dict__)


def test_a_genre_the_training_split_never_saw_is_one_clear_error_as_in_the_notebook(spotify_df):
    # The notebook's OneHotEncoder() refuses an unknown category; "ignore" would silently encode it as zeros.
    import pytest

    from dlpipe.core.errors import UserError

    train, valid = group_split(spotify_df, "track_artist", 0.75, seed=0)
    valid = valid.copy()
    valid.loc[valid.index[0], "playlist_genre"] = "polka"
    with pytest.raises(UserError) as info:
        spotify_arrays(train, valid)
    assert "validation split has categories the training split does not (playlist_genre 'polka')" in str(info.value)
    assert "group_split.seed" in str(info.value)
