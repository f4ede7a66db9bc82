"""DVC stage `library_versions`: the versions uv.lock pins for the libraries each group of stages computes
with, one file per group (see dlpipe.core.versions): an upgrade reruns exactly the stages it can change."""

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
    from dlpipe.core.atomic import atomic_path
    from dlpipe.core.layout import VERSIONS_DIR
    from dlpipe.core.versions import write_groups

    with atomic_path(VERSIONS_DIR) as tmp:
        tmp.mkdir()
        write_groups(folder=tmp)


if __name__ == "__main__":
    run_stage("library_versions", main)
