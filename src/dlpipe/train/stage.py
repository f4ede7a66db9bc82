"""What both training stages do: choose the backend, load arrays, train the runs, write results."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dlpipe.core.params import Params, TrainParams
from dlpipe.train.backend import configure_backend
from dlpipe.train.progress import make_progress


def train_stage(
    stage: str,
    params: Params,
    train: TrainParams,
    arrays_file: Path,
    runs: Mapping[str, Mapping[str, Any]],
    title: str,
    jax_cache: Path | None = None,
    progress: str = "auto",
) -> dict[str, dict]:
    """Train ``runs`` on ``arrays_file`` under ``params.keras_backend``; write the stage's outputs.

    ``progress``: ``auto`` (a bar on a terminal, plain lines otherwise), ``bar``, ``lines`` or ``off``.
    """
    display = make_progress(progress)  # checked before the slow imports
    configure_backend(params.keras_backend, jax_cache, training_process=True)
    # Keras is imported only now, after the backend is chosen.
    from dlpipe.data.arrays import Arrays
    from dlpipe.train.experiment import Outputs, run_experiment

    return run_experiment(
        runs,
        Arrays.load(arrays_file),
        train,
        Outputs.for_stage(stage),
        title=title,
        seeds=params.seeds,
        progress=display,
        report=None if progress == "off" else sys.stderr,
    )
