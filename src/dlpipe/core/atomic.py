"""Write outputs so that a reader sees the old version or the new one — never half of either.

An output is written under a temporary name next to its target, flushed to disk (every file and
folder fsynced), and renamed onto the target. A folder cannot be renamed onto an existing folder,
so the old one is renamed aside, the new one renamed in, and only then is the old one deleted. The
two renames run with SIGINT and SIGTERM deferred, so an interrupt cannot fall between them; if the
second rename fails, the old folder is put back.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

_DEFERRED = (signal.SIGINT, signal.SIGTERM)
_DISK_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)
# The random part of a name from tempfile.mkdtemp: 8 of these characters.
_RANDOM_PART = "[a-z0-9_]{8}"
# A probe writes one block: a disk with no block left refuses it.
_PROBE_BYTES = 4096


@contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block has run, then handle them as usual (once each).

    For a few instructions that must not be cut in two. Python handles signals in the main thread
    only, so elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: received.append(signum)) for sig in _DEFERRED}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        for sig in dict.fromkeys(received):
            signal.raise_signal(sig)  # now handled by the restored handler


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_tree(path: Path) -> None:
    """Flush a file, or every file and folder under a folder, to disk (symlinks are not followed)."""
    if path.is_symlink():
        return
    if path.is_dir():
        for folder, dirs, files in os.walk(path):
            for name in files:
                if not os.path.islink(os.path.join(folder, name)):
                    _fsync(Path(folder, name))
            for name in dirs:
                _fsync(Path(folder, name))
    _fsync(path)


def _swap(staged: Path, target: Path, aside: Path) -> None:
    if target.is_dir() and not target.is_symlink():
        os.replace(target, aside)
        try:
            os.replace(staged, target)
        except BaseException:
            os.replace(aside, target)
            raise
    else:
        os.replace(staged, target)


def _staging_name(target: Path) -> re.Pattern[str]:
    """The names of :func:`atomic_path`'s temporary folders for ``target``, in ``target``'s folder."""
    return re.compile(re.escape(f".{target.name}.") + _RANDOM_PART + re.escape(".tmp"))


def leftovers(target: str | os.PathLike[str]) -> list[Path]:
    """The temporary folders :func:`atomic_path` left beside ``target`` when its process was killed
    outright (SIGKILL, a power cut): only its own names for this target, never anything else."""
    target = Path(target)
    if not target.parent.is_dir():
        return []
    pattern = _staging_name(target)
    return sorted(p for p in target.parent.iterdir() if pattern.fullmatch(p.name) and p.is_dir() and not p.is_symlink())


def remove_leftovers(target: str | os.PathLike[str]) -> None:
    """Delete the temporary folders a killed writer of ``target`` left (see :func:`leftovers`).

    For a writer that is the only one of ``target`` (a DVC stage: DVC locks the repository while it
    runs one): another process writing the same target now would lose its temporary folder.
    """
    for folder in leftovers(target):
        shutil.rmtree(folder)


def check_writable(folders: Iterable[str | os.PathLike[str]]) -> None:
    """Check that a file can be created and written in each of ``folders``, creating them as
    :func:`atomic_path` would; the folders it created and its probe file are removed again.

    Raises the OSError of the first that cannot (read-only, no permission, disk full, a file in the
    way), naming that folder: for a command to find it before its long work rather than after.
    """
    for folder in map(Path, folders):
        created = [p for p in (folder, *folder.parents) if not p.exists() and not p.is_symlink()]
        try:
            if folder.exists() and not folder.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
            folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".write-probe.", suffix=".tmp", dir=folder)
            try:
                os.write(fd, bytes(_PROBE_BYTES))
            finally:
                os.close(fd)
                os.unlink(probe)
        except OSError as exc:  # name the folder, not the probe's random name
            raise type(exc)(exc.errno, exc.strerror, str(folder)) from None
        finally:
            for made in created:  # deepest first
                with suppress(OSError):
                    made.rmdir()


@contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it onto ``target`` on success.

    Works for a file or a directory written at the yielded path. On any exception
    (including KeyboardInterrupt) the temporary path is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as exc:  # a read-only or full folder: name it, not the random name
        raise type(exc)(exc.errno, exc.strerror, str(target.parent)) from None
    staged = tmp / target.name
    try:
        try:
            yield staged
        except OSError as exc:
            # A full disk often surfaces in a library's write() that knows no path: say what was written.
            if exc.filename is None and exc.errno in _DISK_ERRORS:
                exc.filename = str(target)
            raise
        if not staged.exists():
            raise RuntimeError(f"nothing was written to {staged}")
        _sync_tree(staged)
        with deferred_signals():
            _swap(staged, target, aside=tmp / f"{target.name}.old")
        _fsync(target.parent)
    finally:
        # Deferred too: an interrupt here would leave part of the temporary folder behind.
        with deferred_signals():
            shutil.rmtree(tmp, ignore_errors=True)
