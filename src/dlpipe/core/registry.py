"""The pipeline's names, written once: training stages, their runs, their plots and their inputs.

A run name is unique across stages (DVC prefixes colliding metric keys with file paths, which makes
`dvc exp show` unreadable), and the same name appears in metrics keys, curve files, plot series,
report rows and figure legends, so a reviewer can follow one name from params to the PR comment.
`tests/test_registry.py` checks these names against dvc.yaml so the two cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dlpipe.core import layout


@dataclass(frozen=True)
class TrainingStage:
    """One training stage: a regularised run and its control (the same network without it)."""

    stage: str
    regularised: str
    control: str
    plot_id: str
    arrays: Path

    @property
    def runs(self) -> tuple[str, str]:
        """Both run names, the regularised one first."""
        return (self.regularised, self.control)


DROPOUT = TrainingStage(
    stage="train_dropout",
    regularised="dropout",
    control="no_dropout",
    plot_id="dropout_loss",
    arrays=layout.SPOTIFY_ARRAYS,
)
BATCHNORM = TrainingStage(
    stage="train_batchnorm",
    regularised="batchnorm",
    control="no_batchnorm",
    plot_id="batchnorm_loss",
    arrays=layout.CONCRETE_ARRAYS,
)
TRAINING_STAGES: tuple[TrainingStage, ...] = (DROPOUT, BATCHNORM)
DATA_STAGES: tuple[str, ...] = ("fetch", "group_split", "preprocess")
SUMMARY_STAGE = "summarize"
# Validates the whole params.yaml whenever any of it changes; no outputs, no edge in the graph.
PARAMS_CHECK_STAGE = "check_params"
# Pins the versions of the computing libraries for the others (dlpipe.core.versions): the graph's source.
VERSIONS_STAGE = "library_versions"
STAGES: tuple[str, ...] = (
    PARAMS_CHECK_STAGE,
    VERSIONS_STAGE,
    *DATA_STAGES,
    *(t.stage for t in TRAINING_STAGES),
    SUMMARY_STAGE,
)
RUNS: tuple[str, ...] = tuple(run for t in TRAINING_STAGES for run in t.runs)
# What a reviewer compares first: the first column of `dvc exp show`, the sweep figure's y axis.
PRIMARY_METRIC = "min_val_loss"


def training_stage(stage: str) -> TrainingStage:
    """The training stage called ``stage``."""
    for t in TRAINING_STAGES:
        if t.stage == stage:
            return t
    raise KeyError(f"{stage} is not a training stage; known: {', '.join(t.stage for t in TRAINING_STAGES)}")
