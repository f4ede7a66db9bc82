"""DVC stage `preprocess`: fit the Spotify preprocessor on train only; write float32 arrays."""

import sys
from pathlib import Path

# This checkout's code first: the project's editable install points at the checkout that installed it,
# but DVC runs stages in copies too (`dvc exp run --queue`, a rebuilt revision's worktree).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from dlpipe.core.errors import run_stage


def main() -> None:
    from dlpipe.core.layout import DATA_VERSIONS
    from dlpipe.core.versions import check_installed

    check_installed(DATA_VERSIONS)
    import joblib
    import pandas as pd

    from dlpipe.core import layout
    from dlpipe.core.atomic import atomic_path
    from dlpipe.core.params import load_params
    from dlpipe.data.features import concrete_arrays, spotify_arrays

    params = load_params()
    read = lambda path: pd.read_csv(path, encoding="utf-8")  # noqa: E731
    spotify, preprocessor = spotify_arrays(read(layout.SPOTIFY_TRAIN), read(layout.SPOTIFY_VALID))
    concrete, scaler = concrete_arrays(
        read(layout.CONCRETE_TRAIN), read(layout.CONCRETE_VALID), params.preprocess.standardize_concrete
    )
    with atomic_path(layout.PROCESSED_DIR) as tmp:
        tmp.mkdir()
        spotify.save(tmp / layout.SPOTIFY_ARRAYS.name)
        concrete.save(tmp / layout.CONCRETE_ARRAYS.name)
        joblib.dump(preprocessor, tmp / layout.SPOTIFY_PREPROCESSOR.name)
        if scaler is not None:
            joblib.dump(scaler, tmp / layout.CONCRETE_SCALER.name)


if __name__ == "__main__":
    run_stage("preprocess", main)
