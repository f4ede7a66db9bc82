import errno
import os
import signal
import tempfile
from pathlib import Path

import pytest

from dlpipe.core.atomic import atomic_path, check_writable


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


def test_every_file_is_on_disk_before_the_rename(tmp_path, monkeypatch):
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
        staged_files = {str(staged / "a.csv"), str(staged / "sub" / "b.npz")}
    renamed_in = events.index(("replace", str(target)))
    assert {path for kind, path in events[:renamed_in] if kind == "fsync"} == staged_files


class Interrupter:
    """Sends this process SIGINT (Ctrl-C) right before, or right after, the n-th step of a write:
    every fsync and rename is a step."""

    def __init__(self, monkeypatch, n: int, after: bool) -> None:
        self.n, self.after, self.steps, self.sent = n, after, 0, False
        for name in ("fsync", "replace"):
            monkeypatch.setattr(os, name, self._wrap(getattr(os, name)))

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
        signal.raise_signal(signal.SIGINT)


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


@pytest.mark.parametrize(("kind", "existed"), [("folder", True), ("folder", False), ("file", True)])
def test_ctrl_c_at_any_step_leaves_the_old_or_the_new_output(tmp_path, monkeypatch, kind, existed):
    with monkeypatch.context() as m:
        counter = Interrupter(m, n=0, after=False)
        if existed:
            make_old(tmp_path / "ref", kind)
        write(tmp_path / "ref", kind)
    steps = counter.steps
    assert steps >= (5 if kind == "folder" and existed else 2)  # the fsyncs, one or two renames
    for n in range(1, steps + 1):
        for after in (False, True):
            case = tmp_path / f"{n}-{after}"
            case.mkdir()
            target = case / "out"
            if existed:
                make_old(target, kind)
            with monkeypatch.context() as m:
                interrupter = Interrupter(m, n, after)
                with pytest.raises(KeyboardInterrupt):
                    write(target, kind)
            assert interrupter.sent
            where = f"Ctrl-C {'after' if after else 'before'} step {n} of {steps}"
            assert state(target) in ([OLD[kind]] if existed else [None]) + [NEW[kind]], where
            assert [p.name for p in case.iterdir()] == (["out"] if existed or state(target) else []), where


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


@pytest.mark.skipif(
    os.geteuid() == 0,
    reason="a read-only folder's error, as root (who may write there anyway): tests/e2e checks it on a read-only mount",
)
def test_a_read_only_folder_fails_the_check_naming_the_folder(tmp_path):
    folder = tmp_path / "plots"
    folder.mkdir(mode=0o555)
    with pytest.raises(PermissionError) as info:
        check_writable([folder])
    assert info.value.filename == str(folder) and list(folder.iterdir()) == []
