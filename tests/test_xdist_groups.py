"""Tests marked with one xdist group run in one worker: e2e tests that share a built experiment, and tests
that run dvc in this checkout, rely on it (pytest 9.2 with pytest-xdist 3.8 silently stopped grouping)."""

import subprocess
import sys
import textwrap
import threading
import time

import pytest

GROUPED = textwrap.dedent(
    """
    import os
    import pytest

    def where(name):
        with open(f"{name}.worker", "w") as fh:
            fh.write(os.environ["PYTEST_XDIST_WORKER"])

    @pytest.mark.xdist_group("shared")
    @pytest.mark.parametrize("i", range(4))
    def test_grouped(i):
        where(f"grouped{i}")

    @pytest.mark.parametrize("i", range(4))
    def test_free(i):
        where(f"free{i}")
    """
)


def test_tests_of_one_xdist_group_run_in_one_worker(tmp_path):
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadgroup"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    workers = {p.stem: p.read_text() for p in tmp_path.glob("*.worker")}
    assert len(workers) == 8, workers
    assert len({workers[f"grouped{i}"] for i in range(4)}) == 1, workers
    # Both workers took part: the test could tell a group from everything running in one worker.
    assert set(workers.values()) == {"gw0", "gw1"}, workers


def test_a_session_build_is_made_once_and_a_failed_one_is_retried(tmp_path):
    from tests.e2e.conftest import built_once

    folder = tmp_path / "built"
    with pytest.raises(RuntimeError), built_once(folder) as build:
        assert build
        (folder / "partial").touch()
        raise RuntimeError("the build failed")
    # Two workers at once: one builds (from an empty folder), the other waits for it, then finds it built.
    start, builds, found = threading.Barrier(2), [], []

    def worker() -> None:
        start.wait()
        with built_once(folder) as build:
            if build:
                builds.append(sorted(p.name for p in folder.iterdir()))
                time.sleep(0.5)  # long enough for the other to be waiting on the lock
                (folder / "result").touch()
            found.append((folder / "result").exists())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert builds == [[]] and found == [True, True]
    assert sorted(p.name for p in folder.iterdir()) == [".built", "result"]
