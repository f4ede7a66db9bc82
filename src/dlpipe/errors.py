"""User-facing errors and the thin wrapper that turns them into one line and an exit code."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import NoReturn


class UserError(Exception):
    """A problem the user can fix (bad data, bad params, no network): shown as one line."""


def _raise_interrupt(signum: int, _frame: object) -> NoReturn:
    # SIGTERM kills Python without unwinding; turning it into KeyboardInterrupt runs the
    # `finally` blocks that remove half-written temp files.
    raise KeyboardInterrupt(f"signal {signum}")


def _stop_when_orphaned(parent: int, every: float = 0.5) -> None:
    # When `dvc` itself is killed (SIGTERM to dvc alone), its stage process lives on as an
    # orphan and would race the next `dvc repro` for the same outputs. Stop it instead.
    while True:
        time.sleep(every)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)
            return


def run_cli(stage: str, main: Callable[[], None], fast_exit: bool = False) -> None:
    """Run a stage's ``main``; print user errors as one line and exit non-zero.

    SIGINT and SIGTERM, and the death of the parent process, end the stage through
    KeyboardInterrupt, so its temporary files are removed and no partial output is left.
    Set ``DLPIPE_DEBUG=1`` to see the full traceback instead of one line.

    ``fast_exit`` ends the process as soon as ``main`` has returned (its outputs are written
    and renamed by then), skipping the interpreter's teardown: for a Keras process that is
    ≈1 s of freeing the XLA runtime.
    """
    signal.signal(signal.SIGTERM, _raise_interrupt)
    threading.Thread(target=_stop_when_orphaned, args=(os.getppid(),), daemon=True).start()
    try:
        main()
    except UserError as exc:
        if os.environ.get("DLPIPE_DEBUG"):
            raise
        print(f"{stage}: error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"{stage}: interrupted; no partial output was kept", file=sys.stderr)
        sys.exit(130)
    if fast_exit:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
