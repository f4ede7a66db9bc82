"""The bad-input table under the real `dvc repro`: each case ends in one line (ours, or DVC's own when
DVC stops first), a non-zero exit and no half-written output; once the cause is fixed, the next
normal `dvc repro` succeeds and gives the same results.

tests/test_bad_inputs.py has the same cases (and many more) without DVC, one line each.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
import yaml

from tests.e2e.test_faults import leftovers

pytestmark = pytest.mark.e2e
QUIET = "DLPIPE_PROGRESS=quiet is not a progress mode; set it to one of auto, bar, lines, off, or unset it"


@cache
def private_mounts() -> bool:
    """Whether this process may mount file systems in a private mount namespace (root with
    CAP_SYS_ADMIN, as in CI's container): a real tiny tmpfs, a real read-only folder."""
    with tempfile.TemporaryDirectory() as folder:
        probe = subprocess.run(
            ["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size=4k tmpfs {folder}"], capture_output=True
        )
    return probe.returncode == 0


@dataclass
class Case:
    """One bad input: how to break the clone, the command that meets it, the line the user sees."""

    name: str
    expected: str  # the whole error line, or its start when it ends in a temporary or random name
    command: tuple[str, ...] = ("repro",)
    env: dict[str, str] = field(default_factory=dict)
    breaks: Callable | None = None  # (clone) -> None
    mounts: str = ""  # shell commands run in a private mount namespace before dvc
    fix: Callable | None = None  # (clone) -> None, after which a plain `dvc repro` must succeed
    trains: bool = True  # False: the line must come before any training (no epoch shown)

    def __str__(self) -> str:
        return self.name


def write(rel: str, content: bytes) -> Callable:
    def edit(clone) -> None:
        (clone.path / rel).write_bytes(content)

    return edit


def git_restore(*paths: str) -> Callable:
    def fix(clone) -> None:
        clone.run("git", "checkout", "--", *paths)

    return fix


def utf16_concrete(clone) -> None:
    path = Path(clone.env["FETCH_MIRROR"]) / "concrete.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))


def utf8_concrete(clone) -> None:
    path = Path(clone.env["FETCH_MIRROR"]) / "concrete.csv"
    path.write_text(path.read_bytes().decode("utf-16"), encoding="utf-8")


def no_processed_data(clone) -> None:
    # Nothing for DVC to delete: the stage itself meets the read-only folder.
    subprocess.run(["rm", "-rf", str(clone.path / "data/processed")], check=True)
    if not private_mounts():
        (clone.path / "data").chmod(0o555)


def writable_data(clone) -> None:
    (clone.path / "data").chmod(0o755)


def no_plots_of_train_dropout(clone) -> None:
    # Nothing for DVC to delete: the stage itself meets the read-only folder.
    for path in (clone.path / "plots/train_dropout").iterdir():
        path.unlink()
    if not private_mounts():
        (clone.path / "plots/train_dropout").chmod(0o555)


def writable_plots_of_train_dropout(clone) -> None:
    (clone.path / "plots/train_dropout").chmod(0o755)


def damaged_arrays(clone) -> None:
    path = clone.path / "data/processed/spotify.npz"
    data = path.read_bytes()
    path.chmod(0o644)
    path.write_bytes(data[: len(data) // 2])


def set_param(section: str, key: str, value) -> Callable:
    def edit(clone) -> None:
        params = clone.params()
        params[section][key] = value
        clone.write_params(params)

    return edit


def csv_under_an_excel_name(clone) -> None:
    mirror = Path(clone.env["FETCH_MIRROR"])
    (mirror / "Concrete_Data.xls").write_bytes((mirror / "concrete.csv").read_bytes())
    sources = yaml.safe_load((clone.path / "sources.yaml").read_text())
    sources["concrete"]["url"] = "https://example.org/uci/Concrete_Data.xls"
    (clone.path / "sources.yaml").write_text(yaml.safe_dump(sources, sort_keys=False))


MIRROR = "{mirror}"  # replaced by the clone's FETCH_MIRROR
CASES = [
    Case(
        "params.yaml is a list",
        "ERROR: failed to parse 'vars' in 'dvc.yaml': expected a dictionary, got 'list' in file 'params.yaml'",
        breaks=write("params.yaml", b"- 0.3\n- 0.5\n"),
        fix=git_restore("params.yaml"),
    ),
    Case(
        "params.yaml is empty",
        # DVC's own line: the top-level plots take their axis title from the params (dvc.yaml's ${...}).
        "ERROR: failed to parse 'plots.0' in 'dvc.yaml': Could not find 'train_dropout.loss'",
        breaks=write("params.yaml", b""),
        fix=git_restore("params.yaml"),
    ),
    Case(
        "sources.yaml is not a mapping",
        "fetch: error: invalid sources.yaml: the file is a str, not a mapping of keys to values",
        breaks=write("sources.yaml", b"just text\n"),
        fix=git_restore("sources.yaml"),
    ),
    Case(
        "a non-UTF-8 CSV",
        f"fetch: error: {MIRROR}/concrete.csv: not a readable table ('utf-8' codec can't decode byte 0xff",
        command=("repro", "--force", "--single-item", "fetch"),
        breaks=utf16_concrete,
        fix=utf8_concrete,
    ),
    Case(
        "a CSV under an Excel name",
        f"fetch: error: {MIRROR}/Concrete_Data.xls: not a readable Excel workbook (Cannot detect file format); "
        "fetch it again",
        command=("repro", "--force", "--single-item", "fetch"),
        breaks=csv_under_an_excel_name,
        fix=git_restore("sources.yaml"),
    ),
    Case(
        "FETCH_MIRROR is a file",
        f"fetch: error: FETCH_MIRROR={MIRROR}/concrete.csv is not a folder; "
        "point it at the folder holding the raw files",
        command=("repro", "--force", "--single-item", "fetch"),
        env={"FETCH_MIRROR": f"{MIRROR}/concrete.csv"},
    ),
    Case(
        "a train size that leaves no artist to train on",
        "group_split: error: group_split.spotify_train_size: 0.0001 of this table's 60 track_artist values is less "
        "than one, so the training part would be empty; use a value from 1/60 (≈0.0167) to below 1",
        command=("repro", "--single-item", "group_split"),
        breaks=set_param("group_split", "spotify_train_size", 0.0001),
        fix=git_restore("params.yaml"),
    ),
    Case(
        "DLPIPE_PROGRESS unknown",
        f"fetch: error: {QUIET}",
        command=("repro", "--force", "--single-item", "fetch"),
        env={"DLPIPE_PROGRESS": "quiet"},
    ),
    Case(
        "DLPIPE_PROGRESS unknown in a training stage",
        f"train_batchnorm: error: {QUIET}",
        command=("repro", "--force", "--single-item", "train_batchnorm"),
        env={"DLPIPE_PROGRESS": "quiet"},
    ),
    Case(
        "a read-only data/ folder",
        "preprocess: error: "
        + (
            "Read-only file system: data/processed; make that folder writable"
            if private_mounts()
            else "Permission denied: data/processed"
        ),
        command=("repro", "--force", "--single-item", "preprocess"),
        breaks=no_processed_data,
        mounts="mount --bind data data && mount -o remount,bind,ro data",
        fix=writable_data,
    ),
    Case(
        "a full disk (a 64 KiB tmpfs for data/models)",
        "train_dropout: error: No space left on device: data/models/train_dropout/",
        command=("repro", "--force", "--single-item", "train_dropout"),
        mounts="mount -t tmpfs -o size=64k tmpfs data/models",
    ),
    Case(
        "a read-only plots/train_dropout, found before training",
        "train_dropout: error: "
        + (
            "Read-only file system: plots/train_dropout; make that folder writable"
            if private_mounts()
            else "Permission denied: plots/train_dropout"
        ),
        command=("repro", "--force", "--single-item", "train_dropout"),
        breaks=no_plots_of_train_dropout,
        mounts="mount --bind plots/train_dropout plots/train_dropout && mount -o remount,bind,ro plots/train_dropout",
        fix=writable_plots_of_train_dropout,
        trains=False,
    ),
    Case(
        "a disk already full (a filled 64 KiB tmpfs for data/models), found before training",
        "train_dropout: error: No space left on device: data/models; free some disk space, then run again",
        command=("repro", "--force", "--single-item", "train_dropout"),
        mounts="mount -t tmpfs -o size=64k tmpfs data/models && "
        "{ head -c 1M /dev/zero > data/models/filler 2>/dev/null; true; }",
        trains=False,
    ),
    Case(
        "a damaged .npz in the work tree",
        "train_dropout: error: data/processed/spotify.npz is damaged (BadZipFile: ",
        command=("repro", "--single-item", "train_dropout"),
        breaks=damaged_arrays,
    ),
]


# Run inside the private mount namespace after dvc, while its mounts still exist.
LEFTOVER_PROBE = "find data plots metrics -name '.*.tmp' -exec echo 'LEFTOVER: {}' ';'"


def dvc(clone, case: Case) -> subprocess.CompletedProcess[str]:
    mirror = clone.env["FETCH_MIRROR"]
    env = {**clone.env, **{k: v.replace(MIRROR, mirror) for k, v in case.env.items()}}
    cmd = [sys.executable, "-m", "dvc", *case.command]
    if case.mounts and private_mounts():
        script = f'{case.mounts} || exit 99; "$@"; rc=$?; {LEFTOVER_PROBE}; exit $rc'
        cmd = ["unshare", "-m", "sh", "-c", script, "sh", *cmd]
    return subprocess.run(cmd, cwd=clone.path, env=env, capture_output=True, text=True, timeout=600)


def tree(root: Path) -> dict[str, str]:
    """Every output file DVC or git tracks, by its hash (a missing output is simply absent)."""
    folders = ("data", "plots", "metrics")
    return {
        str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest()
        for d in folders
        for p in sorted((root / d).rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_bad_input_ends_in_one_line_and_the_next_repro_succeeds(built_clone, case):
    if case.mounts and not private_mounts() and ("tmpfs" in case.mounts or os.geteuid() == 0):
        pytest.skip("needs a private mount namespace (root with CAP_SYS_ADMIN) for this file system")
    clone = built_clone
    summary = clone.summary()
    if case.breaks:
        case.breaks(clone)
    before = tree(clone.path)
    try:
        proc = dvc(clone, case)
    finally:
        if case.fix:
            case.fix(clone)
    output = proc.stdout + proc.stderr
    expected = case.expected.replace(MIRROR, clone.env["FETCH_MIRROR"])

    assert proc.returncode != 0, output
    assert "Traceback" not in output
    ours = [line for line in output.splitlines() if ": error: " in line and not line.startswith("ERROR")]
    shown = ours or [line for line in output.splitlines() if line.startswith("ERROR")]
    assert len(shown) == 1 and shown[0].startswith(expected), output
    if not case.trains:
        assert "] epoch " not in output, output
    # Nothing half-written: every output is the old one or gone (DVC removes a stage's outputs
    # before running it), and no temporary file is left.
    after = tree(clone.path)
    assert {rel: h for rel, h in after.items() if rel in before} == {rel: before[rel] for rel in after if rel in before}
    assert set(after) <= set(before), output
    assert leftovers(clone.path) == [] and "LEFTOVER" not in output

    clone.dvc("repro")
    assert "Data and pipelines are up to date" in clone.dvc("status").stdout
    assert clone.summary() == summary
    assert clone.run("git", "status", "--porcelain").stdout == ""


def cache_object(clone, out: str, name: str) -> Path:
    """The file in DVC's cache holding ``name`` of the folder output ``out``."""
    lock = (clone.path / "dvc.lock").read_text()
    listing = next(
        line.split("md5: ")[1] for line in lock.split(f"path: {out}\n", 1)[1].splitlines() if "md5: " in line
    )
    cache = clone.path / ".dvc/cache/files/md5"
    entries = json.loads((cache / listing[:2] / listing[2:]).read_text())
    md5 = next(e["md5"] for e in entries if e["relpath"] == name)
    return cache / md5[:2] / md5[2:]


def test_a_corrupted_object_in_dvcs_cache_is_refused_by_dvc_and_rebuilt_by_repro(built_clone):
    # DVC handles this itself: it checks the object, refuses to check it out, and `dvc repro`
    # rebuilds the output and repairs the object. Nothing of ours runs on the damaged bytes.
    clone = built_clone
    summary = clone.summary()
    obj = cache_object(clone, "data/processed", "spotify.npz")
    data = obj.read_bytes()
    obj.chmod(0o644)
    obj.write_bytes(b"x" * 200 + data[200:])  # same size, other bytes
    (clone.path / "data/processed/spotify.npz").unlink()

    assert "not in cache:       data/processed" in clone.dvc("status").stdout
    checkout = clone.dvc("checkout", check=False)
    assert checkout.returncode != 0 and "Traceback" not in checkout.stdout
    assert "ERROR: Checkout failed for following targets:\ndata/processed\nIs your cache up to date?" in checkout.stdout
    assert not (clone.path / "data/processed/spotify.npz").exists()  # the damaged bytes never reach a stage

    assert "Running stage 'preprocess'" in clone.dvc("repro").stdout
    assert hashlib.md5(obj.read_bytes()).hexdigest() == obj.parent.name + obj.name  # repaired
    assert "Data and pipelines are up to date" in clone.dvc("status").stdout
    assert clone.summary() == summary
