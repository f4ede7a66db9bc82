"""One error boundary: every command-line entry point ends any failure in one line, never a traceback.

The boundary is `dlpipe.core.errors.run_cli` (tools) and `run_stage` (DVC stages: also SIGTERM and the
orphan watchdog). ``DLPIPE_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import ast
import errno
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from jax.errors import JaxRuntimeError

from dlpipe.core.errors import BUG_HINT, UserError, error_line, run_cli, run_stage
from tests.helpers.streams import Writes

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
MEMORY_HINT = (
    "close other programs, or make the model or its batches smaller (a training stage's units or batch_size "
    "in params.yaml), then run again"
)


def tensorflow_error(name: str, message: str) -> Exception:
    """An exception of TensorFlow's class ``name`` (same module and name): TensorFlow itself cannot be
    imported here, the unit tests run on JAX."""
    return type(name, (Exception,), {"__module__": "tensorflow.python.framework.errors_impl"})(message)


# As TensorFlow 2.21 words it (abridged: the real one lists the graph's nodes over some 2 kB).
TF_OOM = """Graph execution error:

Detected at node StatefulPartitionedCall defined at (most recent call last):
  File "stages/train_dropout.py", line 31, in <module>
OOM when allocating tensor with shape[32,20000000] and type float on /job:localhost/replica:0/task:0/device:CPU:0
\t [[{{node StatefulPartitionedCall}}]]
Hint: If you want to see a list of allocated tensors when OOM happens, add report_tensor_allocations_upon_oom"""


@pytest.mark.parametrize(
    ("exc", "line"),
    [
        (UserError("bad thing; fix it"), "cmd: error: bad thing; fix it"),
        (
            OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "data/x.npz"),
            "cmd: error: No space left on device: data/x.npz; free some disk space, then run again",
        ),
        (
            PermissionError(errno.EACCES, os.strerror(errno.EACCES), "data"),
            "cmd: error: Permission denied: data; check the permissions of that path",
        ),
        (
            OSError(errno.EROFS, os.strerror(errno.EROFS), "data"),
            "cmd: error: Read-only file system: data; make that folder writable, or run from a copy",
        ),
        (
            FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), "data/processed/spotify.npz"),
            "cmd: error: No such file or directory: data/processed/spotify.npz; if it is a pipeline file, "
            "run `dvc pull` or `dvc repro` first",
        ),
        (
            OSError(errno.EXDEV, os.strerror(errno.EXDEV), "a", None, "b"),
            "cmd: error: Invalid cross-device link: a -> b",
        ),
        (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), "cmd: error: Connection reset by peer;"),
        (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), "cmd: error: [SSL: WRONG_VERSION"),
        (TimeoutError("timed out"), "cmd: error: TimeoutError: timed out; check the network connection"),
        (ValueError("progress mode\n'x'"), f"cmd: error: ValueError: progress mode 'x'; {BUG_HINT}"),
        (KeyError(), f"cmd: error: KeyError; {BUG_HINT}"),
        (MemoryError(), f"cmd: error: out of memory; {MEMORY_HINT}"),
        # As JAX 0.10 reports them: an array too large, and a fit whose programs cannot get their buffers.
        (
            JaxRuntimeError("RESOURCE_EXHAUSTED: Out of memory allocating 8589934592 bytes."),
            f"cmd: error: out of memory (XLA could not allocate 8.59 GB); {MEMORY_HINT}",
        ),
        (
            JaxRuntimeError(
                "INTERNAL: Error dispatching computation: Error dispatching computation: "
                "Out of memory allocating 25680000896 bytes."
            ),
            f"cmd: error: out of memory (XLA could not allocate 25.7 GB); {MEMORY_HINT}",
        ),
        (
            tensorflow_error("ResourceExhaustedError", TF_OOM),
            "cmd: error: out of memory (TensorFlow: OOM when allocating tensor with shape[32,20000000]); "
            + MEMORY_HINT,
        ),
        # Other failures of XLA, and a class that only shares a name, are still bugs.
        (
            JaxRuntimeError("INVALID_ARGUMENT: shapes differ"),
            f"cmd: error: JaxRuntimeError: INVALID_ARGUMENT: shapes differ; {BUG_HINT}",
        ),
        (
            tensorflow_error("InvalidArgumentError", "shapes differ"),
            f"cmd: error: InvalidArgumentError: shapes differ; {BUG_HINT}",
        ),
        (type("ResourceExhaustedError", (Exception,), {})("x"), f"cmd: error: ResourceExhaustedError: x; {BUG_HINT}"),
        (KeyboardInterrupt(), "cmd: interrupted"),
    ],
)
def test_every_exception_is_one_line(exc, line):
    shown = error_line("cmd", exc)
    assert shown.startswith(line) and "\n" not in shown


OUT_OF_MEMORY = """
import resource

