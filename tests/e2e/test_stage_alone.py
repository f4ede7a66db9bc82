"""`dvc repro <stage>` in a fresh clone runs what that stage needs upstream, and nothing else.

The sink, `summarize`, is not repeated here: it is the graph's only sink but the params check, which
has no edge (tests/test_graph.py), so its upstream is every other stage, and the session's built
template is exactly that, a fresh clone's full build
(tests/e2e/test_pipeline.py checks that it ran every stage, left nothing to do, and that rebuilding it
gives the same bytes, dvc.lock included).
"""

from __future__ import annotations

import re

import pytest

from dlpipe.core.registry import (
    DATA_STAGES,
    PARAMS_CHECK_STAGE,
    SUMMARY_STAGE,
    TRAINING_STAGES,
    VERSIONS_STAGE,
)
from tests.helpers.stages import STAGES

pytestmark = pytest.mark.e2e

# What `dvc repro <stage>` must run: the stage and everything upstream of it, in dvc.yaml's order.
V = VERSIONS_STAGE
UPSTREAM = {
    PARAMS_CHECK_STAGE: {PARAMS_CHECK_STAGE},
    V: {V},
    "fetch": {V, "fetch"},
    "group_split": {V, "fetch", "group_split"},
    "preprocess": {V, *DATA_STAGES},
    **{t.stage: {V, *DATA_STAGES, t.stage} for t in TRAINING_STAGES},
}


def test_every_stage_but_the_sink_is_reproduced_alone():
    assert set(UPSTREAM) == set(STAGES) - {SUMMARY_STAGE}


@pytest.mark.parametrize("stage", list(UPSTREAM))
def test_one_stage_reproduces_on_its_own_from_a_fresh_clone(clone, stage):
    out = clone.dvc("repro", stage).stdout
    assert set(re.findall(r"Running stage '([^']+)'", out)) == UPSTREAM[stage], out
    assert "Traceback" not in out
    status = clone.dvc("status", stage).stdout
    assert "Data and pipelines are up to date" in status, status
