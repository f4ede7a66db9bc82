"""User-facing errors, and the boundary that ends every command in one line and an exit code.

Standard library only at import time, and quick to import (a stage's orphan watchdog imports
psutil when it starts): a stage script imports this module first and does its other imports inside
``main()``, so that the boundary (and, for stages, the signal handling) is in place before NumPy or
Keras start loading.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import NoReturn

DEBUG_VARIABLE = "DLPIPE_DEBUG"
BUG_HINT = f"this is a bug, run with {DEBUG_VARIABLE}=1 and report it"
INTERRUPTED = "interrupted"

_OS_HINTS = {
    errno.ENOSPC: "free some disk space, then run again",
    errno.EDQUOT: "free some disk space (the disk quota is used up), then run again",
    errno.EACCES: "check the permissions of that path (you need to be allowed to write there)",
    errno.EPERM: "check the permissions of that path (you need to be allowed to write there)",
    errno.EROFS: "make that folder writable, or run from a copy of the repository on a writable disk",
    errno.ENOTDIR: "a file is where that path needs a folder: move or rename the file, then run again",
}
_MISSING_HINT = "if it is a pipeline file, run `dvc pull` or `dvc repro` first to create it"
_NETWORK_HINT = "check the network connection, then run again"
_MEMORY_HINT = (
    "close other programs, or make the model or its batches smaller (a training stage's units or batch_size "
    "in params.yaml), then run again"
)
# XLA (under JAX) and TensorFlow report an allocation that failed with their own classes, recognised by
# module and name: importing either here would cost seconds. XLA's runtime error covers every kind of
# failure, so its message must say which.
_XLA_ERRORS = frozenset({("jax", "JaxRuntimeError"), ("jaxlib", "XlaRuntimeError"), ("jaxlib", "JaxRuntimeError")})
_TF_OOM = ("tensorflow", "ResourceExhaustedError")
_XLA_OOM = re.compile(r"RESOURCE_EXHAUSTED|out of memory", re.IGNORECASE)
_XLA_SIZE = re.compile(r"allocat\w* (\d+) bytes")
_TF_TENSOR = re.compile(r"OOM when allocating tensor with shape\s*\[[\d, ]*\]")


class UserError(Exception):
    """A problem the user can fix (bad data, bad params, no network): shown as one line."""


def debugging() -> bool:
    """Whether ``DLPIPE_DEBUG`` asks for tracebacks (any value but empty or ``0``)."""
    return os.environ.get(DEBUG_VARIABLE, "") not in ("", "0")


def _flat(text: object) -> str:
    return " ".join(str(text).split())


def _name(path: object) -> str:
    return os.fsdecode(path) if isinstance(path, str | bytes | os.PathLike) else str(path)


def _os_hint(exc: OSError) -> str | None:
    if isinstance(exc, FileNotFoundError):
        return _MISSING_HINT
    if isinstance(exc, ConnectionError | TimeoutError) or type(exc).__module__ in ("ssl", "socket"):
        return _NETWORK_HINT
    return _OS_HINTS.get(exc.errno) if exc.errno is not None else None


def _describe_os_error(exc: OSError) -> str:
    what = _flat(exc.strerror) if exc.strerror else f"{type(exc).__name__}: {_flat(exc)}"
    if exc.filename is not None:
        what += f": {_name(exc.filename)}"
        if exc.filename2 is not None:
            what += f" -> {_name(exc.filename2)}"
    hint = _os_hint(exc)
    return f"{what}; {hint}" if hint else what


def _memory_exhausted(exc: BaseException) -> str | None:
    """What could not be allocated (``""`` when not said) if ``exc`` is running out of memory, else None."""
    if isinstance(exc, MemoryError):
        return ""
    message = str(exc)
    for cls in type(exc).__mro__:
        where = (cls.__module__.split(".")[0], cls.__name__)
        if where == _TF_OOM:
            # Its message is a page of graph nodes and allocator hints: only the tensor's shape is kept.
            tensor = _TF_TENSOR.search(message)
            return f"TensorFlow: {' '.join(tensor.group().split())}" if tensor else "TensorFlow"
        if where in _XLA_ERRORS and _XLA_OOM.search(message):
            size = _XLA_SIZE.search(message)
            return f"XLA could not allocate {int(size.group(1)) / 1e9:.3g} GB" if size else "XLA"
    return None


def error_line(command: str, exc: BaseException) -> str:
    """The one line ``command`` prints when it ends with ``exc``.

    A UserError is shown as is; an OSError (disk full, permissions, a missing file, a network
    failure) as the system's message, the path, and what to do; running out of memory (Python's,
    XLA's or TensorFlow's) as what to make smaller; anything else is a bug.
    """
    if isinstance(exc, KeyboardInterrupt):
        return f"{command}: {INTERRUPTED}"
    if isinstance(exc, UserError):
        return f"{command}: error: {exc}"
    if isinstance(exc, OSError):
        return f"{command}: error: {_describe_os_error(exc)}"
    if (what := _memory_exhausted(exc)) is not None:
        return f"{command}: error: out of memory{f' ({what})' if what else ''}; {_MEMORY_HINT}"
    detail = _flat(exc)
    return f"{command}: error: {type(exc).__name__}{': ' + detail if detail else ''}; {BUG_HINT}"


def _run(command: str, main: Callable[[], object], fast_exit: bool) -> None:
    try:
        main()
    except (Exception, KeyboardInterrupt) as exc:
        if debugging():
            raise
        # One write (not print's two where stderr is unbuffered): a training stage's workers may still
        # be writing their lines.
        sys.stderr.write(error_line(command, exc) + "\n")
        sys.stderr.flush()
        sys.exit(130 if isinstance(exc, KeyboardInterrupt) else 1)
    if fast_exit:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def run_cli(command: str, main: Callable[[], object]) -> None:
    """Run a command-line tool's ``main``: any exception ends in one line on stderr and a
    non-zero exit (130 for Ctrl-C); ``DLPIPE_DEBUG=1`` shows the traceback instead.

    SystemExit (argparse's usage errors, ``--help``) passes through unchanged.
    """
    _run(command, main, fast_exit=False)


def _raise_interrupt(signum: int, _frame: object) -> NoReturn:
    # SIGTERM kills Python without unwinding; turning it into KeyboardInterrupt runs the
    # `finally` blocks that stop the training workers, and ends in the one line.
    raise KeyboardInterrupt(f"signal {signum}")


def _orphan_check(parent: int | None = None) -> Callable[[], bool]:
    """A check that tells whether the `dvc` that started this process has died.

    Taken at once, in the main thread: a `dvc` that dies while the stage starts must be seen too.
    ``parent``: the pid this process must have as its parent (a worker whose stage may already be
    gone when it starts); by default, the parent it has now.
    """
    import psutil  # ≈30 ms next to the stage's own imports

    parent = os.getppid() if parent is None else parent
    shell: psutil.Process | None = None
    launcher = 0
    try:
        candidate = psutil.Process(parent)
        # DVC runs a stage as `$SHELL -c <cmd>` (/bin/sh where SHELL is unset). Some shells exec the
        # command, so the stage's parent is `dvc`; others stay in between (dash, Debian's /bin/sh), so
        # `dvc` is the shell's parent, recognised by the path DVC started it with, whatever the shell.
        if candidate.cmdline()[:1] == [os.environ.get("SHELL") or "/bin/sh"]:
            shell, launcher = candidate, candidate.ppid()
    except psutil.Error:
        pass  # the parent is gone already: the check of our own parent sees it

    def orphaned() -> bool:
        if os.getppid() != parent:
            return True
        try:
            return shell is not None and shell.ppid() != launcher
        except psutil.Error:
            return True

    return orphaned


def _stop_when(orphaned: Callable[[], bool]) -> None:
    # When `dvc` itself is killed (SIGTERM to dvc alone), its stage process lives on as an
    # orphan and would race the next `dvc repro` for the same outputs. Stop it instead.
    while not orphaned():
        time.sleep(0.5)
    # To the main thread itself: a signal the kernel hands to this thread would leave the main
    # thread blocked in a system call (a write to a full pipe nobody reads any more) forever.
    signal.pthread_kill(threading.main_thread().ident, signal.SIGTERM)


def watch_parent(parent: int | None = None) -> None:
    """Stop this process (SIGTERM) when the process that started it dies: its parent (``parent``,
    by default the one it has now), or, when the parent is a shell that stayed in between, the
    shell's parent. Checked every half second by a daemon thread.

    On Linux and macOS; on Windows a process's parent never changes, and nothing is watched.
    """
    if os.name == "nt":
        return
    threading.Thread(target=_stop_when, args=(_orphan_check(parent),), daemon=True).start()


def run_stage(stage: str, main: Callable[[], object], fast_exit: bool = True) -> None:
    """Run a DVC stage's ``main`` inside the same boundary as ``run_cli``.

    Only stages, whose parent is `dvc`: SIGTERM is turned into KeyboardInterrupt (so ``finally``
    blocks stop the training workers), and the stage stops when the `dvc` that started it dies (its
    parent, or the parent of the shell DVC ran it through). Call it before the stage's heavy
    imports (do them inside ``main``), so that Ctrl-C during them is one line too.

    At its end the stage checks that the params and files dvc.yaml declares for it are those it started
    with (:class:`dlpipe.core.stage_inputs.Snapshot`): otherwise it fails before DVC records anything.

    The process ends with ``os._exit`` as soon as ``main`` has returned (its outputs are written and
    closed by then), skipping the interpreter's teardown: ≈1 s of freeing the XLA
    runtime in a Keras process, 0.5-1.4 s of freeing modules in one that imported scikit-learn
    (`python benchmarks/repro_breakdown.py`, column *exit*). ``fast_exit=False`` is for tests
    that call it in their own process.
    """
    signal.signal(signal.SIGTERM, _raise_interrupt)

    def watched() -> object:
        try:
            # Inside the boundary: Ctrl-C while psutil loads is one line too.
            watch_parent()
            from dlpipe.core.stage_inputs import Snapshot

            # DVC records the params and dependencies it finds when the stage ends: they must still be
            # those the stage started with (see stage_inputs).
            inputs = Snapshot.take(stage)
            result = main()
        except ModuleNotFoundError as exc:
            if (exc.name or "dlpipe").split(".")[0] == "dlpipe":
                raise
            # DVC ran `python stages/…` with the first `python` on PATH: here, not the project's. (The one
            # optional package, TensorFlow, is checked before it is imported, with its own message.)
            sys.exit(
                f"{stage}: error: this Python ({sys.executable}) does not have the project's packages (no module "
                f"named {exc.name!r}); activate the project's environment first: source .venv/bin/activate"
            )
        if inputs is not None:
            inputs.check()
        return result

    _run(stage, watched, fast_exit)
