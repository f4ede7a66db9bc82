"""`dvc repro <stage>` in a fresh clone runs what that stage needs upstream, and nothing else; two fresh
clones build the same dvc.lock."""

from __future__ import annotations

import re

import pytest

from dlpipe.core.registry import DATA_STAGES, STAGES, SUMMARY_STAGE, TRAINING_STAGES

pytestmark = pytest.mark.e2e

# What `dvc repro <stage>` must run: the stage and everything upstream of it, in dvc.yaml's order.
UPSTREAM = {
    "fetch": {"fetch"},
    "group_split": {"fetch", "group_split"},
    "preprocess": set(DATA_STAGES),
    **{t.stage: {*DATA_STAGES, t.stage} for t in TRAINING_STAGES},
    SUMMARY_STAGE: set(STAGES),
}


@pytest.mark.parametrize("stage", list(UPSTREAM))
def test_one_stage_reproduces_on_its_own_from_a_fresh_clone(clone, stage, request):
    out = clone.dvc("repro", stage).stdout
    assert set(re.findall(r"Running stage '([^']+)'", out)) == UPSTREAM[stage], out
    assert "Traceback" not in out
    status = clone.dvc("status", stage).stdout
    assert "Data and pipelines are up to date" in status, status
    if stage == SUMMARY_STAGE:
        # A whole build in a second fresh clone: the same dvc.lock, byte for byte, as the session's own.
        built = request.getfixturevalue("built_template")
        assert (clone.path / "dvc.lock").read_text() == (built.path / "dvc.lock").read_text()
