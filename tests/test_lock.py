"""uv.lock is up to date with pyproject.toml, and requirements.lock is exactly its export for pip.

All offline: uv reads only the two files (and an empty cache of its own), never the network.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UV_PIN = ROOT / "tools/uv/requirements.txt"
# The command in requirements.lock's header: uv writes it there, so the file says how it is regenerated.
EXPORT = ["export", "--frozen", "--no-hashes", "--all-extras"]


def find_uv() -> str:
    """The uv that runs these tests: `uv run` (the README's test command, CI) says where it is in $UV."""
    for candidate in (os.environ.get("UV"), ROOT / ".venv-uv/bin/uv", shutil.which("uv")):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    pytest.skip("uv not found (not run through `uv run`, no .venv-uv/bin/uv, none on PATH): see the README")


def run_uv(args: list[str], cwd: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    # Environment, not flags: flags given to `uv export` would be written into requirements.lock's header.
    env = {
        **os.environ,
        "UV_OFFLINE": "1",
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_CONFIG": "1",  # a user's uv.toml must not change the answer
        "UV_CACHE_DIR": str(cache),  # empty: nothing may come from an earlier download either
    }
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run([find_uv(), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """pyproject.toml and uv.lock alone in a temporary folder (uv writes nothing into the repository)."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy2(ROOT / name, copy / name)
    return copy


def test_requirements_lock_is_the_export_of_uv_lock(project_copy, tmp_path):
    proc = run_uv([*EXPORT, "-o", "requirements.lock"], project_copy, tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    exported = (project_copy / "requirements.lock").read_text()
    assert f"uv {' '.join(EXPORT)} -o requirements.lock" in exported.splitlines()[1]
    assert (ROOT / "requirements.lock").read_text() == exported, (
        "requirements.lock is not the export of uv.lock; regenerate it with the command in its header"
    )


def test_requirements_lock_pins_every_package_for_pip():
    lines = (ROOT / "requirements.lock").read_text().splitlines()
    assert "-e ." in lines
    assert not any("--hash" in line for line in lines)  # pip refuses `-e .` in hash-checking mode
    pins = [line for line in lines if re.match(r"^[A-Za-z0-9]", line)]
    assert len(pins) > 100 and all("==" in line for line in pins), [p for p in pins if "==" not in p]
    assert "dvclive" not in " ".join(pins)  # declared once, imported nowhere: removed


def test_uv_lock_is_up_to_date_with_pyproject(project_copy, tmp_path):
    proc = run_uv(["lock", "--check", "--python", sys.executable], project_copy, tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr


def test_lock_check_sees_a_changed_pyproject(project_copy, tmp_path):
    pyproject = project_copy / "pyproject.toml"
    text = pyproject.read_text()
    assert '"dvc>=3.60,<4",' in text
    pyproject.write_text(text.replace('"dvc>=3.60,<4",', '"dvc>=3.68,<4",'))
    proc = run_uv(["lock", "--check", "--python", sys.executable], project_copy, tmp_path / "cache")
    # Offline, with the lock no longer matching, uv has to resolve and cannot: either way it refuses.
    assert proc.returncode != 0
    assert "dvc>=3.68" in proc.stderr


def test_tests_run_with_the_pinned_uv():
    pins = re.findall(r"^uv==(\S+)$", UV_PIN.read_text(), flags=re.MULTILINE)
    assert len(pins) == 1, f"{UV_PIN} must pin uv exactly once"
    proc = subprocess.run([find_uv(), "--version"], capture_output=True, text=True, check=True)
    assert proc.stdout.split()[:2] == ["uv", pins[0]], f"{proc.stdout.strip()}, but {UV_PIN} pins {pins[0]}"


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="the C parser is built for CPython only")
def test_dvc_reads_its_yaml_files_with_the_c_parser():
    # ruamel.yaml (DVC's YAML library) falls back silently to its pure-Python parser, about four times
    # slower on dvc.lock, when ruamel.yaml.clib is missing: pyproject.toml declares it for that reason.
    from dvc.utils.serialize import parse_yaml
    from ruamel.yaml import YAML, main

    assert main.CParser is not None
    assert YAML(typ="safe").Parser is main.CParser
    lock = parse_yaml((ROOT / "dvc.lock").read_text(), "dvc.lock")
    assert set(lock["stages"]) >= {"fetch", "summarize"}
