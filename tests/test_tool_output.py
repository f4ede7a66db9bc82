"""A tool's --out folder is replaced whole, so only a new or empty folder, or the tool's own earlier output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlpipe.core.errors import UserError
from dlpipe.core.tool_output import MARKER, output_folder

FIX = "choose a new or empty folder for --out"


def contents(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def users_folder(folder: Path) -> dict[str, str]:
    (folder / "sub").mkdir(parents=True)
    (folder / "keep.txt").write_text("the user's")
    (folder / "sub" / "notes.md").write_text("the user's notes")
    return contents(folder)


def write(out: Path, tool: str, **files: str) -> None:
    with output_folder(out, tool) as staged:
        for name, text in files.items():
            (staged / name).write_text(text)


def test_a_new_folder_gets_the_output_and_a_marker_naming_the_tool(tmp_path):
    write(tmp_path / "review", "review", **{"report.md": "# report"})
    assert sorted(contents(tmp_path / "review")) == [MARKER, "report.md"]
    assert '"tool": "review"' in (tmp_path / "review" / MARKER).read_text()


def test_the_tools_own_earlier_output_is_replaced_whole(tmp_path):
    out = tmp_path / "review"
    write(out, "review", **{"report.md": "old", "old-figure.png": "old"})
    write(out, "review", **{"report.md": "new"})
    assert contents(out)["report.md"] == "new" and "old-figure.png" not in contents(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["review"]


def test_an_empty_folder_is_used(tmp_path):
    (tmp_path / "review").mkdir()
    write(tmp_path / "review", "review", **{"report.md": "new"})
    assert contents(tmp_path / "review")["report.md"] == "new"


def refused(out: Path, tool: str = "review") -> str:
    with pytest.raises(UserError) as info:
        write(out, tool, **{"report.md": "new"})
    assert "\n" not in str(info.value)
    return str(info.value)


def test_a_users_folder_is_refused_and_left_intact(tmp_path):
    out = tmp_path / "review"
    before = users_folder(out)
    message = refused(out)
    assert message == f"--out {out} holds files review did not write (keep.txt, sub/, sub/notes.md); {FIX} " + (
        "(this folder is replaced whole)"
    )
    assert contents(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["review"]  # no temporary folder left


def test_a_users_file_put_in_the_tools_output_is_refused(tmp_path):
    out = tmp_path / "review"
    write(out, "review", **{"report.md": "old"})
    (out / "my-notes.md").write_text("the user's")
    assert refused(out) == (
        f"--out {out} holds files review did not write (my-notes.md) beside its earlier output; move them, or {FIX}"
    )
    assert contents(out)["my-notes.md"] == "the user's" and contents(out)["report.md"] == "old"


def test_another_tools_output_is_refused(tmp_path):
    out = tmp_path / "review"
    write(out, "sweep_collect", **{"report.md": "the sweep's"})
    assert refused(out) == f"--out {out} holds the output of sweep_collect, not of review; {FIX}"
    assert contents(out)["report.md"] == "the sweep's"


@pytest.mark.parametrize("kind", ["file", "symlink"])
def test_a_file_is_refused_naming_the_users_path(tmp_path, kind):
    out = tmp_path / "review"
    if kind == "file":
        out.write_text("the user's")
    else:
        (tmp_path / "elsewhere").mkdir()
        out.symlink_to(tmp_path / "elsewhere")
    assert refused(out) == f"--out {out} is a file, not a folder; {FIX}"
    assert out.read_text() == "the user's" if kind == "file" else out.is_symlink()


ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {
    "review": ["-m", "dlpipe.report.review", "--old", "HEAD"],
    "sweep_collect": ["-m", "dlpipe.sweep.collect", "--sweep", "s", "--param", "dropout"],
}


@pytest.mark.parametrize("tool", COMMANDS)
@pytest.mark.parametrize("kind", ["folder", "file"])
def test_the_tools_refuse_a_users_out_in_one_line_before_any_work(tmp_path, tool, kind):
    # Not even a git repository: the refusal comes first.
    out = tmp_path / "mine"
    if kind == "folder":
        before = users_folder(out)
    else:
        out.write_text("the user's")
    env = {k: v for k, v in os.environ.items() if k != "DLPIPE_DEBUG"}
    proc = subprocess.run(
        [sys.executable, *COMMANDS[tool], "--out", "mine"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 1 and proc.stdout == ""
    what = "holds files" if kind == "folder" else "is a file, not a folder"
    assert proc.stderr.startswith(f"{tool}: error: --out mine {what}") and proc.stderr.count("\n") == 1
    assert ".tmp" not in proc.stderr
    if kind == "folder":
        assert contents(out) == before
    else:
        assert out.read_text() == "the user's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_the_tools_own_subfolders_are_its_output_but_a_users_file_in_one_is_not(tmp_path):
    out = tmp_path / "review"
    with output_folder(out, "review") as staged:
        (staged / "figures").mkdir()
        (staged / "figures" / "a.png").write_text("old")
    with output_folder(out, "review") as staged:  # its own folder, subfolder included
        (staged / "report.md").write_text("new")
    assert sorted(contents(out)) == [MARKER, "report.md"]
    with output_folder(out, "review") as staged:
        (staged / "figures").mkdir()
    (out / "figures" / "mine.md").write_text("the user's")
    assert "holds files review did not write (figures/mine.md) beside its earlier output" in refused(out)
