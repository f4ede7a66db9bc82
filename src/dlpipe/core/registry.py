"""The pipeline's names, written once: training stages, their runs, their plots and their inputs.

A run name is unique across stages (DVC prefixes colliding metric keys with file paths, which makes
`dvc exp show` unreadable), and the same name appears in metrics keys, curve files, plot series,
report rows, so a reviewer can follow one name from params to the PR comment. Figures speak the
notebook's words instead (``Dropout``, ``no Dropout``): each stage's technique and data set, written here
once beside its run names. `tests/test_registry.py` checks these names against dvc.yaml so the two cannot
drift.
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
    # In the notebook's words, for titles and legends: the technique the regularised run adds, and what
    # the stage predicts.
    technique: str
    task: str

    @property
    def runs(self) -> tuple[str, str]:
        """Both run names, the regularised one first."""
        return (self.regularised, self.control)

    def display_name(self, run: str) -> str:
        """``run`` in the notebook's words: ``Dropout`` for the regularised run, ``no Dropout`` for its control."""
        if run not in self.runs:
            raise KeyError(f"{run} is not a run of {self.stage}; its runs: {', '.join(self.runs)}")
        return self.technique if run == self.regularised else f"no {self.technique}"


DROPOUT = TrainingStage(
    stage="train_dropout",
    regularised="dropout",
    control="no_dropout",
    plot_id="dropout_loss",
    arrays=layout.SPOTIFY_ARRAYS,
    technique="Dropout",
    task="Spotify popularity",
)
BATCHNORM = TrainingStage(
    stage="train_batchnorm",
    regularised="batchnorm",
    control="no_batchnorm",
    plot_id="batchnorm_loss",
    arrays=layout.CONCRETE_ARRAYS,
    technique="BatchNormalization",
    task="Concrete strength",
)
TRAINING_STAGES: tuple[TrainingStage, ...] = (DROPOUT, BATCHNORM)
DATA_STAGES: tuple[str, ...] = ("fetch", "group_split", "preprocess")
SUMMARY_STAGE = "summarize"
# Validates the whole params.yaml whenever any of it changes; no outputs, no edge in the graph.
PARAMS_CHECK_STAGE = "check_params"
# Pins the versions of the computing libraries for the others (dlpipe.core.versions): the graph's source.
VERSIONS_STAGE = "library_versions"
RUNS: tuple[str, ...] = tuple(run for t in TRAINING_STAGES for run in t.runs)
# How figures name the loss a training stage's `loss` param selects (Keras' short and long names).
LOSS_NAMES: dict[str, tuple[str, str]] = {
    "mae": ("MAE", "mean absolute error"),
    "mse": ("MSE", "mean squared error"),
    "mape": ("MAPE", "mean absolute percentage error"),
    "msle": ("MSLE", "mean squared logarithmic error"),
    "huber": ("Huber", "Huber loss"),
    "log_cosh": ("log-cosh", "log-cosh loss"),
    "mean_absolute_error": ("MAE", "mean absolute error"),
    "mean_squared_error": ("MSE", "mean squared error"),
    "mean_absolute_percentage_error": ("MAPE", "mean absolute percentage error"),
    "mean_squared_logarithmic_error": ("MSLE", "mean squared logarithmic error"),
}


def display_name(run: str) -> str:
    """Any run in the notebook's words (:meth:`TrainingStage.display_name`)."""
    for t in TRAINING_STAGES:
        if run in t.runs:
            return t.display_name(run)
    raise KeyError(f"{run} is not a run; known: {', '.join(RUNS)}")


def loss_label(loss: str) -> str:
    """A y axis for the loss param ``loss``: ``mean absolute error (MAE)``; an unknown name as it is."""
    if loss not in LOSS_NAMES:
        return loss
    short, long = LOSS_NAMES[loss]
    return long if short.lower() in long.lower() else f"{long} ({short})"
