"""On PYTHONPATH only for benchmarks/repro_breakdown.py's `dvc repro`: when each stage's process starts and ends.

Python imports ``sitecustomize`` at start-up, before the script. For a process running a ``.py`` script
while ``DLPIPE_BENCH_PROCESS_LOG`` is set, this records the time then and the time the process ends
(``os._exit``, which every stage uses, or the start of a normal exit), as one line of that log:
``<script> <start> <end>`` (``time.monotonic``, shared by every process of the machine). DVC's own time
for a stage is then its interval in `dvc repro` minus this, measured in the same run. Python's own
start before this import (≈0.02 s, see `python -c pass`) is counted as DVC's.
"""

import os
import sys
import time

_LOG = os.environ.get("DLPIPE_BENCH_PROCESS_LOG")

if _LOG and sys.argv and sys.argv[0].endswith(".py"):
    _START = time.monotonic()
    _real_exit = os._exit
    _done = []

    def _record() -> None:
        if not _done:
            _done.append(True)
            with open(_LOG, "a", encoding="utf-8") as fh:
                fh.write(f"{sys.argv[0]} {_START!r} {time.monotonic()!r}\n")

    def _exit(code: int) -> None:
        _record()
        _real_exit(code)

    os._exit = _exit

    import atexit

    atexit.register(_record)
