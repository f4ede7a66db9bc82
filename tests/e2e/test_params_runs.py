"""Params under the real `dvc`: a run records only the params it ran with, and an unknown key fails the
run that adds it (tests/test_stage_inputs.py and tests/test_params.py test the same without DVC)."""

from __future__ import annotations

import re
import sys

import pytest

from dlpipe.core.registry import PARAMS_CHECK_STAGE
from tests.helpers.training_run import training_started

pytestmark = pytest.mark.e2e


def stages_run(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", output))


def test_a_param_edited_while_the_stage_trains_fails_it_and_records_nothing(built_clone):
    # What `dvc repro --force train_dropout & sleep 8; sed -i 's/^dropout: 0.3/dropout: 0.6/' params.yaml`
    # did: DVC read the params when the stage ended and recorded 0.6 for a model trained with 0.3.
    clone = built_clone
    params = clone.path / "params.yaml"
    locked = (clone.path / "dvc.lock").read_text()
    command = [sys.executable, "-m", "dvc", "repro", "--force", "--single-item", "train_dropout"]
    with training_started(command, clone.path, {**clone.env, "DLPIPE_PROGRESS": "lines"}) as (proc, lines):
        # Training has begun, with the params it read.
        params.write_text(params.read_text().replace("\ndropout: 0.3\n", "\ndropout: 0.6\n"))
        code = proc.wait(timeout=300)
        output = "".join(lines) + proc.stdout.read()
    assert code != 0, output
    assert "train_dropout: error: inputs of train_dropout changed while it ran (dropout: 0.3 -> 0.6)" in output
    assert "Traceback" not in output
    # Nothing recorded: dvc.lock as it was, and the stage reported changed (its outputs are not trusted).
    assert (clone.path / "dvc.lock").read_text() == locked
    status = clone.dvc("status", "train_dropout").stdout
    assert "train_dropout" in status and "dropout: 0.6" not in (clone.path / "dvc.lock").read_text(), status
    assert "Data and pipelines are up to date" not in status


def test_an_unknown_key_added_by_exp_run_fails_that_run_before_any_training(built_clone):
    # DVC's own way to add a key (`-S +key=value`), with a misspelling, and a real change beside it.
    out = built_clone.dvc("exp", "run", "-S", "+dropuot=0.5", "-S", "train_dropout.epochs=2", check=False)
    assert out.returncode != 0, out.stdout
    assert "dropuot: unknown key (did you mean dropout?)" in out.stdout
    assert stages_run(out.stdout) == {PARAMS_CHECK_STAGE}, out.stdout
    assert "Traceback" not in out.stdout


def test_a_key_added_by_hand_that_no_stage_reads_fails_the_next_repro(built_clone):
    params = built_clone.path / "params.yaml"
    params.write_text(params.read_text() + "learning_rate: 0.5\n")
    out = built_clone.dvc("repro", check=False)
    assert out.returncode != 0, out.stdout
    assert "learning_rate: unknown key (the keys here are seeds, dropout," in out.stdout
    assert stages_run(out.stdout) == {PARAMS_CHECK_STAGE}, out.stdout
    # Removed again, the pipeline is up to date at once: nothing else was touched.
    params.write_text(params.read_text().replace("learning_rate: 0.5\n", ""))
    assert "Data and pipelines are up to date" in built_clone.dvc("repro").stdout
