"""DVC stage `train_batchnorm`: the concrete model with BatchNormalization, and without it."""

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
    from dlpipe.core.registry import BATCHNORM
    from dlpipe.train.stage import train_stage, worker_count

    progress = progress_mode(os.environ)
    workers = worker_count(os.environ)
    params = load_params()
    train = params.train_batchnorm
    control = BATCHNORM.display_name(BATCHNORM.control)
    train_stage(
        BATCHNORM.stage,
        params,
        train,
        BATCHNORM.arrays,
        runs={BATCHNORM.regularised: {"batchnorm": train.batchnorm}, BATCHNORM.control: {"batchnorm": False}},
        jax_cache=layout.jax_cache_dir(os.environ),
        progress=progress,
        workers=workers,
        title=f"{BATCHNORM.task} ({train.optimizer}): {BATCHNORM.technique} vs {control}",
    )


if __name__ == "__main__":
    run_stage("train_batchnorm", main)
