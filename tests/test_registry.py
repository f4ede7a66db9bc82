"""The registry of names and dvc.yaml say the same thing, so neither can drift from the other."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from dlpipe.core import layout
from dlpipe.core.params import LOSSES
from dlpipe.core.registry import (
    LOSS_NAMES,
    RUNS,
    SUMMARY_STAGE,
    TRAINING_STAGES,
    display_name,
    loss_label,
)
from dlpipe.report import notebook

ROOT = Path(__file__).resolve().parents[1]
DVC = yaml.safe_load((ROOT / "dvc.yaml").read_text())


def outputs(stage: str) -> set[str]:
    spec = DVC["stages"][stage]
    return {next(iter(o)) if isinstance(o, dict) else o for k in ("outs", "metrics", "plots") for o in spec.get(k, [])}


def test_each_stage_runs_its_own_script_and_each_script_is_a_stage():
    for stage, spec in DVC["stages"].items():
        assert shlex.split(spec["cmd"]) == ["python", f"stages/{stage}.py"]
    assert {p.stem for p in (ROOT / "stages").glob("*.py")} == set(DVC["stages"])


def test_each_training_stage_writes_the_files_of_its_runs():
    for t in TRAINING_STAGES:
        plots = layout.PLOTS_DIR / t.stage
        expected = {
            *(f"{plots / run}.csv" for run in t.runs),
            f"{plots / layout.SEEDS_TABLE}",
            f"{plots / layout.LOSS_FIGURE}",
            f"{plots / layout.ENVIRONMENT_FILE}",
            f"{layout.MODELS_DIR / t.stage}",
        }
        assert outputs(t.stage) == expected
        assert t.arrays.as_posix() in DVC["stages"][t.stage]["deps"]
    assert outputs(SUMMARY_STAGE) == {layout.SUMMARY_METRICS.as_posix()}


def test_the_top_level_plots_overlay_each_stages_runs():
    plots = {next(iter(p)): next(iter(p.values())) for p in DVC["plots"]}
    assert list(plots) == [t.plot_id for t in TRAINING_STAGES]
    for t in TRAINING_STAGES:
        assert set(plots[t.plot_id]["y"]) == {f"{layout.PLOTS_DIR / t.stage / run}.csv" for run in t.runs}


def test_run_names_are_unique_and_the_notebook_references_known_runs():
    assert len(set(RUNS)) == len(RUNS) == 2 * len(TRAINING_STAGES)
    assert set(notebook.MIN_VAL_LOSS) <= set(RUNS)


def test_figures_name_each_run_and_every_loss_in_the_notebooks_words():
    assert [display_name(run) for run in RUNS] == [
        "Dropout",
        "no Dropout",
        "BatchNormalization",
        "no BatchNormalization",
    ]
    with pytest.raises(KeyError, match="no_such_run is not a run"):
        display_name("no_such_run")
    assert set(LOSS_NAMES) == set(LOSSES)  # every loss params.yaml accepts has a name on the y axis
    assert loss_label("mae") == loss_label("mean_absolute_error") == "mean absolute error (MAE)"
    assert loss_label("huber") == "Huber loss"