from dlpipe.core.errors import run_cli

# A cap on this process's address space: XLA's allocation fails as on a machine without the memory,
# and nothing is taken from this one.
resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))


def main():
    import jax.numpy as jnp

    jnp.ones(2**31, jnp.float32).block_until_ready()  # 8 GiB


run_cli("demo", main)
"""


def test_xla_running_out_of_memory_is_one_line_saying_what_to_make_smaller():
    env = {k: v for k, v in os.environ.items() if k != "DLPIPE_DEBUG"}
    proc = subprocess.run([PY, "-c", OUT_OF_MEMORY], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr == f"demo: error: out of memory (XLA could not allocate 8.59 GB); {MEMORY_HINT}\n"


def _raise(exc: BaseException):
    def main() -> None:
        raise exc

    return main


@pytest.mark.parametrize(
    ("exc", "code"), [(UserError("x"), 1), (OSError(errno.ENOSPC, "full"), 1), (ValueError("x"), 1)]
)
def test_the_boundary_prints_one_line_and_exits_non_zero(monkeypatch, capsys, exc, code):
    monkeypatch.delenv("DLPIPE_DEBUG", raising=False)
    with pytest.raises(SystemExit) as info:
        run_cli("tool", _raise(exc))
    assert info.value.code == code
    assert capsys.readouterr().err == error_line("tool", exc) + "\n"


def test_the_error_line_is_written_whole_in_one_call(monkeypatch):
    # A training stage's workers may be writing progress lines to the same pipe at that moment: a line
    # written in pieces (print's text, then its newline) could be cut by one of theirs.
    monkeypatch.delenv("DLPIPE_DEBUG", raising=False)
    monkeypatch.setattr(sys, "stderr", Writes())
    with pytest.raises(SystemExit):
        run_cli("tool", _raise(KeyboardInterrupt()))
    assert sys.stderr.calls == ["tool: interrupted\n"]


def test_ctrl_c_exits_130(monkeypatch, capsys):
    monkeypatch.delenv("DLPIPE_DEBUG", raising=False)
    with pytest.raises(SystemExit) as info:
        run_cli("tool", _raise(KeyboardInterrupt()))
    assert info.value.code == 130
    assert capsys.readouterr().err == "tool: interrupted\n"


def test_debug_shows_the_traceback_and_usage_errors_pass_through(monkeypatch):
    monkeypatch.setenv("DLPIPE_DEBUG", "1")
    with pytest.raises(ValueError, match="boom"):
        run_cli("tool", _raise(ValueError("boom")))
    monkeypatch.setenv("DLPIPE_DEBUG", "0")
    with pytest.raises(SystemExit) as info:
        run_cli("tool", _raise(ValueError("boom")))
    assert info.value.code == 1
    with pytest.raises(SystemExit) as info:
        run_cli("tool", _raise(SystemExit(2)))  # argparse's usage error: its own message, its own code
    assert info.value.code == 2


def test_only_stages_turn_sigterm_into_an_interrupt_and_watch_their_parent(monkeypatch):
    before = signal.getsignal(signal.SIGTERM)
    threads = set(threading.enumerate())
    run_cli("tool", lambda: None)
    assert signal.getsignal(signal.SIGTERM) == before and set(threading.enumerate()) == threads
    try:
        run_stage("stage", lambda: None, fast_exit=False)
        assert signal.getsignal(signal.SIGTERM) != before
        assert any(t.name not in {u.name for u in threads} and t.daemon for t in threading.enumerate())
    finally:
        signal.signal(signal.SIGTERM, before)


FAST_EXIT = """
import atexit, sys
from dlpipe.core.errors import run_cli, run_stage

def main():
    with open(sys.argv[1], "w") as fh:
        fh.write("written")
    print("out", end="")
    print("err", end="", file=sys.stderr)

