"""A `dvc repro` started in the background and followed until a training stage prints its first epoch."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# A stage's epoch lines: `[dropout] epoch ...` with one seed, `[dropout seed 0] epoch ...` with several.
FIRST_EPOCH = ("[dropout] epoch", "[dropout seed ")


@contextmanager
def training_started(command: list[str], cwd: Path, env: dict[str, str]) -> Iterator[tuple[subprocess.Popen, list]]:
    """Run ``command`` in its own process group with stdout and stderr merged; yield it and the lines read so
    far once training has begun (fail the test if it never does). On leaving, a group still running is
    killed: no 100,000-epoch training is left behind on a shared machine."""
    proc = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith(FIRST_EPOCH):
                break
        else:
            pytest.fail("training never started:\n" + "".join(lines))
        yield proc, lines
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.stdout.close()
