"""A tool's output folder (its ``--out``): written all or nothing, and only over the tool's own earlier output.

The folder is replaced whole (:func:`dlpipe.core.atomic.atomic_path`), so whatever else it holds would be
deleted with it: a user's notes, another tool's report. The tool writes a marker file in its folder naming
itself and every file it wrote; a folder is replaced only when it is new, empty, or holds nothing but what
that marker lists for this tool. Anything else is refused in one line, before any work.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dlpipe.core.atomic import atomic_path
from dlpipe.core.errors import UserError

MARKER = ".dlpipe-output"
_SHOWN = 3  # the names of files a refusal lists


def _entries(folder: Path) -> set[str]:
    """Every file and folder under ``folder``, as paths relative to it, a folder's with a trailing ``/``
    (symbolic links are not followed)."""
    found = set()
    for root, dirs, files in os.walk(folder):
        relative = Path(root).relative_to(folder)
        found.update(f"{(relative / name).as_posix()}/" for name in dirs)
        found.update((relative / name).as_posix() for name in files)
    return found


def _marker(folder: Path) -> dict | None:
    try:
        content = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(content, dict) or not isinstance(content.get("tool"), str):
        return None
    if not isinstance(content.get("files"), list):
        return None
    return content


def _listed(names: set[str]) -> str:
    shown = sorted(names)[:_SHOWN]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def check_output_folder(out: Path, tool: str, unmarked: frozenset[str] = frozenset()) -> None:
    """Refuse ``out`` (a UserError: what, where, what to do) unless ``tool`` may replace it whole: a new
    or empty folder, or one that holds nothing but ``tool``'s earlier output. ``unmarked``: entries the
    tool has recognised as its own output from a version that wrote no marker."""
    fix = "choose a new or empty folder for --out"
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise UserError(f"--out {out} is a file, not a folder; {fix}")
    entries = _entries(out) if out.is_dir() else set()
    if not entries:
        return
    marker = _marker(out)
    if marker is None and entries <= unmarked:
        return
    if marker is None:
        raise UserError(
            f"--out {out} holds files {tool} did not write ({_listed(entries)}); {fix} (this folder is replaced whole)"
        )
    if marker.get("tool") != tool:
        raise UserError(f"--out {out} holds the output of {marker.get('tool')}, not of {tool}; {fix}")
    foreign = entries - {MARKER} - set(marker["files"])
    if foreign:
        raise UserError(
            f"--out {out} holds files {tool} did not write ({_listed(foreign)}) beside its earlier output; "
            f"move them, or {fix}"
        )


@contextmanager
def output_folder(out: Path, tool: str, unmarked: frozenset[str] = frozenset()) -> Iterator[Path]:
    """Yield a new empty folder to write ``tool``'s output in; on success it replaces ``out`` whole, with a
    marker listing what is in it. All or nothing; ``out`` is first checked with :func:`check_output_folder`."""
    check_output_folder(out, tool, unmarked)
    with atomic_path(out) as staged:
        staged.mkdir()
        yield staged
        marker = {"tool": tool, "files": sorted(_entries(staged))}
        (staged / MARKER).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")
