"""How the test run itself behaves: it ends with what it could not test on this machine, one line per reason
(tests/conftest.py), and a test that hangs fails with its stack while the others go on (pytest-timeout)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIPPING = """
import pytest

def test_runs():
    pass

@pytest.mark.parametrize("n", [1, 2])
def test_needs_a_browser(n):
    pytest.skip("/usr/bin/chromium missing: apt-get install -y chromium")

@pytest.mark.skipif(True, reason="needs two CPUs to choose from")
def test_needs_two_cpus():
    pass
"""


@pytest.mark.parametrize("workers", ["0", "2"])  # in one process, and reported by pytest-xdist's workers
def test_the_run_ends_with_each_skip_reason_once(tmp_path, workers):
    (tmp_path / "conftest.py").write_text("from tests.conftest import pytest_terminal_summary  # noqa: F401\n")
    (tmp_path / "test_skips.py").write_text(SKIPPING)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", workers, "--rootdir", str(tmp_path)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    start = lines.index("Not tested on this machine:")
    assert lines[start + 1 : start + 3] == [
        "  /usr/bin/chromium missing: apt-get install -y chromium (2 tests)",
        "  needs two CPUs to choose from (1 test)",
    ]


def test_a_run_that_skips_nothing_says_nothing_of_it(tmp_path):
    (tmp_path / "conftest.py").write_text("from tests.conftest import pytest_terminal_summary  # noqa: F401\n")
    (tmp_path / "test_runs.py").write_text("def test_runs():\n    pass\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", "--rootdir", str(tmp_path)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and "1 passed" in proc.stdout, proc.stdout + proc.stderr
    assert "Not tested" not in proc.stdout


HANGING = """
import time

def test_hangs():
    time.sleep(600)

def test_runs():
    pass
"""


def test_a_hung_test_fails_with_its_stack_and_the_run_goes_on(tmp_path):
    # The project's own pytest options (its workers, its timeout method), with the timeout shortened.
    (tmp_path / "test_hang.py").write_text(HANGING)
    options = ["-c", str(ROOT / "pyproject.toml"), "--rootdir", str(tmp_path), "-o", "timeout=3"]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *options, str(tmp_path / "test_hang.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Failed: Timeout (>3.0s) from pytest-timeout" in proc.stdout
    assert "time.sleep(600)" in proc.stdout  # the line it hung on
    assert "1 failed, 1 passed" in proc.stdout
