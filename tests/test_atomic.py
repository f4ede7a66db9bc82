import errno
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from dlpipe.core.atomic import atomic_path, check_writable, deferred_signals, leftovers, remove_leftovers
from dlpipe.core.errors import _raise_interrupt


def test_success_replaces_the_target(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt, OSError(errno.ENOSPC, "No space left on device")])
def test_failure_keeps_the_old_version_and_no_temp_files(tmp_path, error):
    target = tmp_path / "dir"
    target.mkdir()
    (target / "a").write_text("old")
    with pytest.raises(error if isinstance(error, type) else OSError), atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "a").write_text("half")
        raise error
    assert (target / "a").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["dir"]


def test_a_full_disk_names_the_output_being_written(tmp_path):
    target = tmp_path / "models"
    with pytest.raises(OSError) as info, atomic_path(target) as staged:
        staged.mkdir()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as from a library's write()
    assert info.value.filename == str(target)
    assert [p.name for p in tmp_path.iterdir()] == []


def test_an_unwritable_folder_is_named_not_the_temporary_name(tmp_path, monkeypatch):
    def refuse(**kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), f"{kwargs['dir']}/.out.x1y2.tmp")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    with pytest.raises(OSError) as info, atomic_path(tmp_path / "data" / "out"):
        pass
    assert info.value.errno == errno.EROFS and info.value.filename == str(tmp_path / "data")


def _fd_path(fd: int) -> str:
    return os.readlink(f"/proc/self/fd/{fd}")


def test_every_file_and_folder_is_on_disk_before_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append(("fsync", _fd_path(fd))), real_fsync(fd)))
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append(("replace", str(b))), real_replace(a, b)))
    target = tmp_path / "out"
    target.mkdir()
    with atomic_path(target) as staged:
        (staged / "sub").mkdir(parents=True)
        (staged / "a.csv").write_text("a")
        (staged / "sub" / "b.npz").write_text("b")
        staged_files = {str(p) for p in (staged, *staged.rglob("*"))}
    renamed_in = events.index(("replace", str(target)))
    assert {path for kind, path in events[:renamed_in] if kind == "fsync"} == staged_files
    assert events[renamed_in + 1 :] == [("fsync", str(tmp_path))]  # the rename itself


class Interrupter:
    """Sends this process a signal right before, or right after, the n-th step of a write: every
    fsync, rename and delete is a step."""

    def __init__(self, monkeypatch, n: int, after: bool, sig: int) -> None:
        self.n, self.after, self.sig, self.steps, self.sent = n, after, sig, 0, False
        for module, name in ((os, "fsync"), (os, "replace"), (shutil, "rmtree")):
            monkeypatch.setattr(module, name, self._wrap(getattr(module, name)))

    def _wrap(self, real):
        def step(*args, **kwargs):
            self.steps += 1
            send = self.steps == self.n
            if send and not self.after:
                self._send()
            result = real(*args, **kwargs)
            if send and self.after:
                self._send()
            return result

        return step

    def _send(self) -> None:
        self.sent = True
        signal.raise_signal(self.sig)


def write(target: Path, kind: str) -> None:
    with atomic_path(target) as staged:
        if kind == "file":
            staged.write_text("new")
        else:
            staged.mkdir()
            for name in ("a", "b", "c"):
                (staged / name).write_text(f"new {name}")


def state(target: Path) -> object:
    if not target.exists():
        return None
    if target.is_file():
        return target.read_text()
    return {p.name: p.read_text() for p in target.iterdir()}


OLD = {"file": "old", "folder": {"a": "old a", "b": "old b"}}
NEW = {"file": "new", "folder": {"a": "new a", "b": "new b", "c": "new c"}}


def make_old(target: Path, kind: str) -> None:
    if kind == "file":
        target.write_text("old")
    else:
        target.mkdir()
        for name, text in OLD["folder"].items():
            (target / name).write_text(text)


@pytest.fixture
def stage_signals():
    """SIGTERM handled as a stage handles it (run_stage): as KeyboardInterrupt."""
    before = signal.signal(signal.SIGTERM, _raise_interrupt)
    yield
    signal.signal(signal.SIGTERM, before)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize(("kind", "existed"), [("folder", True), ("folder", False), ("file", True)])
