"""A stage run by a Python without the project's packages says how to run it, in one line, not a traceback;
a stage run by the project's Python runs the code of the checkout it belongs to.

DVC runs each stage's `cmd: python stages/<stage>.py` with the first `python` on PATH: without the project's
environment activated that is another Python, whose first import of `dlpipe` fails.
"""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STAGES = sorted((ROOT / "stages").glob("*.py"))


@pytest.fixture(scope="module")
def foreign_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `python` of a new, empty virtual environment: this interpreter's standard library, no packages."""
    folder = tmp_path_factory.mktemp("foreign") / "venv"
    venv.create(folder, with_pip=False, symlinks=os.name != "nt")
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run_foreign(python: Path, script: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    # As DVC runs it: from the repository root, the script's path relative to it.
    command = [str(python), script.relative_to(ROOT).as_posix()]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def activate_line(stage: str, python: Path, missing: str) -> str:
    return (
        f"{stage}: error: this Python ({python}) does not have the project's packages (no module named "
        f"{missing!r}); activate the project's environment first: source .venv/bin/activate\n"
    )


@pytest.mark.parametrize("script", STAGES, ids=lambda p: p.stem)
def test_a_stage_run_by_a_python_without_the_project_says_to_activate_it(foreign_python, script):
    proc = run_foreign(foreign_python, script)
    assert (proc.returncode, proc.stdout) == (1, ""), proc.stderr
    assert proc.stderr == activate_line(script.stem, foreign_python, "psutil")


@pytest.mark.parametrize("script", STAGES, ids=lambda p: p.stem)
def test_a_python_with_some_of_the_packages_gets_the_same_line(foreign_python, script, tmp_path):
    # A system Python or conda's base often has psutil (the stages' first import) but not the rest.
    import psutil

    (tmp_path / "psutil").symlink_to(Path(psutil.__file__).parent, target_is_directory=True)
    proc = run_foreign(foreign_python, script, pythonpath=tmp_path)
    assert (proc.returncode, proc.stdout) == (1, ""), proc.stderr
    assert proc.stderr.startswith(f"{script.stem}: error: this Python ({foreign_python}) does not have the project's")
    assert "this is a bug" not in proc.stderr and "psutil" not in proc.stderr


def test_the_projects_own_python_gets_past_the_guard(tmp_path):
    # The positive control: with the packages, the same script reaches its own checks (here: no params.yaml).
    import sys

    proc = subprocess.run(
        [sys.executable, str(ROOT / "stages/check_params.py")], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("check_params: error: ") and "does not have the project's packages" not in proc.stderr


def test_a_stage_runs_the_code_of_its_own_checkout_not_the_installed_one(tmp_path):
    # DVC runs stages in copies of the repository (`dvc exp run --queue`, a rebuilt revision's worktree),
    # while the editable install points at the checkout that installed it: the copy's code must run.
    import shutil
    import sys

    shutil.copytree(ROOT / "stages", tmp_path / "stages")
    shutil.copytree(ROOT / "src" / "dlpipe", tmp_path / "src" / "dlpipe")
    params = tmp_path / "src/dlpipe/core/params.py"
    params.write_text(
        params.read_text(encoding="utf-8")
        + "\n\ndef check_params_file(*args, **kwargs):\n    raise UserError('the copy ran its own code')\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "stages/check_params.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert (proc.returncode, proc.stderr) == (1, "check_params: error: the copy ran its own code\n")
