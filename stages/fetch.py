"""DVC stage `fetch`: download (or copy from FETCH_MIRROR) and verify the two raw tables."""

import os

try:
    from dlpipe.core.errors import run_stage
except ModuleNotFoundError:  # not the project's Python (DVC runs the first `python` on PATH): say so in one line
    import sys
    from pathlib import Path

    sys.exit(
        f"{Path(__file__).stem}: error: this Python ({sys.executable}) does not have the project's packages; "
        "activate the project's environment first: source .venv/bin/activate"
    )


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
