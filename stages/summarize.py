"""DVC stage `summarize`: every run's summary in one metrics file, metric first.

One file, so that `dvc exp show` shows the min validation loss of every run in its first columns and
`dvc metrics diff` compares every run at once.
"""

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
    import json

    from dlpipe.core import layout
    from dlpipe.core.atomic import atomic_path
    from dlpipe.core.registry import TRAINING_STAGES
    from dlpipe.train.summary import pipeline_summary

    metrics = pipeline_summary([layout.PLOTS_DIR / t.stage / layout.SEEDS_TABLE for t in TRAINING_STAGES])
    with atomic_path(layout.SUMMARY_METRICS) as tmp:
        tmp.write_text(json.dumps(metrics, indent=2, allow_nan=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    run_stage("summarize", main)