def test_an_interrupt_at_any_step_leaves_the_old_or_the_new_output(
    tmp_path, monkeypatch, stage_signals, kind, existed, sig
):
    with monkeypatch.context() as m:
        counter = Interrupter(m, n=0, after=False, sig=sig)
        if existed:
            make_old(tmp_path / "ref", kind)
        write(tmp_path / "ref", kind)
    steps = counter.steps
    assert steps >= (8 if kind == "folder" and existed else 4)
    for n in range(1, steps + 1):
        for after in (False, True):
            case = tmp_path / f"{n}-{after}"
            case.mkdir()
            target = case / "out"
            if existed:
                make_old(target, kind)
            with monkeypatch.context() as m:
                interrupter = Interrupter(m, n, after, sig)
                with pytest.raises(KeyboardInterrupt):
                    write(target, kind)
            assert interrupter.sent
            where = f"signal {'after' if after else 'before'} step {n} of {steps}"
            assert state(target) in ([OLD[kind]] if existed else [None]) + [NEW[kind]], where
            assert [p.name for p in case.iterdir()] == (["out"] if existed or state(target) else []), where


def test_the_swap_itself_cannot_be_cut_in_two(tmp_path, monkeypatch, stage_signals):
    # Without deferral, a signal after the old folder moved aside would leave no output at all.
    target = tmp_path / "out"
    make_old(target, "folder")
    real_replace = os.replace

    def replace(src, dst):
        real_replace(src, dst)
        if Path(dst).name == "out.old":
            signal.raise_signal(signal.SIGTERM)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        write(target, "folder")
    assert state(target) == NEW["folder"]


def test_a_failed_rename_puts_the_old_folder_back(tmp_path, monkeypatch):
    target = tmp_path / "out"
    make_old(target, "folder")
    real_replace = os.replace

    def replace(src, dst):
        if Path(src).name == "out" and Path(dst) == target:
            raise OSError(errno.EACCES, "Permission denied", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(PermissionError):
        write(target, "folder")
    assert state(target) == OLD["folder"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_deferred_signals_are_handled_once_the_block_ends(stage_signals):
    handled = []
    with pytest.raises(KeyboardInterrupt), deferred_signals():
        signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGINT)
        handled.append("block finished")
    assert handled == ["block finished"]
    assert signal.getsignal(signal.SIGTERM) is _raise_interrupt
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_outside_the_main_thread_nothing_is_deferred(tmp_path):
    # Python handles signals in the main thread only: a writer thread still writes atomically.
    errors = []

    def work() -> None:
        try:
            write(tmp_path / "out", "folder")
        except Exception as exc:
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert errors == [] and state(tmp_path / "out") == NEW["folder"]


KILLED_WRITER = """
import os, sys
from dlpipe.core.atomic import atomic_path

with atomic_path(sys.argv[1]) as staged:
    staged.mkdir()
    (staged / "half.keras").write_text("half")
    os.kill(os.getpid(), 9)  # killed outright: nothing runs after this
"""


def test_the_temporary_folders_of_a_killed_writer_are_found_and_removed_and_nothing_else(tmp_path):
    target = tmp_path / "models" / "train_dropout"
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(target)], timeout=60)
        assert proc.returncode == -signal.SIGKILL
    left = leftovers(target)
    assert len(left) == 2 and all((p / "train_dropout" / "half.keras").exists() for p in left)
    # Not its own: another target's temporary folder, names a user might choose, a file of that shape.
    others = [".train_batchnorm.abcd1234.tmp", ".train_dropout.backup.tmp", "train_dropout.abcd1234.tmp"]
    for name in others:
        (tmp_path / "models" / name).mkdir()
    (tmp_path / "models" / ".train_dropout.file1234.tmp").write_text("a file, not a writer's folder")
    remove_leftovers(target)
    assert leftovers(target) == []
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == sorted([*others, ".train_dropout.file1234.tmp"])
    assert leftovers(tmp_path / "nowhere" / "x") == []


def test_a_writable_folder_passes_the_check_and_is_left_as_it_was(tmp_path):
    (tmp_path / "plots").mkdir()
    check_writable([tmp_path / "plots", tmp_path / "data" / "models"])
    assert [p.name for p in tmp_path.rglob("*")] == ["plots"]  # no probe left, the folders it made removed


def test_a_folder_under_a_file_fails_the_check_naming_the_folder(tmp_path):
    (tmp_path / "plots").write_text("a file where a folder should be")
    with pytest.raises(NotADirectoryError) as info:
        check_writable([tmp_path / "data", tmp_path / "plots" / "train_dropout"])
    assert info.value.filename == str(tmp_path / "plots" / "train_dropout")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plots"]  # data/, made for its probe, removed


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder (tests/e2e has a read-only mount)")
def test_a_read_only_folder_fails_the_check_naming_the_folder(tmp_path):
    folder = tmp_path / "plots"
    folder.mkdir(mode=0o555)
    with pytest.raises(PermissionError) as info:
        check_writable([folder])
    assert info.value.filename == str(folder) and list(folder.iterdir()) == []
