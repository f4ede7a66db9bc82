"""The README's results table is made only from metrics that hold results, and names where they were computed."""

from __future__ import annotations

import json

import pytest

from dlpipe.core.errors import UserError
from dlpipe.report.results_table import BEGIN, END, computed_on, main

README = f"# Project\n\n{BEGIN}\n| the table as it was |\n{END}\n"


@pytest.mark.parametrize(
    "metrics",
    [{}, [], {"min_val_loss": {"another_run": 0.2}}, {"min_val_loss": 0.2}],
    ids=["no runs", "a list", "other runs", "no run names"],
)
def test_metrics_without_the_runs_results_are_refused_and_the_readme_is_kept(tmp_path, monkeypatch, metrics):
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics/summary.json").write_text(json.dumps(metrics))
    (tmp_path / "README.md").write_text(README)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as info:
        main(["--write"])
    assert str(info.value) == (
        "metrics/summary.json holds no results of the runs dropout, no_dropout, batchnorm, no_batchnorm; "
        "rerun `dvc repro` (its summarize stage writes them), then make the table"
    )
    assert (tmp_path / "README.md").read_text() == README


def test_the_results_of_one_run_make_a_table(tmp_path, monkeypatch, capsys):
    # The positive control: one run's results are enough (the others are dashes).
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics/summary.json").write_text(json.dumps({"min_val_loss": {"dropout": 0.19}}))
    monkeypatch.chdir(tmp_path)
    main([])
    lines = capsys.readouterr().out.splitlines()
    # The machine first (none recorded here), then a blank line: Markdown would take a line right after
    # the table for one of its rows.
    files = "`plots/train_dropout/environment.json`, `plots/train_batchnorm/environment.json`"
    assert lines[0] == f"Computed on: not recorded ({files})."
    assert lines[1] == ""
    rows = lines[2:]
    assert len(rows) == 2 + 4 and rows[2].startswith("| train_dropout | dropout | 0.1900")


def environment_json(model: str, keras: str = "3.15.1") -> str:
    """An environment file as a training stage writes it (dlpipe.core.environment.write)."""
    cpu = {"model": model, "family": "25", "model_number": "17", "isa": ["avx2", "avx512f"]}
    packages = {"jax": "0.10.2", "keras": keras}
    return json.dumps({"backend": "jax", "cpu": cpu, "machine": "x86_64", "packages": packages, "system": "Linux"})


def write_environments(plots, **models: str) -> None:
    for stage, model in models.items():
        (plots / stage).mkdir(parents=True)
        (plots / stage / "environment.json").write_text(environment_json(model))


def test_one_machine_for_both_stages_is_named_once_with_its_files(tmp_path):
    write_environments(tmp_path, train_dropout="AMD EPYC", train_batchnorm="AMD EPYC")
    files = ", ".join(
        f"`{tmp_path.as_posix()}/{stage}/environment.json`" for stage in ("train_dropout", "train_batchnorm")
    )
    machine = "AMD EPYC (family 25 model 17, AVX-512), x86_64; Keras on jax: jax 0.10.2, keras 3.15.1"
    assert computed_on(tmp_path) == f"Computed on: {machine} ({files})."


def test_stages_computed_on_different_machines_are_each_named(tmp_path):
    write_environments(tmp_path, train_dropout="AMD EPYC", train_batchnorm="Intel Xeon")
    line = computed_on(tmp_path)
    assert line.count("\n") == 0
    assert "train_dropout: AMD EPYC (family 25 model 17, AVX-512)" in line
    assert "; train_batchnorm: Intel Xeon (family 25 model 17, AVX-512)" in line


def test_a_missing_environment_is_said_not_recorded_not_taken_for_the_other_stages(tmp_path):
    write_environments(tmp_path, train_dropout="AMD EPYC")
    line = computed_on(tmp_path)
    assert "train_dropout: AMD EPYC" in line
    assert f"train_batchnorm: not recorded (`{tmp_path.as_posix()}/train_batchnorm/environment.json`)" in line
