"""`dvc repro <stage>` in a fresh clone runs what that stage needs upstream, and nothing else."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e

UPSTREAM = {
    "fetch": {"fetch"},
    "group_split": {"fetch", "group_split"},
    "preprocess": {"fetch", "group_split", "preprocess"},
    "train_dropout": {"fetch", "group_split", "preprocess", "train_dropout"},
    "train_batchnorm": {"fetch", "group_split", "preprocess", "train_batchnorm"},
    "summarize": {"fetch", "group_split", "preprocess", "train_dropout", "train_batchnorm", "summarize"},
}


@pytest.mark.parametrize("stage", list(UPSTREAM))
def test_one_stage_reproduces_on_its_own_from_a_fresh_clone(clone, stage):
    out = clone.dvc("repro", stage).stdout
    assert set(re.findall(r"Running stage '([^']+)'", out)) == UPSTREAM[stage], out
    assert "Traceback" not in out
    status = clone.dvc("status", stage).stdout
    assert "Data and pipelines are up to date" in status, status
