"""A stage's declared inputs are held to what they were when it started (dlpipe.core.stage_inputs)."""

from __future__ import annotations

import os

import pytest

from dlpipe.core.errors import UserError
from dlpipe.core.stage_inputs import Snapshot, declared_params

DVC_YAML = """\
stages:
  train:
    cmd: python stages/train.py
    deps:
      - data/in
      - code.py
    params:
      - dropout
      - train
  check:
    cmd: python stages/check.py
    params:
      - params.yaml:
"""
PARAMS = "dropout: 0.3\nseeds: [0]\ntrain:\n  epochs: 5\n  units: [8]\n"


@pytest.fixture
def project(tmp_path):
    (tmp_path / "dvc.yaml").write_text(DVC_YAML)
    (tmp_path / "params.yaml").write_text(PARAMS)
    (tmp_path / "data" / "in").mkdir(parents=True)
    (tmp_path / "data" / "in" / "a.csv").write_text("x\n1\n")
    (tmp_path / "code.py").write_text("")
    return tmp_path


def edit(path, old, new):
    path.write_text(path.read_text().replace(old, new))


def test_declared_params_are_the_listed_keys_or_the_whole_file():
    assert declared_params({"params": ["dropout", "train"]}) == ["dropout", "train"]
    assert declared_params({"params": [{"params.yaml": ["a.b"]}, "c"]}) == ["a.b", "c"]
    assert declared_params({"params": [{"params.yaml": None}]}) is None
    assert declared_params({}) == []


def test_nothing_changed_passes(project):
    snapshot = Snapshot.take("train", project)
    snapshot.check()
    assert snapshot.changes() == []


def test_a_declared_param_changed_while_running_fails_naming_old_and_new(project):
    snapshot = Snapshot.take("train", project)
    edit(project / "params.yaml", "dropout: 0.3", "dropout: 0.6")
    with pytest.raises(UserError) as info:
        snapshot.check()
    message = str(info.value)
    assert "inputs of train changed while it ran (dropout: 0.3 -> 0.6)" in message
    assert "not recorded" in message and "dvc repro" in message and "\n" not in message


def test_a_nested_value_of_a_declared_section_counts(project):
    snapshot = Snapshot.take("train", project)
    edit(project / "params.yaml", "epochs: 5", "epochs: 6")
    assert snapshot.changes() == ["train: {'epochs': 5, 'units': [8]} -> {'epochs': 6, 'units': [8]}"]


def test_a_param_the_stage_does_not_declare_may_change(project):
    snapshot = Snapshot.take("train", project)
    edit(project / "params.yaml", "seeds: [0]", "seeds: [0, 1]")
    snapshot.check()
    edit(project / "params.yaml", "dropout: 0.3\n", "")
    assert snapshot.changes() == ["dropout: 0.3 -> (missing)"]


def test_a_stage_on_the_whole_file_sees_any_change_even_a_new_key(project):
    snapshot = Snapshot.take("check", project)
    with (project / "params.yaml").open("a") as f:
        f.write("dropuot: 0.5\n")
    assert len(snapshot.changes()) == 1 and snapshot.changes()[0].startswith("params.yaml: {")


def test_a_params_file_made_invalid_while_running_fails(project):
    snapshot = Snapshot.take("train", project)
    (project / "params.yaml").write_text("dropout: [\n")
    assert snapshot.changes() == ["params.yaml (now not valid YAML)"]


def test_a_dependency_file_rewritten_or_added_in_a_folder_fails(project):
    snapshot = Snapshot.take("train", project)
    stat = (project / "code.py").stat()
    (project / "code.py").write_text("x = 1\n")
    os.utime(project / "code.py", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    (project / "data" / "in" / "b.csv").write_text("x\n")
    assert snapshot.changes() == ["code.py (modified)", "data/in/b.csv (modified)"]


def test_a_stage_dvc_yaml_does_not_declare_is_not_held(project, tmp_path):
    assert Snapshot.take("nonexistent", project) is None
    assert Snapshot.take("train", tmp_path / "nowhere") is None
