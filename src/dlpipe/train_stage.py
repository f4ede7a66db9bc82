"""What both training stages do: choose the backend, load arrays, train the runs, write results."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dlpipe import layout
from dlpipe.backend import configure_backend
from dlpipe.params import Params, TrainParams


def train_stage(
    stage: str,
    params: Params,
    train: TrainParams,
    arrays_file: Path,
    runs: Mapping[str, Mapping[str, Any]],
    title: str,
) -> dict[str, dict]:
    """Train ``runs`` on ``arrays_file`` under ``params.keras_backend``; write the stage's outputs."""
    configure_backend(params.keras_backend, layout.JAX_CACHE_DIR)
    # Keras is imported only now, after the backend is chosen.
    from dlpipe.experiment import Outputs, run_experiment
    from dlpipe.features import Arrays

    return run_experiment(
        runs, Arrays.load(arrays_file), train, Outputs.for_stage(stage), title=title, seed=params.seed
    )
