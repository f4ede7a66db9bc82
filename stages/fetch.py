"""DVC stage `fetch`: download (or copy from FETCH_MIRROR) and verify the two raw tables."""

import os
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
    from dlpipe.core.layout import RAW_DIR
    from dlpipe.core.params import load_sources
    from dlpipe.core.progress_mode import progress_mode
    from dlpipe.data.sources import fetch_sources, resolve_mirror

    progress = progress_mode(os.environ)
    fetch_sources(load_sources(), RAW_DIR, resolve_mirror(os.environ.get("FETCH_MIRROR")), progress=progress)


if __name__ == "__main__":
    run_stage("fetch", main)
