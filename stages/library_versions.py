"""DVC stage `library_versions`: the versions uv.lock pins for the libraries each group of stages computes
with, one file per group (see dlpipe.core.versions): an upgrade reruns exactly the stages it can change."""

import sys
from pathlib import Path

# This checkout's code first: the project's editable install points at the checkout that installed it,
# but DVC runs stages in copies too (`dvc exp run --queue`, a rebuilt revision's worktree).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from dlpipe.core.errors import run_stage


def main() -> None:
    from dlpipe.core.layout import VERSIONS_DIR
    from dlpipe.core.versions import write_groups

    VERSIONS_DIR.mkdir(parents=True, exist_ok=True)
    write_groups(folder=VERSIONS_DIR)


if __name__ == "__main__":
    run_stage("library_versions", main)
