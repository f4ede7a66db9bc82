"""Talking to `dvc` and `git` from the sweep and reporting commands: one way to run them, parse their JSON
and turn their failures into one line; params.yaml of any revision. No stage imports it.

`dvc` runs as ``python -m dvc`` with the interpreter running us, so that the DVC of this environment
answers, not whatever is first on PATH.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from dlpipe.core.errors import UserError
from dlpipe.core.params import parse_yaml

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


def stream_dvc(*args: str, cwd: Path = Path(), to: TextIO | None = None, env: dict[str, str] | None = None) -> str:
    """Run ``dvc ARGS`` in ``cwd`` (in ``env``, default this process's) showing its output as it comes on ``to``
    (default: stdout; a long run in a CI log shows its progress); return that output, or raise UserError with
    DVC's own last error line."""
    to = to or sys.stdout
    proc = subprocess.Popen(
        [sys.executable, "-m", "dvc", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            to.write(line)
            to.flush()
            lines.append(line)
        returncode = proc.wait()
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM through run_cli): do not leave dvc running on its own.
        proc.terminate()
        proc.wait()
        raise
    output = "".join(lines)
    if returncode != 0:
        raise UserError(f"`dvc {' '.join(args)}` failed: {_last_error(output)}")
    return output


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


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """A nested mapping as dotted keys to leaves (a list is a leaf): ``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    if not isinstance(tree, Mapping):
        return {prefix: tree}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def params_at(rev: str | None, cwd: Path = Path()) -> dict[str, Any]:
    """params.yaml of ``rev`` (None: the workspace), flat, with its own types (lists stay lists)."""
    text = file_at(rev, "params.yaml", cwd)
    document = parse_yaml(text, f"params.yaml of {rev or WORKSPACE}") if text else None
    return flatten(document) if isinstance(document, Mapping) else {}


def param_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """(param, old, new) for every param that differs, sorted by name."""
    return [(k, old.get(k), new.get(k)) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]


def experiment_refs(remote: str | None = None, cwd: Path = Path()) -> dict[str, str]:
    """Name -> commit of the DVC experiments based on HEAD's commit, in the git remote ``remote``
    (a name or URL; None: this clone). DVC keeps them as ``refs/exps/<baseline[:2]>/<baseline[2:]>/<name>``."""
    head = git("rev-parse", "HEAD", cwd=cwd).strip()
    prefix = f"refs/exps/{head[:2]}/{head[2:]}/"
    if remote is None:
        out = git("for-each-ref", "--format=%(objectname) %(refname)", prefix, cwd=cwd)
    else:
        out = git("ls-remote", remote, f"{prefix}*", cwd=cwd)
    rows = (line.split() for line in out.splitlines() if line.strip())
    return {ref.removeprefix(prefix): sha for sha, ref in rows if ref.startswith(prefix)}
