"""Generated blocks of README.md and docs/: the text between a begin and an end marker, rewritten by a tool.

Measured figures (results, benchmarks, the suite's time) come from commands, not from hand edits; each
command replaces only its own block and leaves the rest of the file as it was.
"""

from __future__ import annotations

from pathlib import Path

from dlpipe.core.atomic import atomic_path
from dlpipe.core.errors import UserError


def replace_block(text: str, begin: str, end: str, body: str, where: str = "README.md") -> str:
    """``text`` (the content of ``where``) with what stands between ``begin`` and ``end`` replaced by ``body``."""
    head, found_begin, rest = text.partition(begin)
    _, found_end, tail = rest.partition(end)
    if not found_begin or not found_end:
        raise UserError(f"{where} lacks the markers {begin!r} ... {end!r}; restore them from git")
    return f"{head}{begin}\n{body}\n{end}{tail}"


def refresh_file(path: Path, begin: str, end: str, body: str) -> None:
    """Replace the block between the markers in the file at ``path``, atomically."""
    text = replace_block(path.read_text(encoding="utf-8"), begin, end, body, where=str(path))
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
