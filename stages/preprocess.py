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
    from dlpipe.core.params import load_params
    from dlpipe.data.features import concrete_arrays, spotify_arrays

    params = load_params()
    read = lambda path: pd.read_csv(path, encoding="utf-8")  # noqa: E731
    spotify, preprocessor = spotify_arrays(read(layout.SPOTIFY_TRAIN), read(layout.SPOTIFY_VALID))
    concrete, scaler = concrete_arrays(
        read(layout.CONCRETE_TRAIN), read(layout.CONCRETE_VALID), params.preprocess.standardize_concrete
    )
    layout.PROCESSED_DIR.mkdir(parents=True, exist_ok=True)
    spotify.save(layout.SPOTIFY_ARRAYS)
    concrete.save(layout.CONCRETE_ARRAYS)
    joblib.dump(preprocessor, layout.SPOTIFY_PREPROCESSOR)
    if scaler is not None:
        joblib.dump(scaler, layout.CONCRETE_SCALER)


if __name__ == "__main__":
    run_stage("preprocess", main)
