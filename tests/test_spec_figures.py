"""Figures from Vega-Lite specs: SVG and PNG files that show what the spec says, written atomically."""

from __future__ import annotations

import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dlpipe.core.errors import UserError
from dlpipe.report.spec_figures import PNG_SCALE, figure_stem, render_spec_figures
from tests.helpers.vega_specs import line_spec

SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def texts_of(root: ET.Element, css_class: str) -> list[str]:
    """The text of every <text> under groups whose class list holds ``css_class``."""
    groups = [g for g in root.iter(f"{SVG}g") if css_class in g.get("class", "").split()]
    return [t.text or "" for g in groups for t in g.iter(f"{SVG}text")]


def line_paths(root: ET.Element) -> list[ET.Element]:
    groups = [g for g in root.iter(f"{SVG}g") if "mark-line" in g.get("class", "").split()]
    return [p for g in groups for p in g.iter(f"{SVG}path")]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("figures") / "figs"
    specs = {
        "dropout_loss": line_spec("Dropout: loss curves"),
        "plots/train/three.csv": line_spec("three lines", ("a", "b", "c")),
    }
    return out, render_spec_figures(specs, out)


def test_each_spec_gives_an_svg_and_a_png_in_order(figures: tuple[Path, list[Path]]):
    out, written = figures
    assert written == [
        out / "dropout_loss.svg",
        out / "dropout_loss.png",
        out / "plots_train_three.csv.svg",
        out / "plots_train_three.csv.png",
    ]
    assert sorted(out.iterdir()) == sorted(written)  # no temporary file left


def test_the_svg_draws_the_lines_titles_and_axes(figures: tuple[Path, list[Path]]):
    out, _ = figures
    for stem, title, n_lines in (
        ("dropout_loss", "Dropout: loss curves", 2),
        ("plots_train_three.csv", "three lines", 3),
    ):
        root = ET.parse(out / f"{stem}.svg").getroot()
        assert root.tag == f"{SVG}svg"
        paths = line_paths(root)
        assert len(paths) == n_lines
        assert all(p.get("d", "").startswith("M") and p.get("d").count("L") == 2 for p in paths)  # 3 epochs
        assert texts_of(root, "role-axis-title") == ["epoch", "loss"]
        assert texts_of(root, "role-title-text") == [title]
        assert len(texts_of(root, "role-legend-label")) == n_lines


def test_the_png_is_a_png_at_twice_the_svg_size(figures: tuple[Path, list[Path]]):
    out, _ = figures
    root = ET.parse(out / "dropout_loss.svg").getroot()
    width, height = int(float(root.get("width"))), int(float(root.get("height")))
    assert png_size((out / "dropout_loss.png").read_bytes()) == (width * PNG_SCALE, height * PNG_SCALE)
    assert (out / "dropout_loss.png").stat().st_size > 5_000  # drawn, not an empty canvas


def test_a_spec_that_cannot_be_rendered_is_one_error_and_nothing_is_written(tmp_path: Path):
    broken = {**line_spec(), "mark": "no-such-mark"}
    with pytest.raises(UserError) as error:
        render_spec_figures({"good": line_spec(), "broken": broken}, tmp_path / "out")
    assert str(error.value).startswith("broken: vl-convert could not render the spec:")
    assert "\n" not in str(error.value)
    assert not (tmp_path / "out").exists()


def test_ids_that_give_the_same_file_name_or_no_specs_are_errors(tmp_path: Path):
    with pytest.raises(UserError, match="same file name: a_b"):
        render_spec_figures({"a/b": line_spec(), "a b": line_spec()}, tmp_path)
    with pytest.raises(UserError, match="no plots"):
        render_spec_figures({}, tmp_path)


def test_other_files_in_the_folder_are_kept_and_figures_replaced(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "x.svg").write_text("old")
    render_spec_figures({"x": line_spec()}, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "x.png", "x.svg"]
    assert (tmp_path / "x.svg").read_text().startswith("<svg")


