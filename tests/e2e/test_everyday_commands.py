"""The README's everyday commands work exactly as written, in the shell its first command left, once the
project's environment is activated with the README's own line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.readme import activation_command, everyday_commands

pytestmark = pytest.mark.e2e


def test_the_readmes_everyday_commands_run_as_written_after_the_activation(built_clone):
    venv = Path(sys.prefix)
    if not (venv / "bin/activate").is_file():
        pytest.skip(f"{sys.prefix} is not a virtual environment with bin/activate, as the README's .venv is")
    clone = built_clone.path
    # The clone's .venv is the one these tests run in (as the README's commands leave it), ignored by git there.
    (clone / ".venv").symlink_to(venv, target_is_directory=True)
    with (clone / ".git/info/exclude").open("a") as exclude:
        exclude.write("/.venv\n")
    # The shell the first command left: the project's environment is not on PATH until activated.
    bin_dir = (venv / "bin").resolve()
    path = [p for p in built_clone.env["PATH"].split(os.pathsep) if p and Path(p).resolve() != bin_dir]
    env = {k: v for k, v in built_clone.env.items() if k != "VIRTUAL_ENV"} | {"PATH": os.pathsep.join(path)}
    activation = activation_command()

    for command in everyday_commands():
        proc = subprocess.run(
            ["bash", "-c", f"{activation} && {command}"],
            cwd=clone,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=600,
        )
        assert proc.returncode == 0, f"{command} exited {proc.returncode}:\n{proc.stdout}"

    # What the README's comments say they write.
    assert (clone / "review/report.md").is_file()
    assert (clone / "dvc_plots_offline/index.html").is_file()
    assert (clone / "dvc_plots_offline/dropout_loss.png").read_bytes().startswith(b"\x89PNG")


def test_without_the_activation_a_stage_says_how_to_run_it(built_clone, tmp_path):
    # `.venv/bin/dvc repro` without activating: DVC runs the stages with the first `python` on PATH, here one
    # without the project's packages. The stage's one line names the fix instead of a traceback.
    import venv as venv_module

    foreign = tmp_path / "foreign"
    venv_module.create(foreign, with_pip=False, symlinks=True)
    clone = built_clone.path
    env = {k: v for k, v in built_clone.env.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env["PATH"] = os.pathsep.join([str(foreign / "bin"), env["PATH"]])
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "dvc"), "repro", "--force", "check_params"],
        cwd=clone,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=600,
    )
    assert proc.returncode != 0
    assert (
        f"check_params: error: this Python ({foreign / 'bin/python'}) does not have the project's packages (no "
        "module named 'psutil'); activate the project's environment first: source .venv/bin/activate"
    ) in proc.stdout
    assert "Traceback" not in proc.stdout
