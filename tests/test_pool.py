"""Training in worker processes gives the same bytes as training in one; a failure or an interrupt in
one of them ends the stage the way it would end a one-process stage, and leaves no process behind; a
worker loads what training needs and not what Keras imports for other jobs."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from dlpipe.core.errors import UserError
from dlpipe.display.progress import Progress, make_progress
from dlpipe.train import pool as pool_module
from dlpipe.train.experiment import Outputs, run_experiment
from dlpipe.train.pool import Job, train_jobs, training_workers
from dlpipe.train.stage import usable_cpus, worker_count
from tests.test_training import linear_arrays, train_params

PY = sys.executable
RUNS = {"dropout": {"dropout": 0.3}, "no_dropout": {}}


def every_file(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_two_workers_write_the_same_bytes_as_one_process(tmp_path):
    results = {}
    for workers in (1, 2):
        root = tmp_path / f"workers{workers}"
        outputs = Outputs(root / "models", root / "plots")
        with training_workers(workers, Progress()) as pool:
            results[workers] = run_experiment(
                RUNS, linear_arrays(), train_params(), outputs, title="t", seeds=[0, 1], pool=pool
            )
    one, two = every_file(tmp_path / "workers1"), every_file(tmp_path / "workers2")
    assert sorted(one) == sorted(two) and len(one) == 8  # 4 models, 2 curves, the seed table, the figure
    assert {name: content == two[name] for name, content in one.items()} == dict.fromkeys(one, True)
    assert results[1] == results[2]


@pytest.mark.parametrize(
    ("value", "count"), [(None, usable_cpus()), ("", usable_cpus()), ("auto", usable_cpus()), ("1", 1), ("3", 3)]
)
def test_the_worker_count_comes_from_the_environment(value, count):
    assert worker_count({} if value is None else {"DLPIPE_WORKERS": value}) == count


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", "²"])
def test_a_bad_worker_count_is_one_line_saying_what_is_allowed(value):
    with pytest.raises(UserError) as caught:
        worker_count({"DLPIPE_WORKERS": value})
    assert str(caught.value) == (
        f"DLPIPE_WORKERS={value} is not a number of processes; set it to a whole number from 1 "
        "(1 trains every model in the stage's own process) or to auto, or unset it"
    )


# A stage that trains two models for ever, in two workers; it says when both have begun.
LONG_STAGE = textwrap.dedent(
    """
    import sys
    import time
    from pathlib import Path
    from dlpipe.core.errors import run_stage

    def main():
        from dlpipe.train.backend import configure_backend
        configure_backend("jax", training_process=True)
        from dlpipe.train.pool import training_workers
        from dlpipe.display.progress import make_progress
        with training_workers(2, make_progress("lines")) as pool:  # as a training stage: the workers first
            print("workers started", file=sys.stderr, flush=True)
            if "--before-jobs" in sys.argv:
                time.sleep(600)  # the stage's own imports, drawn out
            from dlpipe.train.experiment import Outputs, run_experiment
            from tests.test_training import linear_arrays, train_params
            run_experiment(
                {"dropout": {"dropout": 0.3}, "no_dropout": {}}, linear_arrays(), train_params(epochs=100_000),
                Outputs(Path("models"), Path("plots")), title="t", seeds=[0], pool=pool,
                progress=make_progress("lines"),
            )

    if __name__ == "__main__":
        run_stage("long", main)
    """
)


@contextmanager
def long_stage(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """The long stage, training in two workers; whatever the test does, its process group ends."""
    proc = _start_long_stage(tmp_path)
    try:
        yield proc
    finally:
        if not _group_gone(proc.pid, 0):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.stderr.close()  # type: ignore[union-attr]


def _start_long_stage(tmp_path: Path) -> subprocess.Popen[str]:
    (tmp_path / "stage.py").write_text(LONG_STAGE)
    proc = subprocess.Popen(
        [PY, "stage.py"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stderr is not None
    begun: set[str] = set()
    for line in proc.stderr:
        if line.startswith("[") and " epoch " in line:
            begun.add(line.split("]")[0][1:])
        if begun == {"dropout", "no_dropout"}:
            return proc
    pytest.fail(f"the workers never trained: exit {proc.wait()}")


def _group_gone(pgid: int, seconds: float) -> bool:
    """Whether every process of the group ``pgid`` has ended, waiting up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def _workers_of(stage: int) -> list[psutil.Process]:
    return [p for p in psutil.Process(stage).children() if "spawn_main" in " ".join(p.cmdline())]


