"""What DVC's own `dvc plots show` and `dvc plots diff` draw (their --json answer), with one seed and with
three: every chart's x and y, one line per run and train/validation in the top-level charts, each run's
validation curve in a chart of its own (a stage plot: the run-cache needs it declared so), never the seed
count, and the runs of the per-seed scatter told apart."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest

from dlpipe.core import layout
from dlpipe.core.registry import TRAINING_STAGES
from tests.e2e.conftest import Clone, shares_experiment

pytestmark = pytest.mark.e2e

THREE_SEEDS = "seeds=[0,1,2]"
CURVE_FIELDS = ("loss", "val_loss")


def vega_plots(clone: Clone, *command: str) -> dict[str, dict]:
    """Plot id -> DVC's entry (revisions and filled Vega-Lite spec) of every chart DVC draws (not the PNGs)."""
    answer = json.loads(clone.dvc("plots", *command, "--json").stdout)
    assert not answer.get("errors"), answer["errors"]
    charts: dict[str, dict] = {}
    for plot_id, entries in answer["data"].items():
        for entry in entries:
            if entry["type"] == "vega":
                assert plot_id not in charts, f"{plot_id} drawn twice"
                charts[plot_id] = entry
    return charts


def encodings(spec: dict) -> Iterator[tuple[str, dict]]:
    """(channel, definition) of every encoding in a spec, its layers and its faceted spec."""
    for channel, definition in (spec.get("encoding") or {}).items():
        if isinstance(definition, dict):
            yield channel, definition
    for inner in [*spec.get("layer", []), *([spec["spec"]] if "spec" in spec else [])]:
        yield from encodings(inner)


def fields(spec: dict, channel: str) -> set[str]:
    """The data fields a spec draws on ``channel`` (``x``, ``y``, ``shape``, ...)."""
    return {d["field"] for c, d in encodings(spec) if c == channel and "field" in d}


def rows(clone: Clone, rev: str, path: str) -> list[dict[str, str]]:
    """The CSV ``path`` of ``rev`` (``workspace``: the work tree) as DVC reads it."""
    text = (clone.path / path).read_text() if rev == "workspace" else clone.run("git", "show", f"{rev}:{path}").stdout
    return list(csv.DictReader(io.StringIO(text)))


def drawn_files(plot_id: str, values: list[dict]) -> set[str]:
    """The files a chart draws: its id when it draws one file, else the files named in its rows."""
    names = {v["filename::field"].split("::")[0] for v in values if "filename::field" in v}
    if not names:
        return {plot_id}
    # A top-level plot's rows name each file without its folder: the folder is its stage's.
    t = next(t for t in TRAINING_STAGES if t.plot_id == plot_id)
    return {f"{layout.PLOTS_DIR / t.stage / name}" for name in names}


def check_charts(clone: Clone, charts: dict[str, dict], revisions: list[str]) -> None:
    """What every chart must show, whatever the seeds: asserted against the files of each revision."""
    seed_tables = {f"{layout.PLOTS_DIR / t.stage / layout.SEEDS_TABLE}": t for t in TRAINING_STAGES}
    curve_files = {f"{layout.PLOTS_DIR / t.stage / run}.csv": t for t in TRAINING_STAGES for run in t.runs}
    drawn_curves = {f for f in curve_files if any(rows(clone, rev, f) for rev in revisions)}
    assert set(charts) == {t.plot_id for t in TRAINING_STAGES} | set(seed_tables) | drawn_curves
    charts_of: dict[str, list[str]] = {}
    for plot_id, entry in charts.items():
        assert entry["revisions"] == revisions, plot_id
        spec = entry["content"]
        values = spec["data"]["values"]
        for name in drawn_files(plot_id, values):
            charts_of.setdefault(name, []).append(plot_id)
        # One colour per revision, as in DVC's own templates.
        assert fields(spec, "color") == {"rev"} and {v["rev"] for v in values} == set(revisions), plot_id
        assert "seeds" not in fields(spec, "y"), plot_id  # never the count of seeds behind a mean
        if plot_id in seed_tables:
            assert fields(spec, "x") == {"seed"} and fields(spec, "y") == {"min_val_loss"}
            # The runs of a stage share one table: the chart tells them apart by its run column.
            assert "run" in fields(spec, "shape") and "run" in fields(spec, "xOffset")
            for rev in revisions:
                expected = {(r["run"], r["seed"]) for r in rows(clone, rev, plot_id)}
                assert {run for run, _ in expected} == set(seed_tables[plot_id].runs)
                assert {(v["run"], v["seed"]) for v in values if v["rev"] == rev} == expected, rev
            continue
        if plot_id in curve_files:  # a run's own chart: its validation curve, as declared in dvc.yaml
            assert fields(spec, "x") == {"epoch"} and fields(spec, "y") == {"val_loss"}, plot_id
            continue
        t = next(t for t in TRAINING_STAGES if t.plot_id == plot_id)
        assert fields(spec, "x") == {"epoch"}
        # One line per run and train/validation, each from its own file and column, and nothing else.
        expected_series = set()
        for rev in revisions:
            for run in t.runs:
                table = rows(clone, rev, f"{layout.PLOTS_DIR / t.stage / run}.csv")
                if table:  # a run that diverged in its first epoch has no row to draw
                    expected_series |= {(rev, f"{run}.csv::{field}") for field in CURVE_FIELDS}
                for field in CURVE_FIELDS:
                    drawn = {
                        int(v["epoch"]): float(v["dvc_inferred_y_value"])
                        for v in values
                        if v["rev"] == rev and v["filename::field"] == f"{run}.csv::{field}"
                    }
                    assert drawn == {int(r["epoch"]): float(r[field]) for r in table}, (rev, run, field)
        assert {(v["rev"], v["filename::field"]) for v in values} == expected_series, plot_id
    # Each seeds table in its scatter only; each curve file in its own chart and its stage's top-level chart.
    assert all(len(charts_of[f]) == 1 for f in seed_tables), charts_of
    assert all(len(charts_of[f]) == 2 for f in drawn_curves), charts_of


def test_one_seed_each_curve_once_with_its_fields(built_clone):
    clone = built_clone
    assert "seeds" not in (clone.path / "plots/train_dropout/dropout.csv").read_text().splitlines()[0]
    check_charts(clone, vega_plots(clone, "show"), ["workspace"])
    check_charts(clone, vega_plots(clone, "diff", "HEAD"), ["workspace", "HEAD"])


@shares_experiment(THREE_SEEDS)
def test_three_seeds_each_curve_once_with_its_fields_and_every_seed_in_the_scatter(experiment):
    clone = experiment(THREE_SEEDS).clone  # work tree: three seeds; HEAD: one
    header = (clone.path / "plots/train_dropout/dropout.csv").read_text().splitlines()[0]
    assert header.endswith(",seeds")  # the column DVC drew as the curve when no y was declared
    shown = vega_plots(clone, "show")
    check_charts(clone, shown, ["workspace"])
    scatter = shown[f"{layout.PLOTS_DIR / 'train_dropout' / layout.SEEDS_TABLE}"]["content"]["data"]["values"]
    assert sorted((v["run"], v["seed"]) for v in scatter) == [
        (run, seed) for run in sorted(("dropout", "no_dropout")) for seed in ("0", "1", "2")
    ]
    check_charts(clone, vega_plots(clone, "diff", "HEAD"), ["workspace", "HEAD"])
