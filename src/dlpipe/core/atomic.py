"""Replace a tool's own output whole, so that a reader sees the old version or the new one; check a folder
can be written before long work.

For what is read outside DVC while a tool runs or after it failed: the generated blocks of the README and
docs/, the ``--out`` folders of review, plots_page and sweep_collect. DVC's stages write
their outputs in place: DVC deletes a stage's outputs before it runs the stage and records in dvc.lock only a
stage that finished, so a temporary name would protect nothing there.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

_DISK_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)
# A probe writes one block: a disk with no block left refuses it.
_PROBE_BYTES = 4096


def _flush_files(path: Path) -> None:
    """fsync a file, or every file under a folder: the data is on disk before the name points at it.

    Without it, a power cut just after the rename can leave the name on a file with no data (an empty
    README.md, which also holds the user's own text). The folders are not fsynced: a rename lost in a
    crash leaves the old version, which a reader may see anyway.
    """
    files = [path] if path.is_file() else [Path(root, name) for root, _, names in os.walk(path) for name in names]
    for file in files:
        if not file.is_symlink():
            fd = os.open(file, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


@contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success move it onto ``target``.

    Works for a file or a folder written at the yielded path: a folder is replaced by moving the old one
    aside first. On any exception (Ctrl-C too, even between those two renames) the temporary path is
    removed and ``target`` is as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as exc:  # a read-only or full folder: name it, not the random name
        raise type(exc)(exc.errno, exc.strerror, str(target.parent)) from None
    staged, aside = tmp / target.name, tmp / f"{target.name}.old"
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
        _flush_files(staged)
        if target.is_dir() and not target.is_symlink():
            os.replace(target, aside)
        os.replace(staged, target)
    finally:
        if aside.exists() and not target.exists():  # stopped between the two renames
            os.replace(aside, target)
        shutil.rmtree(tmp, ignore_errors=True)


def check_writable(folders: Iterable[str | os.PathLike[str]]) -> None:
    """Check that a file can be created and written in each of ``folders``, creating them if needed;
    the folders it created and its probe file are removed again.

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
