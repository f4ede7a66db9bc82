"""Talking to `dvc` and `git` from the reporting commands: one way to run them, parse their JSON and
turn their failures into one line.

`dvc` runs as ``python -m dvc`` with the interpreter running us, so that the DVC of this environment
answers, not whatever is first on PATH.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from dlpipe.errors import UserError

WORKSPACE = "workspace"


def _last_error(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line.removeprefix("ERROR:").strip() for line in lines if line.startswith("ERROR:")]
    return (errors or lines or ["no message"])[-1]


def run_dvc(*args: str, cwd: Path = Path()) -> str:
    """Run ``dvc ARGS`` in ``cwd``; return its output, or raise UserError with DVC's own last error line."""
    proc = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise UserError(f"`dvc {' '.join(args)}` failed: {_last_error(proc.stderr or proc.stdout)}")
    return proc.stdout


def dvc_json(*args: str, cwd: Path = Path()) -> Any:
    """Run ``dvc ARGS --json`` and parse its answer. DVC prints a bare NaN for a NaN metric; ours are
    never NaN, but a hand-made file might be: it reads as None."""
    out = run_dvc(*args, "--json", cwd=cwd)
    try:
        return json.loads(out or "{}", parse_constant=lambda _: None)
    except json.JSONDecodeError as exc:
        raise UserError(f"`dvc {' '.join(args)} --json` printed no JSON ({exc})") from exc


def git(*args: str, cwd: Path = Path()) -> str:
    """Run ``git ARGS`` in ``cwd``; return its output, or raise UserError with git's message."""
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise UserError(f"`git {' '.join(args)}` failed: {_last_error(proc.stderr)}")
    return proc.stdout


def resolve(rev: str, cwd: Path = Path()) -> str:
    """The commit of ``rev``: a branch, tag or commit, or the name of a DVC experiment (its ref is
    ``refs/exps/<baseline>/<name>``)."""
    if not rev or rev.startswith("-"):
        raise UserError(f"{rev!r} is not a revision")
    proc = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=cwd, capture_output=True, text=True
    )
    if proc.returncode == 0:
        return proc.stdout.strip()
    refs = git("for-each-ref", "--format=%(refname) %(objectname)", "refs/exps", cwd=cwd).splitlines()
    found = [sha for ref, sha in (line.split() for line in refs) if ref.endswith(f"/{rev}")]
    if len(found) == 1:
        return found[0]
    if found:
        raise UserError(f"experiment name {rev} is ambiguous ({len(found)} experiments); use its commit instead")
    raise UserError(f"unknown revision or experiment {rev!r} (see `git log` and `dvc exp list`)")


def file_at(rev: str | None, path: str, cwd: Path = Path()) -> str | None:
    """The text of ``path`` in revision ``rev`` (None: the workspace), or None if it has no such file."""
    if rev is None:
        file = cwd / path
        return file.read_text(encoding="utf-8") if file.is_file() else None
    proc = subprocess.run(
        ["git", "show", f"{resolve(rev, cwd)}:{path}"], cwd=cwd, capture_output=True, text=True, check=False
    )
    return proc.stdout if proc.returncode == 0 else None