atexit.register(lambda: print(" atexit", end=""))
(run_stage if sys.argv[2] == "stage" else run_cli)("demo", main)
"""


@pytest.mark.parametrize("kind", ["stage", "tool"])
def test_a_stage_keeps_its_output_and_skips_the_teardown(tmp_path, kind):
    out = tmp_path / "out.txt"
    proc = subprocess.run([PY, "-c", FAST_EXIT, str(out), kind], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == "written"
    assert proc.stderr == "err"
    # The interpreter's exit (atexit handlers, freeing every module) runs only for the tools.
    assert proc.stdout == ("out" if kind == "stage" else "out atexit")


ORPHAN = """
import sys, time
from pathlib import Path
from dlpipe.core.errors import run_cli, run_stage

def main():
    Path("started").touch()
    time.sleep(2)
    Path("finished").touch()

(run_stage if sys.argv[1] == "stage" else run_cli)("x", main)
"""


@pytest.mark.parametrize(("kind", "finishes"), [("tool", True), ("stage", False)])
def test_a_background_tool_outlives_its_shell_but_a_stage_stops_with_its_parent(tmp_path, kind, finishes):
    # `python -m dlpipe.report.review &` in a subshell: the subshell exits at once, the tool carries on.
    # A stage whose `dvc` died stops instead of racing the next `dvc repro`.
    (tmp_path / "orphan.py").write_text(ORPHAN)
    shell = f'"{PY}" orphan.py {kind} & while [ ! -e started ]; do sleep 0.05; done'
    subprocess.run(["sh", "-c", shell], cwd=tmp_path, check=True, timeout=60)
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline and not (tmp_path / "finished").exists():
        time.sleep(0.1)
    assert (tmp_path / "finished").exists() == finishes


# What `dvc` does with a stage's command: runs it through $SHELL (or /bin/sh) with `-c`, and waits.
FAKE_DVC = """
import os, subprocess, sys
subprocess.run([os.environ.get("SHELL") or "/bin/sh", "-c", sys.argv[1]])
"""
# A shell that stays between `dvc` and the stage (Debian's /bin/sh, dash, does for any command; every
# shell does when more follows the command), and one that execs the stage in its place (bash, for a
# lone command); None: SHELL unset, /bin/sh.
SHELLS = [
    pytest.param("/bin/sh", "; true", id="shell stays in between"),
    pytest.param("/bin/bash", "; true", id="bash stays in between"),
    pytest.param(None, "; true", id="SHELL unset, /bin/sh stays in between"),
    pytest.param("/bin/bash", "", id="bash execs the stage"),
]


def _with_shell(shell: str | None) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if k != "SHELL"}, **({"SHELL": shell} if shell else {})}


def _wait_for(path: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not path.exists():
        time.sleep(0.05)
    return path.exists()


@pytest.mark.parametrize(("shell", "more"), SHELLS)
def test_a_stage_stops_when_the_dvc_that_ran_it_dies_whatever_its_shell(tmp_path, shell, more):
    (tmp_path / "orphan.py").write_text(ORPHAN)
    (tmp_path / "dvc.py").write_text(FAKE_DVC)
    dvc = subprocess.Popen([PY, "dvc.py", f'"{PY}" orphan.py stage{more}'], cwd=tmp_path, env=_with_shell(shell))
    try:
        assert _wait_for(tmp_path / "started", 30)
        dvc.kill()  # SIGTERM to dvc alone ends it the same way: DVC has no handler for it
        dvc.wait(timeout=30)
        assert not _wait_for(tmp_path / "finished", 4)  # it would be there 2 s after the start
    finally:
        dvc.kill()


def test_a_stage_outlives_the_shell_that_started_dvc(tmp_path):
    # `nohup dvc repro &` and the terminal closes: `dvc` carries on, and so must its stage, even
    # with a shell between the two (the watchdog looks one level past the shell, no further).
    (tmp_path / "orphan.py").write_text(ORPHAN)
    (tmp_path / "dvc.py").write_text(FAKE_DVC)
    stage = f'"{PY}" orphan.py stage'
    launcher = f"\"{PY}\" dvc.py '{stage}; true' & while [ ! -e started ]; do sleep 0.05; done"
    subprocess.run(["sh", "-c", launcher], cwd=tmp_path, check=True, timeout=60, env=_with_shell("/bin/sh"))
    assert _wait_for(tmp_path / "finished", 6)


def _importtime_free(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("import time:")]


def test_ctrl_c_while_a_stage_imports_its_modules_is_one_line(tmp_path):
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    proc = subprocess.Popen(
        [PY, "-X", "importtime", str(ROOT / "stages/train_dropout.py")],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.split("|")[-1].strip() == "numpy":  # NumPy is loaded; Keras and JAX are still to come
            proc.send_signal(signal.SIGINT)
            break
    rest = proc.stderr.read()
    proc.wait(timeout=60)
    messages = _importtime_free("".join(seen) + rest)
    assert proc.returncode == 130, messages
    assert messages == ["train_dropout: interrupted"]
    assert "keras" not in "".join(seen)  # the signal came during the imports
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]


def _with_params(folder: Path) -> None:
    (folder / "params.yaml").write_text((ROOT / "params.yaml").read_text())


# What a benchmark says when given no folder of the real tables (FETCH_MIRROR is unset for these tests).
NO_MIRROR = "give --mirror FOLDER or set FETCH_MIRROR to a folder holding spotify_songs.csv and Concrete_Data.xls"
# Every command-line entry point, in a folder where it must fail: (command, argv, setup, fragment).
ENTRY_POINTS = [
    ("check_params", ["stages/check_params.py"], None, "params.yaml not found; run from the repository root"),
    ("library_versions", ["stages/library_versions.py"], None, "uv.lock not found; run from the repository root"),
    ("fetch", ["stages/fetch.py"], None, "sources.yaml not found; run from the repository root"),
    ("group_split", ["stages/group_split.py"], None, "params.yaml not found"),
    ("preprocess", ["stages/preprocess.py"], _with_params, "No such file or directory: data/split/spotify_train.csv"),
    ("train_dropout", ["stages/train_dropout.py"], _with_params, "data/processed/spotify.npz; if it is a pipeline"),
    ("train_batchnorm", ["stages/train_batchnorm.py"], _with_params, "data/processed/concrete.npz;"),
    ("summarize", ["stages/summarize.py"], None, "plots/train_dropout/seeds.csv; if it is a pipeline file"),
    ("review", ["-m", "dlpipe.report.review"], None, "not a git repository"),
    (
        "results_table",
        ["-m", "dlpipe.report.results_table"],
        None,
        "metrics/summary.json not found: run `dvc repro` first",
    ),
    ("plots_page", ["-m", "dlpipe.report.plots_page"], None, "no dvc.yaml in"),
    ("notebook_baseline", ["benchmarks/notebook_baseline.py", "--data", "nowhere"], None, "--data nowhere is not"),
    ("pipeline_fits", ["benchmarks/pipeline_fits.py", "--backend", "jax"], None, "params.yaml not found"),
    ("pipeline_fits", ["benchmarks/pipeline_fits.py", "--backend", "tensorflow", "--xla-threads", "2"], None, "--xla"),
    ("benchmark", ["benchmarks/run.py", "--mirror", "nowhere"], None, "--mirror nowhere is not a folder"),
    ("benchmark", ["benchmarks/run.py"], None, NO_MIRROR),
    ("repro_breakdown", ["benchmarks/repro_breakdown.py"], None, NO_MIRROR),
    ("compare_revisions", ["benchmarks/compare_revisions.py", "HEAD"], None, NO_MIRROR),
    ("install_benchmark", ["benchmarks/install.py"], None, NO_MIRROR),
    ("repro_breakdown", ["benchmarks/repro_breakdown.py", "--mirror", "nowhere"], None, "--mirror nowhere is not a"),
    ("stage_profile", ["benchmarks/stage_profile.py", "--report", "r.json", "nowhere"], None, "nowhere is not a file"),
    ("compare_revisions", ["benchmarks/compare_revisions.py", "no-such-rev", "--mirror", "."], None, "no-such-rev is"),
    ("install_benchmark", ["benchmarks/install.py", "--python", "nowhere3"], None, "--python nowhere3 is not an"),
    ("suite_benchmark", ["benchmarks/suite.py", "--", "--no-such-option"], None, "the suite failed (exit 4)"),
    ("install_benchmark", ["benchmarks/install.py", "--mirror", "nowhere"], None, "--mirror nowhere is not a folder"),
    ("pr_comment", ["-m", "dlpipe.report.pr_comment", "--report", "x.md", "--pr", "1", "--repo", "o/n"], None, "x.md"),
    ("sweep_grid", ["-m", "dlpipe.sweep.grid", "--grid", "nokey"], None, "grid 'nokey': Error parsing"),
    ("sweep_worker", ["-m", "dlpipe.sweep.worker", "--sweep", "s", "-S", "dropout=0.5"], None, "params.yaml"),
    ("sweep_collect", ["-m", "dlpipe.sweep.collect", "--sweep", "s", "--param", "dropout"], None, "not a git"),
]


@pytest.mark.parametrize(("command", "argv", "setup", "fragment"), ENTRY_POINTS, ids=[e[0] for e in ENTRY_POINTS])
def test_every_entry_point_fails_in_one_line(tmp_path, command, argv, setup, fragment):
    env = {k: v for k, v in os.environ.items() if k not in ("DLPIPE_DEBUG", "FETCH_MIRROR")}
    env.update((setup(tmp_path) or {}) if setup else {})
    args = [str(ROOT / a) if a.endswith(".py") else a for a in argv]
    proc = subprocess.run([PY, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{command}: error: ") and fragment in lines[0], proc.stderr


def test_every_entry_point_is_in_the_table():
    listed = {a for _, argv, _, _ in ENTRY_POINTS for a in argv if a.endswith(".py") or a.startswith("dlpipe.")}
    scripts = {p.relative_to(ROOT).as_posix() for d in ("stages", "benchmarks") for p in (ROOT / d).glob("*.py")}
    tools = {
        ".".join(p.relative_to(ROOT / "src").with_suffix("").parts)
        for p in (ROOT / "src/dlpipe").rglob("*.py")
        if 'if __name__ == "__main__":' in p.read_text()
    }
    assert scripts | tools == listed


def test_debug_shows_the_traceback_of_a_stage(tmp_path):
    proc = subprocess.run(
        [PY, str(ROOT / "stages/summarize.py")],
        cwd=tmp_path,
        env={**os.environ, "DLPIPE_DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and proc.stderr.rstrip().splitlines()[-1].startswith("FileNotFoundError")


def _stage_with_params(folder: Path, stage: str, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``stage``'s script in ``folder`` (holding only params.yaml) with ``environ`` added."""
    _with_params(folder)
    return subprocess.run(
        [PY, str(ROOT / f"stages/{stage}.py")],
        cwd=folder,
        env={**os.environ, **environ},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("stage", ["fetch", "train_dropout", "train_batchnorm"])
def test_an_unknown_progress_mode_is_one_line_listing_the_allowed_ones(tmp_path, stage):
    proc = _stage_with_params(tmp_path, stage, {"DLPIPE_PROGRESS": "quiet"})
    assert proc.returncode == 1
    assert proc.stderr == (
        f"{stage}: error: DLPIPE_PROGRESS=quiet is not a progress mode; "
        "set it to one of auto, bar, lines, off, or unset it\n"
    )


@pytest.mark.parametrize("stage", ["train_dropout", "train_batchnorm"])
def test_a_bad_worker_count_is_one_line_before_any_training(tmp_path, stage):
    proc = _stage_with_params(tmp_path, stage, {"DLPIPE_WORKERS": "0"})
    assert proc.returncode == 1
    assert proc.stderr == (
        f"{stage}: error: DLPIPE_WORKERS=0 is not a number of processes; set it to a whole number from 1 "
        "(1 trains every model in the stage's own process) or to auto, or unset it\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]


@pytest.mark.parametrize("script", sorted((ROOT / "stages").glob("*.py")), ids=lambda p: p.stem)
def test_every_stage_runs_in_the_stage_boundary(script):
    # run_stage: SIGTERM as an interrupt, the orphan watchdog and the fast exit.
    calls = [
        node
        for node in ast.walk(ast.parse(script.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in {"run_stage", "run_cli"}
    ]
    assert [(c.func.id, c.args[0].value, c.keywords) for c in calls] == [("run_stage", script.stem, [])], (
        f"{script.name}: end with run_stage({script.stem!r}, main)"
    )
