"""User-facing errors and the thin wrapper that turns them into one line and an exit code."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import NoReturn


class UserError(Exception):
    """A problem the user can fix (bad data, bad params, no network): shown as one line."""


def _raise_interrupt(signum: int, _frame: object) -> NoReturn:
    # SIGTERM kills Python without unwinding; turning it into KeyboardInterrupt runs the
    # `finally` blocks that remove half-written temp files.
    raise KeyboardInterrupt(f"signal {signum}")


def run_cli(stage: str, main: Callable[[], None]) -> None:
    """Run a stage's ``main``; print user errors as one line and exit non-zero.

    Set ``DLPIPE_DEBUG=1`` to see the full traceback instead.
    """
    signal.signal(signal.SIGTERM, _raise_interrupt)
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
