"""The sweep workflow is valid GitHub Actions and runs the tested worker and collector the way they are tested."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from dlpipe.report import sweep_grid

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github/workflows/sweep.yml"


def _flow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


# Its schema and actionlint checks are tests/test_workflow.py's, run on every workflow.


def test_started_by_hand_with_a_grid_and_seeds_whose_defaults_expand():
    flow = _flow()
    inputs = flow.get("on", flow.get(True))["workflow_dispatch"]["inputs"]  # YAML 1.1 reads a bare `on` as True
    assert {"sweep", "grid", "seeds"} <= set(inputs)
    points = sweep_grid.expand(inputs["grid"]["default"], inputs["seeds"]["default"])
    assert len(points) == 6 and points[0] == ["dropout=0.0", "seeds=[0,1,2]"]
    sweep_grid.check_sweep_name(inputs["sweep"]["default"])
    # Inputs reach the scripts through the environment only (no template pasted into a shell script).
    assert "${{" not in "\n".join(_runs(job) for job in flow["jobs"].values())
    assert flow["env"]["GRID"] == "${{ inputs.grid }}" and flow["env"]["SEEDS"] == "${{ inputs.seeds }}"


def test_one_job_per_point_then_a_collector_that_runs_even_when_points_failed():
    jobs = _flow()["jobs"]
    assert 'matrix=$(python -m dlpipe.report.sweep_grid --grid "$GRID" --seeds "$SEEDS")\n' in _runs(jobs["points"])
    assert jobs["points"]["outputs"]["matrix"] == "${{ steps.grid.outputs.matrix }}"
    point = jobs["point"]
    assert point["strategy"]["fail-fast"] is False
    assert point["strategy"]["matrix"] == "${{ fromJSON(needs.points.outputs.matrix) }}"
    runs = _runs(point)
    assert (
        'python -m dlpipe.report.sweep_worker --sweep "$SWEEP" --grid "$GRID" --seeds "$SEEDS" --index "$INDEX"' in runs
    )
    assert point["steps"][-1]["env"]["INDEX"] == "${{ matrix.index }}"
    assert "git config --global user.name" in runs and "x-access-token:${GITHUB_TOKEN}" in runs
    secrets = json.dumps(point["steps"])
    for name in ("DVC_SSH_KEY", "DVC_SSH_KNOWN_HOSTS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert f"${{{{ secrets.{name} }}}}" in secrets
    collect = jobs["collect"]
    assert collect["needs"] == ["points", "point"] and "always()" in collect["if"]
    runs = _runs(collect)
    assert 'python -m dlpipe.report.sweep_collect --sweep "$SWEEP" --grid "$GRID" --seeds "$SEEDS" --out review' in runs
    assert '>> "$GITHUB_STEP_SUMMARY"' in runs
    upload = collect["steps"][-1]
    assert upload["uses"].startswith("actions/upload-artifact") and upload["with"]["path"] == "review/"
    for job in jobs.values():
        assert "pip install -r requirements.lock" in _runs(job)


def test_the_matrix_the_first_job_writes_is_what_github_expects():
    proc = subprocess.run(
        [sys.executable, "-m", "dlpipe.report.sweep_grid", "--grid", "dropout=0.0,0.5", "--seeds", "0,1"],
        capture_output=True,
        text=True,
        check=True,
    )
    line = proc.stdout.removesuffix("\n")
    assert "\n" not in line  # one line: `echo "matrix=..." >> $GITHUB_OUTPUT`
    assert json.loads(line) == {
        "include": [{"index": 0, "point": "dropout=0.0 seeds=[0,1]"}, {"index": 1, "point": "dropout=0.5 seeds=[0,1]"}]
    }
