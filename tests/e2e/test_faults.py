"""Faults: interrupted stages, damaged outputs. After each, the pipeline reruns to the same metrics."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.training_run import training_started

pytestmark = pytest.mark.e2e
OUTPUT_DIRS = ("metrics", "plots/train_dropout", "data/models", "data")
# Runs the command after it with SIGINT at its default, as a terminal's foreground job has it. A suite started
# in the background (`&`, nohup) has SIGINT ignored, and every child inherits that across exec: dvc and its
# stage would never see the Ctrl-C these tests send. (A handler, unlike "ignore", is reset by exec.)
CTRL_C_DEFAULT = [
    sys.executable,
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])",
]


def leftovers(root: Path) -> list[str]:
    """Temporary files or folders (``.<name>.<random>.tmp``) left among the outputs."""
    return [str(p.relative_to(root)) for d in OUTPUT_DIRS for p in (root / d).glob(".*.tmp")]


def processes_in(root: Path) -> list[int]:
    """Processes working in the clone at ``root``: a stage, its shell, its training workers (other
    tests, and other test sessions on the same machine, work in their own clones)."""
    mine = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "cwd").resolve() == root.resolve():
                mine.append(int(proc.name))
        except OSError:  # it ended meanwhile, or is not ours to look at
            pass
    return mine


def start_and_interrupt(clone, sig: int, whole_group: bool, shell: str, workers: int) -> tuple[int, str]:
    """Start `dvc repro` of train_dropout, which runs the stage through ``shell`` and trains in
    ``workers`` processes; signal it once training has begun."""
    command = [*CTRL_C_DEFAULT, sys.executable, "-m", "dvc", "repro", "--single-item", "train_dropout"]
    env = {**clone.env, "SHELL": shell, "DLPIPE_WORKERS": str(workers)}
    try:
        with training_started(command, clone.path, env) as (proc, lines):
            if whole_group:
                os.killpg(proc.pid, sig)  # what Ctrl-C in a terminal does
            else:
                proc.send_signal(sig)  # dvc alone: its stage must not live on as an orphan
            code = proc.wait(timeout=120)
            # An orphaned stage would hold the output pipe open: it must be gone before reading to the end.
            deadline = time.monotonic() + 15
            while processes_in(clone.path):
                if time.monotonic() > deadline:
                    pytest.fail("the stage (or a worker of it) outlived dvc")
                time.sleep(0.2)
            return code, "".join(lines) + proc.stdout.read()
    finally:
        for pid in processes_in(clone.path):  # a stage that outlived dvc, in another process group
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def long_clone(built_clone):
    """The tiny pipeline, built; its params.yaml then asks train_dropout for so many epochs that
    the interrupted run cannot finish before the signal lands (or, if the stage failed to stop
    when dvc died, before the test's deadline). Not committed: the test restores params.yaml."""
    clone = built_clone
    params = clone.params()
    params["train_dropout"]["epochs"] = 100_000
    clone.write_params(params)
    return clone


# DVC runs a stage through $SHELL. bash execs the stage in its place; Debian's /bin/sh (dash, and
# $SHELL where none is set, as on CI machines) stays between `dvc` and the stage, so a stage that
# watched only its own parent would live on when `dvc` alone is killed. The unit tests of the
# watchdog try both shells; here the harder one. With two workers, the stage must stop them too.
@pytest.mark.parametrize(
    ("sig", "whole_group", "shell", "workers"),
    [
        pytest.param(signal.SIGINT, True, "/bin/bash", 1, id="Ctrl-C"),
        pytest.param(signal.SIGTERM, False, "/bin/sh", 1, id="SIGTERM to dvc alone"),
        pytest.param(signal.SIGTERM, False, "/bin/sh", 2, id="SIGTERM to dvc alone, two workers"),
    ],
)
def test_an_interrupted_stage_stops_is_not_recorded_and_reruns(long_clone, sig, whole_group, shell, workers):
    clone = long_clone
    undisturbed = (clone.path / "plots/train_dropout/seeds.csv").read_bytes()
    code, output = start_and_interrupt(clone, sig, whole_group, shell, workers)
    assert code != 0, output
    # DVC deleted the stage's outputs before running it; stopped during its first epoch, the stage
    # wrote none of them (a model is written when it has trained, the rest when all have).
    metrics = clone.path / "plots/train_dropout/seeds.csv"
    assert not metrics.exists()
    models = clone.path / "data/models/train_dropout"
    assert not models.exists() or list(models.iterdir()) == []
    assert leftovers(clone.path) == []
    assert "Traceback" not in output

    # The interrupted run was not recorded as complete, and the params of the complete build are
    # back: its outputs must be rebuilt or restored.
    assert clone.run("git", "diff", "--exit-code", "dvc.lock", check=False).returncode == 0
    clone.run("git", "checkout", "params.yaml")
    rerun = clone.dvc("repro").stdout
    # Rerun, or restored from DVC's run-cache (the same params ran to completion before):
    # either way DVC saw the stage was not complete.
    assert "Running stage 'train_dropout'" in rerun or "Stage 'train_dropout' is cached" in rerun
    assert metrics.read_bytes() == undisturbed


def test_ctrl_c_while_a_stage_imports_its_modules_is_one_line(built_clone):
    # The first second or so of every stage is imports (NumPy, Keras, JAX): Ctrl-C there must end
    # in one line too, not a traceback through their imports. Import timing lines show where it is.
    clone = built_clone
    summary = clone.summary()
    proc = subprocess.Popen(
        [*CTRL_C_DEFAULT, sys.executable, "-m", "dvc", "repro", "--force", "--single-item", "train_dropout"],
        cwd=clone.path,
        env={**clone.env, "PYTHONPROFILEIMPORTTIME": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    lines, started = [], False
    for line in proc.stdout:
        lines.append(line)
        started = started or line.startswith("> python stages/train_dropout.py")
        if started and line.startswith("import time:") and line.split("|")[-1].strip() == "numpy":
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
            break
    else:
        pytest.fail("the stage never imported numpy:\n" + "".join(lines))
    rest, _ = proc.communicate(timeout=120)
    output = [line for line in ("".join(lines) + rest).splitlines() if not line.startswith("import time:")]
    assert proc.returncode != 0
    assert "Traceback" not in "\n".join(output)
    assert "train_dropout: interrupted" in output, "\n".join(output)
    assert leftovers(clone.path) == []
    clone.dvc("repro")
    assert "Data and pipelines are up to date" in clone.dvc("status").stdout
    assert clone.summary() == summary


def test_damaged_outputs_are_detected_and_rebuilt(built_clone):
    clone = built_clone
    originals = {
        rel: (clone.path / rel).read_bytes()
        for rel in ("metrics/summary.json", "data/processed/spotify.npz", "plots/train_dropout/dropout.csv")
    }
    for rel in originals:
        path = clone.path / rel
        path.write_bytes(path.read_bytes()[:-7] + b"garbage")
    status = clone.dvc("status").stdout
    assert "modified" in status and "Data and pipelines are up to date" not in status
    clone.dvc("repro")
    assert {rel: (clone.path / rel).read_bytes() for rel in originals} == originals
    assert "Data and pipelines are up to date" in clone.dvc("status").stdout