def _started_workers(stage: int, count: int, seconds: float = 60) -> list[psutil.Process]:
    """The ``count`` workers of ``stage``, once each runs its own interpreter."""
    # A worker the pool has just started may not show its command line yet (seen on Python 3.12: one of
    # two found at once, both half a second later).
    deadline = time.monotonic() + seconds
    while len(workers := _workers_of(stage)) < count:
        assert time.monotonic() < deadline, f"{len(workers)} of {count} workers started"
        time.sleep(0.05)
    assert len(workers) == count, workers
    return workers


def test_ctrl_c_stops_the_workers_and_is_one_line(tmp_path):
    with long_stage(tmp_path) as proc:
        # A worker ignores SIGINT: the stage alone decides (a worker that died of it would fail the stage).
        worker = _workers_of(proc.pid)[0]
        worker.send_signal(signal.SIGINT)
        time.sleep(2)
        assert proc.poll() is None and worker.is_running(), "a worker stopped at Ctrl-C by itself"
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: to every process of the group
        rest = proc.stderr.read()
        assert proc.wait(timeout=60) == 130
        lines = [line for line in rest.splitlines() if not line.startswith("[")]
        assert lines == ["long: interrupted"]
        assert _group_gone(proc.pid, 10), "a worker outlived its stage"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["stage.py"]


