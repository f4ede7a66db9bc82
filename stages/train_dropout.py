"""DVC stage `train_dropout`: the Spotify model with Dropout, and the same model without it."""

import os
import sys
from pathlib import Path

# This checkout's code first: the project's editable install points at the checkout that installed it,
# but DVC runs stages in copies too (`dvc exp run --queue`, a rebuilt revision's worktree).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from dlpipe.core.errors import run_stage


def main() -> None:
    from dlpipe.core import layout
    from dlpipe.core.params import load_params
    from dlpipe.core.progress_mode import progress_mode
    from dlpipe.core.registry import DROPOUT
    from dlpipe.train.stage import train_stage, worker_count

    progress = progress_mode(os.environ)
    workers = worker_count(os.environ)
    params = load_params()
    train_stage(
        DROPOUT.stage,
        params,
        params.train_dropout,
        DROPOUT.arrays,
        runs={DROPOUT.regularised: {"dropout": params.dropout}, DROPOUT.control: {"dropout": 0.0}},
        jax_cache=layout.jax_cache_dir(os.environ),
        progress=progress,
        workers=workers,
        title=f"{DROPOUT.task}: {DROPOUT.technique}({params.dropout}) vs {DROPOUT.display_name(DROPOUT.control)}",
    )


if __name__ == "__main__":
    run_stage("train_dropout", main)