@pytest.mark.parametrize(
    ("plot_id", "stem"),
    [
        ("dropout_loss", "dropout_loss"),
        ("plots/train_dropout/dropout.csv", "plots_train_dropout_dropout.csv"),
        ("../x", "x"),
        ("///", "plot"),
    ],
)
def test_figure_stems_are_safe_file_names(plot_id: str, stem: str):
    assert figure_stem(plot_id) == stem


def test_cli_bad_input_is_one_line_exit_1(tmp_path: Path):
    proc = subprocess.run(
        [sys.executable, "-m", "dlpipe.report.spec_figures", "--out", "figs"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1 and len(proc.stderr.splitlines()) == 1
    assert proc.stderr.startswith("spec_figures: error: no dvc.yaml in")
    assert not (tmp_path / "figs").exists()


def dvc_filled_curves(runs: dict[str, tuple[list[float], list[float]]]) -> dict:
    """The project's ``loss_curves`` template filled by DVC's own renderer with the rows `dvc plots show`
    gives a top-level plot of two files and two fields (values as strings, one row per series and epoch)."""
    from dvc_render import VegaRenderer

    rows, sources = [], []
    for run, (loss, val_loss) in runs.items():
        for field, values in (("loss", loss), ("val_loss", val_loss)):
            sources.append({"filename": f"{run}.csv", "field": field})
            rows += [
                {"epoch": str(e), "loss": str(loss[e - 1]), "val_loss": str(val_loss[e - 1]), "rev": "workspace"}
                | {"dvc_inferred_y_value": str(v), "filename": f"{run}.csv", "field": field}
                for e, v in enumerate(values, start=1)
            ]
    renderer = VegaRenderer(
        rows,
        "dropout_loss",
        template="loss_curves",
        template_dir=str(Path(__file__).resolve().parents[1] / ".dvc" / "plots"),
        title="Spotify popularity",
        x="epoch",
        y="dvc_inferred_y_value",
        x_label="epoch",
        y_label="loss (mae)",
        anchors_y_definitions=sources,
    )
    return renderer.get_filled_template()


def test_dvc_s_curves_in_a_still_figure_are_in_the_notebooks_words_without_the_spike(tmp_path: Path):
    spike = ([0.43, 0.25, 0.22, 0.2, 0.195, 0.19, 0.189, 0.188, 0.187], [0.21, 0.205, 0.2, 0.196] + [0.194] * 5)
    flat = ([0.28, 0.2, 0.19, 0.185, 0.18, 0.175, 0.172, 0.17, 0.168], [0.208, 0.2, 0.198] + [0.2] * 6)
    spec = dvc_filled_curves({"dropout": spike, "no_dropout": flat})
    render_spec_figures({"dropout_loss": spec}, tmp_path)
    root = ET.parse(tmp_path / "dropout_loss.svg").getroot()
    # One panel per run, headed in the notebook's words; train/validation and the revision in the legend.
    assert texts_of(root, "role-column-header") == ["Dropout", "no Dropout"]
    assert texts_of(root, "role-legend-label") == ["workspace", "train", "validation"]
    assert texts_of(root, "role-title-subtitle") == ["off the axes: epochs 1–2 (up to 0.43)"]
    # The y axis spans the epochs after the spike: 0.168 to 0.205, not up to 0.43.
    y_labels = [float(t) for t in texts_of(root, "role-axis-label") if t.startswith("0.")]
    assert max(y_labels) < 0.25 and min(y_labels) <= 0.17
    assert len(line_paths(root)) == 4  # two runs, train and validation


def test_a_chart_without_a_spike_is_rendered_as_dvc_gave_it(tmp_path: Path):
    steady = ([float(v) for v in range(40, 4, -3)], [float(v) + 1 for v in range(40, 4, -3)])
    spec = dvc_filled_curves({"batchnorm": steady})
    render_spec_figures({"batchnorm_loss": spec}, tmp_path)
    root = ET.parse(tmp_path / "batchnorm_loss.svg").getroot()
    assert texts_of(root, "role-title-subtitle") == []
    assert max(float(t) for t in texts_of(root, "role-axis-label") if t.replace(".", "").isdigit()) >= 40
