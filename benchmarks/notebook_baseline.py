"""The notebook's own code for its three fits, timed: the baseline every speed figure is compared to.

Kept as close to Kaggle's exercise as a script can be (TensorFlow's Keras, NumPy/pandas inputs,
``verbose=0``); only the file paths, an optional seed and the timers are added. Prints one JSON
line: import time, seconds and min validation loss of each fit.

    python benchmarks/notebook_baseline.py --data /abs/mirror [--seed 0] [--epochs-scale 1.0]
"""

import argparse
import json
import time
from pathlib import Path

from dlpipe.core.errors import UserError, run_cli

KAGGLE_CONCRETE = [
    "Cement",
    "BlastFurnaceSlag",
    "FlyAsh",
    "Water",
    "Superplasticizer",
    "CoarseAggregate",
    "FineAggregate",
    "Age",
    "CompressiveStrength",
]


def timed_fit(model, X_train, y_train, X_valid, y_valid, batch_size, epochs):
    start = time.perf_counter()
    history = model.fit(
        X_train, y_train, validation_data=(X_valid, y_valid), batch_size=batch_size, epochs=epochs, verbose=0
    )
    seconds = time.perf_counter() - start
    history_df = pd.DataFrame(history.history)
    return {"seconds": seconds, "min_val_loss": float(history_df["val_loss"].min())}


def import_libraries() -> float:
    """The notebook's imports, as globals; returns their seconds. Called inside the error boundary,
    so that Ctrl-C or a broken install during them ends in one line too."""
    global pd, make_column_transformer, GroupShuffleSplit, OneHotEncoder, StandardScaler, keras, layers
    start = time.perf_counter()
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.model_selection import GroupShuffleSplit
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from tensorflow import keras
    from tensorflow.keras import layers

    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs-scale", type=float, default=1.0)
    args = parser.parse_args()
    if not Path(args.data).is_dir():
        raise UserError(f"--data {args.data} is not a folder; point it at the folder holding the raw files")
    import_s = import_libraries()
    keras.utils.set_random_seed(args.seed)
    epochs = lambda n: max(1, round(n * args.epochs_scale))  # noqa: E731
    fits = {}

    spotify = pd.read_csv(f"{args.data}/spotify_songs.csv")
    X = spotify.copy().dropna()
    y = X.pop("track_popularity")
    artists = X["track_artist"]
    features_num = [
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
    ]
    features_cat = ["playlist_genre"]
    preprocessor = make_column_transformer((StandardScaler(), features_num), (OneHotEncoder(), features_cat))
    splitter = GroupShuffleSplit(train_size=0.75, random_state=args.seed)
    train, test = next(splitter.split(X, y, groups=artists))
    X_train, X_valid, y_train, y_valid = X.iloc[train], X.iloc[test], y.iloc[train], y.iloc[test]
    X_train = preprocessor.fit_transform(X_train)
    X_valid = preprocessor.transform(X_valid)
    y_train, y_valid = y_train / 100, y_valid / 100
    input_shape = [X_train.shape[1]]

    model = keras.Sequential(
        [
            layers.Dense(128, activation="relu", input_shape=input_shape),
            layers.Dropout(0.3),
            layers.Dense(64, activation="relu"),
            layers.Dropout(0.3),
            layers.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mae")
    fits["dropout"] = timed_fit(model, X_train, y_train, X_valid, y_valid, 512, epochs(50))

    concrete = pd.read_excel(f"{args.data}/Concrete_Data.xls", engine="calamine")
    concrete.columns = KAGGLE_CONCRETE
    df = concrete.copy()
    df_train = df.sample(frac=0.7, random_state=0)
    df_valid = df.drop(df_train.index)
    X_train = df_train.drop("CompressiveStrength", axis=1)
    X_valid = df_valid.drop("CompressiveStrength", axis=1)
    y_train = df_train["CompressiveStrength"]
    y_valid = df_valid["CompressiveStrength"]
    input_shape = [X_train.shape[1]]

    model = keras.Sequential(
        [
            layers.Dense(512, activation="relu", input_shape=input_shape),
            layers.Dense(512, activation="relu"),
            layers.Dense(512, activation="relu"),
            layers.Dense(1),
        ]
    )
    model.compile(optimizer="sgd", loss="mae", metrics=["mae"])
    fits["no_batchnorm"] = timed_fit(model, X_train, y_train, X_valid, y_valid, 64, epochs(100))

    model = keras.Sequential(
        [
            layers.BatchNormalization(input_shape=input_shape),
            layers.Dense(512, activation="relu"),
            layers.BatchNormalization(),
            layers.Dense(512, activation="relu"),
            layers.BatchNormalization(),
            layers.Dense(512, activation="relu"),
            layers.BatchNormalization(),
            layers.Dense(1),
        ]
    )
    model.compile(optimizer="sgd", loss="mae", metrics=["mae"])
    fits["batchnorm"] = timed_fit(model, X_train, y_train, X_valid, y_valid, 64, epochs(100))

    print(json.dumps({"import_s": import_s, "fits": fits}))


if __name__ == "__main__":
    run_cli("notebook_baseline", main)
