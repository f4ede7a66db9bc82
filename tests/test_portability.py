"""Nothing in the project names the folders of the machines it is developed on: docs, tests, messages and
defaults speak of "a folder holding the two files" (FETCH_MIRROR). Only CI's own script may default to its
machine's copy of the tables."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# A developer machine's folders and words, wherever a line break falls in the words, and the folder built
# with pathlib's `/`.
MACHINE_NAMES = re.compile(
    r"\.\./shared\b|/" + "work" + r"/shared\b|this\s+workplace|[\"']shared[\"']\s*/\s*[\"']data[\"']", re.IGNORECASE
)
# CI's script may default FETCH_MIRROR to its machine's copy; lock files are generated; this file names
# what it looks for.
ALLOWED = (".ci/run", "tests/test_portability.py")


def files_naming_machines(root: Path) -> list[str]:
    """The files git tracks under ``root`` (but ``ALLOWED`` and lock files) that name a development machine's
    folders, each as ``path:line: text``."""
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    found = []
    for name in filter(None, tracked):
        path = root / name
        if name in ALLOWED or name.endswith(".lock") or not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data:  # binary: a picture, a model
            continue
        text = data.decode("utf-8", errors="replace")
        for match in MACHINE_NAMES.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{name}:{line}: {match.group()}")
    return found


@pytest.fixture
def in_git() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (git ls-files lists what is checked)")


def test_no_tracked_file_names_a_development_machine(in_git):
    assert files_naming_machines(ROOT) == []


def test_the_check_finds_each_name_in_a_tracked_file(tmp_path, in_git):
    # The names are put together here, so that this file does not name them either.
    up, work, place = "/".join(["..", "shared"]), "/".join(["", "work", "shared"]), " ".join(["this", "workplace"])
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    readme = f"Offline: point FETCH_MIRROR at\n{up}/data, as in {place.replace(' ', chr(10))}.\n"
    (tmp_path / "README.md").write_text(readme)
    (tmp_path / "run.py").write_text(f'MIRROR = "{work}/data"\nOTHER = ROOT.parent / "shared" / "data"\n')
    (tmp_path / "clean.py").write_text('MIRROR = os.environ["FETCH_MIRROR"]  # a folder holding the two files\n')
    (tmp_path / "uv.lock").write_text(f"{up}\n")
    (tmp_path / "untracked.md").write_text(f"{up}\n")
    subprocess.run(["git", "add", "README.md", "run.py", "clean.py", "uv.lock"], cwd=tmp_path, check=True)
    assert files_naming_machines(tmp_path) == [
        f"README.md:2: {up}",
        f"README.md:2: {place.replace(' ', chr(10))}",
        f"run.py:1: {work}",
        'run.py:2: "shared" / "data"',
    ]
