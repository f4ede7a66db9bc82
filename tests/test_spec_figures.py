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
