"""Train an experiment's models (jobs) in the stage's own process, or side by side in worker processes.

A job (seed, build, compile, fit, save) starts from its own seeded state and carries nothing over
from the job before, so where it runs does not change a bit of its result.

Processes, not threads: Keras shuffles each epoch with NumPy's global random state, which threads
would share. Each worker imports Keras once and trains one job at a time; its model goes straight to
the stage's models folder and its history comes back to the stage, which writes every other output.
A worker keeps out what Keras imports for other jobs (matplotlib, pandas: see configure_backend).
Each process computes on one CPU thread (dlpipe.train.backend.XLA_CPU_THREADS), so the workers are what
uses a second core: measured on this project's two-core machine (`python benchmarks/run.py`), a cold
`dvc repro` 0.39x the notebook against 0.43x in one process.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlpipe.core.errors import UserError, watch_parent
from dlpipe.display.progress import Progress, make_progress
from dlpipe.train.backend import configure_backend, seed_everything

if TYPE_CHECKING:
    from dlpipe.core.params import TrainParams
    from dlpipe.data.arrays import Arrays
    from dlpipe.train.training import History


@dataclass(frozen=True)
class Job:
    """A run of the experiment with one training seed, and the file name of its model."""

    run: str
    seed: int
    label: str
    model_file: str
    variant: dict[str, Any] = field(default_factory=dict)


def train_job(job: Job, arrays: Arrays, train: TrainParams, models_dir: Path, progress: Progress) -> History:
    """Train ``job``'s model on ``arrays`` with ``train``; save it in ``models_dir``; return its history."""
    # Keras only here: a stage that hands its jobs to worker processes never imports it (≈3 s).
    from dlpipe.train.model_file import save_model
    from dlpipe.train.models import build_mlp, compile_model
    from dlpipe.train.training import fit

    seed_everything(job.seed)
    network = build_mlp(
        arrays.n_inputs, train.units, activation=train.activation, seed=job.seed, name=job.run, **job.variant
    )
    model = compile_model(network, train.optimizer, train.learning_rate, train.loss, train.steps_per_execution)
    history = fit(model, arrays, batch_size=train.batch_size, epochs=train.epochs, label=job.label, progress=progress)
    save_model(model, models_dir / job.model_file)
    return history


# What every job of a worker shares, set once when the worker starts.
_worker: dict[str, Any] = {}
WORKERS_HINT = "DLPIPE_WORKERS=1 to train in the stage's own process"


def train_jobs(
    jobs: Sequence[Job],
    arrays: Arrays,
    train: TrainParams,
    models_dir: Path,
    *,
    progress: Progress | None = None,
    pool: ProcessPoolExecutor | None = None,
) -> list[History]:
    """Train ``jobs``; return their histories in order.

    Without ``pool`` they run here, one after the other, and ``progress`` shows them; with it (workers
    started by :func:`training_workers`, which stops them) up to one per worker at a time. An exception
    in a job is raised here at once.
    """
    if pool is None:
        return [train_job(job, arrays, train, models_dir, progress or Progress()) for job in jobs]
    try:
        # A worker that died before now (while importing Keras, say) broke the pool: submit raises.
        futures = [pool.submit(_train_in_worker, job, arrays, train, models_dir) for job in jobs]
        wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            if future.done() and future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
        return [future.result() for future in futures]
    except BrokenProcessPool as error:
        raise UserError(
            f"a training worker process ended abruptly (killed, or out of memory?); run again with {WORKERS_HINT}"
        ) from error


@contextmanager
def training_workers(count: int, progress: Progress) -> Iterator[ProcessPoolExecutor | None]:
    """``count`` worker processes, started at once: each imports Keras while the caller goes on
    with its own imports and reading; stopped on leaving, whatever happened. None if ``count`` <= 1.

    The workers show their jobs as plain lines (two live bars would overwrite each other), or
    nothing if ``progress`` (the caller's display) shows nothing.
    """
    if count <= 1:
        yield None
        return
    # A pool of concurrent.futures, not multiprocessing.Pool: a worker that dies (killed, out of
    # memory, a failed start) breaks the pool with an error instead of leaving its job waiting for
    # ever. spawn: a fresh interpreter, never a copy of this one's threads and half-imported modules.
    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(
        count,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(os.getpid(), type(progress) is not Progress),
    )
    try:
        # Ctrl-C in a terminal reaches every process of the group, and the stage alone handles it:
        # workers start with it blocked (the mask is inherited) until they ignore it. A Ctrl-C
        # meanwhile is delivered to the stage when it is unblocked here.
        _mask_sigint(block=True)
        try:
            # The pool starts a process for each task submitted while none is idle: one import of
            # Keras each, which the first jobs would otherwise wait for. An import that fails here is
            # kept, and raised by the worker's first job (see _train_in_worker).
            for _ in range(count):
                pool.submit(_import_training)
        finally:
            _mask_sigint(block=False)
        yield pool
    finally:
        # Also on success: the workers are idle, and their interpreter's teardown would only add time.
        # The pool's processes are the children multiprocessing started since it was made.
        _stop(pool, [p for p in multiprocessing.active_children() if p not in before])


def _mask_sigint(block: bool) -> None:
    if hasattr(signal, "pthread_sigmask"):  # not on Windows, where there are no process groups
        signal.pthread_sigmask(signal.SIG_BLOCK if block else signal.SIG_UNBLOCK, {signal.SIGINT})


def _stop(pool: ProcessPoolExecutor, processes: Sequence[multiprocessing.process.BaseProcess]) -> None:
    # The executor has no public way to stop a running job before Python 3.14 (terminate_workers):
    # its ``processes`` are terminated first, then a shutdown that waits: its queues are closed
    # before the stage's os._exit, else multiprocessing's resource tracker reports their semaphores
    # as leaked.
    for process in processes:
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)
    for process in processes:
        process.join()


def _start_worker(stage: int, lines: bool) -> None:
    # The stage handles Ctrl-C and stops its workers (see training_workers). A worker whose stage
    # died, even before this worker started (killed outright), stops too.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _mask_sigint(block=False)
    watch_parent(stage)
    # The stage set KERAS_BACKEND and the compile cache in the environment a worker inherits;
    # what lives only in a process (TensorFlow, scikit-learn, matplotlib and pandas kept out) is set here.
    configure_backend(os.environ["KERAS_BACKEND"], worker=True)
    _worker["progress"] = make_progress("lines" if lines else "off")


def _import_training() -> None:
    try:
        import dlpipe.train.model_file
        import dlpipe.train.models
        import dlpipe.train.training  # noqa: F401
    except Exception as error:
        # Not left to a second import in the job: a package that failed half-way may not fail the
        # same way twice. The job raises this one.
        _worker["import_error"] = error


def _train_in_worker(job: Job, arrays: Arrays, train: TrainParams, models_dir: Path) -> History:
    if "import_error" in _worker:
        raise _worker["import_error"]
    return train_job(job, arrays, train, models_dir, _worker["progress"])
