"""The README's results table is made only from metrics that hold results."""

from __future__ import annotations

import json

import pytest

from dlpipe.core.errors import UserError
from dlpipe.report.results_table import BEGIN, END, main

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
    rows = capsys.readouterr().out.splitlines()
    assert len(rows) == 2 + 4 and rows[2].startswith("| train_dropout | dropout | 0.1900")
