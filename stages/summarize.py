"""DVC stage `summarize`: every run's summary in one metrics file, metric first.

One file, so that `dvc exp show` shows the min validation loss of every run in its first columns and
`dvc metrics diff` compares every run at once.
"""

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
    import json

    from dlpipe.core import layout
    from dlpipe.core.registry import TRAINING_STAGES
    from dlpipe.train.summary import pipeline_summary

    metrics = pipeline_summary([layout.PLOTS_DIR / t.stage / layout.SEEDS_TABLE for t in TRAINING_STAGES])
    layout.METRICS_DIR.mkdir(parents=True, exist_ok=True)
    layout.SUMMARY_METRICS.write_text(json.dumps(metrics, indent=2, allow_nan=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    run_stage("summarize", main)
