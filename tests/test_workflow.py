"""The pull-request workflow is valid GitHub Actions and runs only commands this repository tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github/workflows/pr-review.yml"


def test_workflow_matches_github_actions_schema():
    # check-jsonschema ships SchemaStore's GitHub workflow schema, so this runs offline.
    proc = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_schema_check_catches_a_broken_workflow(tmp_path):
    broken = yaml.safe_load(WORKFLOW.read_text())
    broken["jobs"]["review"]["steps"][0]["with"] = "not a mapping"
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    proc = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0


@pytest.mark.skipif(shutil.which("actionlint") is None, reason="actionlint binary not on PATH")
def test_actionlint_is_clean():
    proc = subprocess.run(["actionlint", str(WORKFLOW)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


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
