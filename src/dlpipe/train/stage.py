"""What both training stages do: choose the backend, load arrays, train the runs, write results."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from dlpipe.core import environment, layout
from dlpipe.core.atomic import check_writable
from dlpipe.core.errors import UserError
from dlpipe.core.layout import Outputs
from dlpipe.core.params import Params, TrainParams
from dlpipe.core.versions import check_installed
from dlpipe.display.progress import make_progress
from dlpipe.train.backend import configure_backend
from dlpipe.train.pool import training_workers

# How many processes a training stage trains in. Not a param: the results are the same whatever the
# count (each model is trained from its own seeded state in one process), so changing it must not
# rerun anything.
WORKERS_VARIABLE = "DLPIPE_WORKERS"


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def worker_count(environ: Mapping[str, str]) -> int:
    """The number of training processes ``DLPIPE_WORKERS`` asks for: the usable CPUs when unset,
    empty or ``auto``; a UserError for anything but a positive whole number."""
    value = environ.get(WORKERS_VARIABLE) or "auto"
    if value == "auto":
        return usable_cpus()
    if value.isascii() and value.isdigit() and int(value) > 0:
        return int(value)
    raise UserError(
        f"{WORKERS_VARIABLE}={value} is not a number of processes; set it to a whole number from 1 "
        "(1 trains every model in the stage's own process) or to auto, or unset it"
    )


def prepare_outputs(outputs: Outputs, runs: Iterable[str]) -> None:
    """Before any training: check that every output folder can be written, so that a read-only folder
    or a full disk is found at once rather than after all the training (an OSError naming the folder)."""
    check_writable(dict.fromkeys(target.parent for target in outputs.files(runs)))


def train_stage(
    stage: str,
    params: Params,
    train: TrainParams,
    arrays_file: Path,
    runs: Mapping[str, Mapping[str, Any]],
    title: str,
    jax_cache: Path | None = None,
    progress: str = "auto",
    workers: int = 1,
) -> dict[str, dict]:
    """Train ``runs`` on ``arrays_file`` under ``params.keras_backend``; write the stage's outputs, and
    where they were computed (:mod:`dlpipe.core.environment`).

    ``progress``: ``auto`` (a bar on a terminal, plain lines otherwise), ``bar``, ``lines`` or ``off``.
    ``workers``: how many models may train at a time, each in a worker process (1: all here).
    """
    check_installed(layout.TRAIN_VERSIONS)  # the versions uv.lock pins, or one line saying which differ
    display = make_progress(progress)  # checked before the slow imports
    configure_backend(params.keras_backend, jax_cache, training_process=True, command=stage)
    from dlpipe.data.arrays import Arrays

    arrays = Arrays.load(arrays_file)  # a bad input stops the stage before any worker starts
    outputs = Outputs.for_stage(stage)
    prepare_outputs(outputs, runs)  # so does a folder it cannot write
    # Then the workers: they import Keras while this process imports the rest.
    count = min(workers, len(runs) * len(params.seeds))
    with training_workers(count, display) as pool:
        # Imported only now, the backend chosen (Keras only if this process trains itself).
        from dlpipe.train.experiment import run_experiment

        summaries = run_experiment(
            runs,
            arrays,
            train,
            outputs,
            title=title,
            seeds=params.seeds,
            progress=display,
            report=None if progress == "off" else sys.stderr,
            pool=pool,
        )
    environment.write(outputs.environment_file, environment.describe_here(params.keras_backend))
    return summaries