def test_ctrl_c_before_any_job_stops_the_workers_and_is_one_line(tmp_path):
    # While a training stage imports its own modules, its workers have started: Ctrl-C then too.
    (tmp_path / "stage.py").write_text(LONG_STAGE)
    proc = subprocess.Popen(
        [PY, "stage.py", "--before-jobs"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stderr is not None and proc.stderr.readline() == "workers started\n"
        _started_workers(proc.pid, 2)
        os.killpg(proc.pid, signal.SIGINT)
        rest = proc.stderr.read()
        assert proc.wait(timeout=60) == 130
        assert rest.splitlines() == ["long: interrupted"]
        assert _group_gone(proc.pid, 10), "a worker outlived its stage"
    finally:
        if not _group_gone(proc.pid, 0):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.stderr.close()  # type: ignore[union-attr]


def _mapped_packages(process: psutil.Process, packages: Iterable[str]) -> list[str]:
    """Those of ``packages`` whose compiled modules (shared libraries) ``process`` has loaded."""
    # One reading of the process's mapped files for all the packages: it takes a while for a process
    # that has loaded JAX.
    paths = [m.path for m in process.memory_maps()]
    return [
        package
        for package in packages
        if any(re.search(rf"[\\/](site|dist)-packages[\\/]{package}[\\/]", path) for path in paths)
    ]


def test_workers_stop_when_their_stage_is_killed_outright(tmp_path):
    with long_stage(tmp_path) as proc:
        # While they train: a worker only trains, without what Keras imports for other jobs. The stage
        # itself has matplotlib and pandas (it draws the figure, makes the tables), so the probe sees them.
        # (psutil reads a process's mapped files on Linux, Windows and BSD, not on macOS.)
        if hasattr(psutil.Process, "memory_maps"):
            packages = ("jaxlib", "matplotlib", "pandas", "sklearn", "tensorflow")
            loaded = {p.pid: _mapped_packages(p, packages) for p in _workers_of(proc.pid)}
            assert list(loaded.values()) == [["jaxlib"], ["jaxlib"]], loaded
            assert _mapped_packages(psutil.Process(proc.pid), packages) == ["matplotlib", "pandas"]
        # Read what the group still writes, as DVC does: a full pipe would block the workers' lines and the
        # resource tracker's closing warning (it outlives the stage until the workers are gone) for ever.
        drain = threading.Thread(target=proc.stderr.read, daemon=True)  # type: ignore[union-attr]
        drain.start()
        proc.kill()  # SIGKILL: nothing in the stage runs any more, the workers must notice alone
        # Within a minute: a thread checks the parent every half second, but a loaded machine can starve it.
        proc.wait(timeout=60)
        assert _group_gone(proc.pid, 60), "a worker outlived its stage"
        drain.join(timeout=10)


@pytest.mark.skipif(not hasattr(psutil.Process, "memory_maps"), reason="psutil cannot read mapped files here")
def test_workers_start_and_import_keras_before_any_job_then_stop(tmp_path):
    # A training stage starts its workers first, so that their Keras imports overlap its own imports.
    with training_workers(2, Progress()) as pool:
        assert pool is not None
        # Both started by training_workers itself (nothing else here starts one); a few seconds for their
        # command lines to show (see _started_workers).
        workers = _started_workers(os.getpid(), 2, seconds=10)
        deadline = time.monotonic() + 120
        while not all(_mapped_packages(p, ["jaxlib"]) for p in workers):
            assert time.monotonic() < deadline, "the workers did not import Keras"
            time.sleep(0.2)
        # Then they train what they are given.
        history = train_jobs(
            [Job("dropout", 0, "dropout", "dropout.keras", {"dropout": 0.3})],
            linear_arrays(),
            train_params(),
            tmp_path,
            pool=pool,
        )
        assert len(history[0]) == train_params().epochs and (tmp_path / "dropout.keras").is_file()
        assert _workers_of(os.getpid()) == workers  # the pool's own processes, no new one
    assert not any(p.is_running() for p in workers)


def test_a_worker_dead_before_its_jobs_ends_them_in_one_line_with_what_to_do(tmp_path):
    # Killed while importing Keras (where memory grows most): the pool is broken before any job.
    with training_workers(2, Progress()) as pool:
        assert pool is not None
        victim = _started_workers(os.getpid(), 2)[0]
        victim.kill()  # not waited for here: the pool reaps its own processes (else it waits for ever)
        deadline = time.monotonic() + 30
        while True:  # until the pool has noticed: then submitting fails at once
            try:
                pool.submit(int).result(timeout=30)
            except BrokenProcessPool:
                break
            assert time.monotonic() < deadline, "the pool never noticed its dead worker"
            time.sleep(0.1)
        job = Job("dropout", 0, "dropout", "dropout.keras", {"dropout": 0.3})
        with pytest.raises(UserError) as caught:
            train_jobs([job], linear_arrays(), train_params(), tmp_path, pool=pool)
    assert str(caught.value) == (
        "a training worker process ended abruptly (killed, or out of memory?); "
        "run again with DLPIPE_WORKERS=1 to train in the stage's own process"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_failed_import_in_a_worker_is_raised_by_its_first_job(monkeypatch, tmp_path):
    # What a worker does at start and then for a job, here in this process: the import error is
    # kept and raised as it was, not left to a second import that may fail differently.
    monkeypatch.setitem(sys.modules, "dlpipe.train.training", None)
    monkeypatch.delitem(pool_module._worker, "import_error", raising=False)
    pool_module._import_training()
    error = pool_module._worker.pop("import_error")
    assert isinstance(error, ImportError) and "dlpipe.train.training" in str(error)
    monkeypatch.setitem(pool_module._worker, "import_error", error)
    job = Job("dropout", 0, "dropout", "dropout.keras", {"dropout": 0.3})
    with pytest.raises(ImportError) as caught:
        pool_module._train_in_worker(job, linear_arrays(), train_params(), tmp_path)
    assert caught.value is error and list(tmp_path.iterdir()) == []


def test_a_failing_job_stops_the_workers_the_caller_started(tmp_path):
    outputs = Outputs(tmp_path / "models", tmp_path / "plots")
    runs = {"dropout": {"dropout": 0.3}, "broken": {"no_such_argument": 1}}
    with pytest.raises(TypeError, match="no_such_argument"), training_workers(2, Progress()) as pool:
        workers = _started_workers(os.getpid(), 2)
        run_experiment(runs, linear_arrays(), train_params(), outputs, title="t", seeds=[0], pool=pool)
    assert not any(p.is_running() for p in workers)
    assert {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")} <= {"models", "models/dropout.keras"}


def test_one_worker_is_no_pool():
    with training_workers(1, make_progress("lines")) as pool:
        assert pool is None
        assert _workers_of(os.getpid()) == []


def test_a_killed_worker_ends_the_stage_in_one_line_with_what_to_do(tmp_path):
    with long_stage(tmp_path) as proc:
        _workers_of(proc.pid)[0].kill()  # what the out-of-memory killer does
        rest = proc.stderr.read()
        assert proc.wait(timeout=60) == 1
        lines = [line for line in rest.splitlines() if not line.startswith("[")]
        assert lines == [
            "long: error: a training worker process ended abruptly (killed, or out of memory?); "
            "run again with DLPIPE_WORKERS=1 to train in the stage's own process"
        ]
        assert _group_gone(proc.pid, 10), "a worker outlived its stage"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["stage.py"]
