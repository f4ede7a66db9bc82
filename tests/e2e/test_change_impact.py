"""What a change reruns: the pipeline's contract, as a table (one row per change, asserted on the
"Running stage" lines of a real `dvc exp run` / `dvc repro` after a full run was committed)."""

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
from tests.e2e.conftest import DROPOUT_05, copy_clone, shares_experiment
from tests.helpers.stages import STAGES

pytestmark = pytest.mark.e2e

ALL = frozenset(STAGES)
DATA = frozenset(DATA_STAGES)
TRAINING = frozenset(t.stage for t in TRAINING_STAGES)
S = SUMMARY_STAGE  # reruns after any training stage that ran: it gathers their results
P = PARAMS_CHECK_STAGE  # reruns on any change of params.yaml: it validates the whole file
V = VERSIONS_STAGE  # reruns on any change of uv.lock: it pins each group's libraries

# (change, what it reruns). A param change is `dvc exp run -S`; a file change is an edit of that
# file (a comment line appended, as a minimal edit), then `dvc repro`; an upgrade is a new version of
# that package in uv.lock, installed (a stand-in distribution of that version, found first on the path).
IMPACT = [
    ("group_split.seed=1", {P, "group_split", "preprocess", *TRAINING, S}),
    ("group_split.spotify_train_size=0.7", {P, "group_split", "preprocess", "train_dropout", S}),
    ("group_split.concrete_train_size=0.6", {P, "group_split", "preprocess", "train_batchnorm", S}),
    ("preprocess.standardize_concrete=true", {P, "preprocess", "train_batchnorm", S}),
    (DROPOUT_05, {P, "train_dropout", S}),
    ("train_dropout.batch_size=256", {P, "train_dropout", S}),
    ("train_batchnorm.optimizer=adam", {P, "train_batchnorm", S}),
    ("keras_backend=tensorflow", {P, *TRAINING, S}),
    ("seeds=[0,1,2]", {P, *TRAINING, S}),
    ("edit sources.yaml", {"fetch"}),
    ("edit src/dlpipe/data/raw_tables.py", DATA),
    ("edit src/dlpipe/data/split.py", {"group_split"}),
    ("edit src/dlpipe/train/models.py", TRAINING),
    ("edit src/dlpipe/train/summary.py", {*TRAINING, S}),
    ("edit stages/train_dropout.py", {"train_dropout"}),
    ("edit stages/summarize.py", {S}),
    ("edit src/dlpipe/report/review.py", set()),
    ("edit src/dlpipe/report/review_report.py", set()),
    # Shown only, never a result: the progress lines and the numbers' formatting (dlpipe.display).
    ("edit src/dlpipe/display/render.py", set()),
    ("edit src/dlpipe/display/progress.py", set()),
    ("edit README.md", set()),
    ("edit docs/experiments.md", set()),
    ("upgrade keras", {V, *TRAINING}),  # the same code under a new version number: the same results
    ("upgrade ruff", {V}),
]


def install_stand_in(clone, folder, package: str, version: str) -> None:
    """Lock ``package`` at ``version`` in the clone's uv.lock, and make it the installed version there: a
    distribution's metadata alone, first on the clone's path (the real package still does the work)."""
    lock = clone.path / "uv.lock"
    text, entry = lock.read_text(), f'name = "{package}"\nversion = "'
    start = text.index(entry) + len(entry)
    lock.write_text(text[:start] + version + text[text.index('"', start) :])
    info = folder / f"{package.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n")
    clone.env["PYTHONPATH"] = str(folder)


def stages_run(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", output))


# Param changes that other tests make too: the experiment is run once for all of them.
SHARED = {DROPOUT_05, "seeds=[0,1,2]"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [pytest.param(c, e, id=c, marks=[shares_experiment(c)] if c in SHARED else []) for c, e in IMPACT],
)
def test_a_change_reruns_exactly_what_depends_on_it(built_template, experiment, tmp_path, change, expected):
    if change in SHARED:
        run = experiment(change)
        clone, out = run.clone, run.output
    elif change.startswith("upgrade "):
        clone = copy_clone(built_template, tmp_path)
        install_stand_in(clone, tmp_path / "stand-in", change.removeprefix("upgrade "), "99.0.0")
        out = clone.dvc("repro").stdout
    elif change.startswith("edit "):
        clone = copy_clone(built_template, tmp_path)
        path = clone.path / change.removeprefix("edit ")
        comment = "<!-- a reviewer's edit -->" if path.suffix == ".md" else "# a reviewer's edit"
        path.write_text(path.read_text() + f"\n{comment}\n")
        out = clone.dvc("repro").stdout
    else:
        clone = copy_clone(built_template, tmp_path)
        out = clone.dvc("exp", "run", "-S", change).stdout
    assert stages_run(out) == set(expected), out
    assert stages_run(out) <= ALL
    # Whatever ran, the pipeline is complete again.
    assert "Data and pipelines are up to date" in clone.dvc("status").stdout
