"""DVC stage `group_split`: Spotify split by artist, concrete split at random."""

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
    from dlpipe.core import layout
    from dlpipe.core.params import load_params
    from dlpipe.data.raw_tables import SPOTIFY_GROUP, read_concrete, read_spotify
    from dlpipe.data.split import group_split, random_split

    split = load_params().group_split
    spotify = read_spotify(layout.SPOTIFY_RAW)
    concrete = read_concrete(layout.CONCRETE_RAW)
    s_train, s_valid = group_split(spotify, SPOTIFY_GROUP, split.spotify_train_size, split.seed)
    c_train, c_valid = random_split(concrete, split.concrete_train_size, split.seed)
    parts = {
        layout.SPOTIFY_TRAIN: s_train,
        layout.SPOTIFY_VALID: s_valid,
        layout.CONCRETE_TRAIN: c_train,
        layout.CONCRETE_VALID: c_valid,
    }
    layout.SPLIT_DIR.mkdir(parents=True, exist_ok=True)
    for path, part in parts.items():
        part.to_csv(path, index=False, lineterminator="\n")


if __name__ == "__main__":
    run_stage("group_split", main)
