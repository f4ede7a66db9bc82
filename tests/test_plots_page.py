"""DVC's charts without network: the offline page (DVC's specs, top-level plots only, the JavaScript inlined)
and the same charts as SVG and PNG images that show what the spec says, all in one folder written whole."""

from __future__ import annotations

import dataclasses
import json
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import vl_convert

from dlpipe.core.errors import UserError
from dlpipe.core.tool_output import MARKER
from dlpipe.report import plots_page
from dlpipe.report.dvc_specs import VEGA_LITE_SCHEMA, PlotSpecs, select_top_level, top_level_plot_ids
from dlpipe.report.plots_page import PNG_SCALE, build_page, file_stems, revision_label, write_images
from dlpipe.report.vega_bundle import javascript_bundle, licence_notice
from tests.helpers.vega_specs import V5, dvc_answer, line_spec

TITLE = "Loss curves: workspace vs main (abc1234)"
SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def bundle() -> str:
    return javascript_bundle()  # ≈ 2 s: once for the module


@pytest.fixture(scope="module")
def page(bundle: str) -> str:
    specs = {"dropout_loss": line_spec("a </script><b>title"), "plots/x.csv": line_spec("b")}
    return build_page(specs, TITLE, "from `dvc plots diff main --json`", bundle, licence_notice())


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


def inline_specs(page: str) -> list[dict]:
    return json.loads(re.search(r"^const specs = (.*);$", page, re.MULTILINE).group(1))


def test_the_javascript_is_inlined_and_nothing_is_loaded(page: str, bundle: str):
    assert bundle in page and "window.vegaEmbed=" in bundle
    # Exactly two scripts, both inline: the bundle and the one that draws.
    assert re.findall(r"<script\b[^>]*>", page, re.IGNORECASE) == ["<script>", "<script>"]
    assert page.lower().count("</script>") == 2
    # Outside the bundle (whose strings build <img> elements for the PNG export) nothing refers to a resource.
    outside = page.replace(bundle, "")
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=", outside, re.IGNORECASE)
    assert "http" not in re.sub(r'"\$schema": "[^"]*"', "", outside)  # a $schema URL is a name, never fetched
    assert 'renderer: "svg"' in page and "editor: false" in page  # no "Open in Vega Editor": it needs the network


def test_title_and_heading_name_the_revisions(page: str):
    assert f"<title>{TITLE}</title>" in page
    assert f"<h1>{TITLE}</h1>" in page
    assert "<h2>dropout_loss</h2>" in page and "<h2>plots/x.csv</h2>" in page
    assert page.count('class="chart"') == 2 and 'id="chart-0"' in page and 'id="chart-1"' in page


def test_the_specs_are_inlined_unchanged_and_cannot_close_the_script(page: str):
    specs = inline_specs(page)
    assert [s["title"] for s in specs] == ["a </script><b>title", "b"]
    assert specs[1] == line_spec("b")
    assert "</script><b>" not in page and "\\u003c/script>" in page


def test_text_is_escaped(bundle: str):
    html = build_page({"<i>id</i>": line_spec()}, "a <b> & c", "x < y", bundle)
    assert "<title>a &lt;b&gt; &amp; c</title>" in html and "<h2>&lt;i&gt;id&lt;/i&gt;</h2>" in html
    assert "<p>x &lt; y</p>" in html


def test_the_licence_notice_names_each_library_and_version(page: str):
    notice = licence_notice()
    assert notice in page and "--" not in notice
    for name, ver in (
        ("vega", vl_convert.get_vega_version()),
        ("vega-lite", vl_convert.get_vegalite_versions()[-1]),
        ("vega-embed", vl_convert.get_vega_embed_version()),
    ):
        assert f"{name} {ver} (BSD-3-Clause" in notice
    words = " ".join(notice.split())
    assert "Copyright 2023 Jon Mease" in words and "University of Washington Interactive Data Lab" in words
    assert "THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS" in words


def test_the_schema_matches_the_bundled_vega_lite():
    # vega-embed warns when a spec's major version differs from the one it runs.
    major = vl_convert.get_vegalite_versions()[-1].split(".")[0]
    assert f"https://vega.github.io/schema/vega-lite/v{major}.json" == VEGA_LITE_SCHEMA


def test_no_plots_is_an_error(bundle: str):
    with pytest.raises(UserError, match="no plots"):
        build_page({}, TITLE, "", bundle)


def test_only_top_level_plots_are_kept_with_the_v6_schema():
    answer = dvc_answer({"dropout_loss": ["workspace", "main"], "batchnorm_loss": ["workspace", "main"]})
    answer["errors"] = [
        {"name": "batchnorm_loss", "rev": "main", "source": "b.csv", "msg": "No such file"},
        {"name": "plots/a.csv", "rev": "main", "source": "plots/a.csv", "msg": "stage-level: ignored"},
    ]
    found = select_top_level(answer, ["dropout_loss", "batchnorm_loss"])
    assert list(found.specs) == ["dropout_loss", "batchnorm_loss"]
    assert found.revisions == ["workspace", "main"]
    assert all(spec["$schema"] == VEGA_LITE_SCHEMA for spec in found.specs.values())
    assert found.specs["dropout_loss"]["data"] == line_spec()["data"]
    assert found.warnings == ["main: b.csv: No such file"]
    assert answer["data"]["dropout_loss"][0]["content"]["$schema"] == V5  # DVC's answer is not modified


def test_no_data_for_any_top_level_plot_is_one_clear_error():
    answer = dvc_answer({"dropout_loss": ["workspace"]})
    answer["data"]["dropout_loss"] = []
    answer["errors"] = [{"name": "dropout_loss", "rev": "workspace", "source": "d.csv", "msg": "No such file"}]
    with pytest.raises(UserError, match=r"no data for the top-level plots dropout_loss: workspace: d.csv: No such"):
        select_top_level(answer, ["dropout_loss"])
    with pytest.raises(UserError, match="run `dvc repro`"):
        select_top_level(dvc_answer({}), ["dropout_loss"])


def test_top_level_plot_ids_are_read_from_dvc_yaml(tmp_path: Path):
    dvc_yaml = tmp_path / "dvc.yaml"
    dvc_yaml.write_text("stages: {}\nplots:\n  - a_loss:\n      x: epoch\n  - plots/b.csv\n  - c_loss:\n      y: v\n")
    assert top_level_plot_ids(dvc_yaml) == ["a_loss", "plots/b.csv", "c_loss"]
    dvc_yaml.write_text("stages:\n  s:\n    cmd: x\n    plots: [p.csv]\n")
    with pytest.raises(UserError, match="declares no top-level plots"):
        top_level_plot_ids(dvc_yaml)
    with pytest.raises(UserError, match=r"no dvc\.yaml in .*: run this from the repository root"):
        top_level_plot_ids(tmp_path / "elsewhere" / "dvc.yaml")


@dataclasses.dataclass
class FakeDvc:
    """What make_page asks DVC, and the top-level plots DVC answers with."""

    asked: list[str | None] = dataclasses.field(default_factory=list)
    plots: list[str] = dataclasses.field(default_factory=lambda: ["dropout_loss", "batchnorm_loss"])


@pytest.fixture
def fake_dvc(monkeypatch: pytest.MonkeyPatch) -> FakeDvc:
    """make_page with DVC's answer made up, a stub JavaScript bundle, and no git."""
    dvc = FakeDvc()

    def fake_load_specs(rev: str | None, repo: Path) -> PlotSpecs:
        dvc.asked.append(rev)
        return PlotSpecs({plot_id: line_spec(plot_id) for plot_id in dvc.plots}, ["workspace", "main"], ["main: x"])

    monkeypatch.setattr(plots_page, "load_specs", fake_load_specs)
    monkeypatch.setattr(plots_page, "revision_label", lambda rev, repo: "main (abc1234)" if rev == "main" else rev)
    monkeypatch.setattr(plots_page, "javascript_bundle", lambda: "window.vegaEmbed = () => {};")
    return dvc


def test_make_page_writes_the_page_and_each_charts_images_titled_with_dvcs_revisions(tmp_path: Path, fake_dvc):
    out = tmp_path / "out"
    written = plots_page.make_page("main", out)
    assert fake_dvc.asked == ["main"]
    names = ["index.html", "dropout_loss.svg", "dropout_loss.png", "batchnorm_loss.svg", "batchnorm_loss.png"]
    assert written == [out / name for name in names]
    assert sorted(p.name for p in out.iterdir()) == sorted([*names, MARKER])  # nothing else, no temporary
    html = (out / "index.html").read_text()
    assert f"<title>{TITLE}</title>" in html and "dvc plots diff main --json" in html
    assert inline_specs(html) == [line_spec("dropout_loss"), line_spec("batchnorm_loss")]
    assert texts_of(ET.parse(out / "batchnorm_loss.svg").getroot(), "role-title-text") == ["batchnorm_loss"]


def test_make_page_replaces_its_own_output_whole_and_nothing_else(tmp_path: Path, fake_dvc):
    out = tmp_path / "out"
    plots_page.make_page("main", out)
    fake_dvc.plots.remove("batchnorm_loss")  # a plot gone from dvc.yaml: its images go with the old output
    plots_page.make_page("main", out)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [MARKER, "index.html", "dropout_loss.png", "dropout_loss.svg"]
    )

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match=r"--out .*mine holds files plots_page did not write \(notes\.txt\)"):
        plots_page.make_page("main", mine)
    assert fake_dvc.asked == ["main", "main"]  # refused before DVC is asked
    assert [p.name for p in mine.iterdir()] == ["notes.txt"] and (mine / "notes.txt").read_text() == "mine"


def test_a_page_an_older_version_wrote_without_a_marker_is_replaced_and_nothing_else(tmp_path: Path, fake_dvc):
    # Before it marked its folder, the tool wrote only index.html into dvc_plots_offline/.
    older = tmp_path / "older"
    older.mkdir()
    notice = licence_notice()
    (older / "index.html").write_text(f"<!doctype html>\n<html><head><!--\n{notice}\n-->", encoding="utf-8")
    plots_page.make_page("main", older)
    assert (older / MARKER).is_file() and "dvc plots diff main --json" in (older / "index.html").read_text()

    # A page with anything beside it, or an index.html of someone else's, is still refused.
    cases = {"beside": {"index.html": notice, "notes.txt": "mine"}, "other": {"index.html": "<html>"}}
    for name, files in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        for file, text in files.items():
            (folder / file).write_text(text, encoding="utf-8")
        with pytest.raises(UserError, match="holds files plots_page did not write"):
            plots_page.make_page("main", folder)
        assert {p.name: p.read_text() for p in folder.iterdir()} == files


def test_a_chart_that_cannot_be_rendered_leaves_the_folder_as_it_was(tmp_path: Path, fake_dvc, monkeypatch):
    out = tmp_path / "out"
    plots_page.make_page("main", out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    broken = PlotSpecs({"good": line_spec(), "broken": {**line_spec(), "mark": "no-such-mark"}}, ["workspace"])
    monkeypatch.setattr(plots_page, "load_specs", lambda rev, repo: broken)
    with pytest.raises(UserError) as error:
        plots_page.make_page(None, out)
    assert str(error.value).startswith("broken: vl-convert could not render the spec:")
    assert "\n" not in str(error.value)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staged folder left


def test_revision_labels_carry_the_short_commit(tmp_path: Path):
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "x"], cwd=tmp_path, check=True)
    short = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=tmp_path, check=True, capture_output=True, text=True
    ).stdout.strip()
    assert revision_label("main", tmp_path) == f"main ({short})"
    assert revision_label(short, tmp_path) == short
    assert revision_label("workspace", tmp_path) == "workspace"
    assert revision_label("no-such-branch", tmp_path) == "no-such-branch"


def test_cli_bad_input_is_one_line_exit_1_and_no_output(tmp_path: Path):
    proc = subprocess.run(
        [sys.executable, "-m", "dlpipe.report.plots_page", "--out", "site"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"plots_page: error: no dvc.yaml in {tmp_path.resolve()}: run this from the repository root"
    ]
    assert not (tmp_path / "site").exists()


def test_cli_options_are_exclusive(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exit_info:
        plots_page.parse_args(["--rev", "HEAD", "--workspace-only"])
    assert exit_info.value.code == 2 and "not allowed with" in capsys.readouterr().err
    args = plots_page.parse_args([])
    assert (args.rev, args.workspace_only, args.out) == ("main", False, Path("dvc_plots_offline"))


# The still images.


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("figures")
    specs = {
        "dropout_loss": line_spec("Dropout: loss curves"),
        "plots/train/three.csv": line_spec("three lines", ("a", "b", "c")),
    }
    return out, write_images(specs, out)


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


def test_ids_that_give_the_same_file_name_are_an_error_before_anything_is_drawn(tmp_path: Path):
    with pytest.raises(UserError, match="same file name: a_b"):
        write_images({"a/b": line_spec(), "a b": line_spec()}, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("plot_id", "stem"),
    [
        ("dropout_loss", "dropout_loss"),
        ("plots/train_dropout/dropout.csv", "plots_train_dropout_dropout.csv"),
        ("../x", "x"),
        ("///", "plot"),
    ],
)
def test_file_stems_are_safe_file_names(plot_id: str, stem: str):
    assert file_stems([plot_id]) == [stem]


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
    write_images({"dropout_loss": spec}, tmp_path)
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
    write_images({"batchnorm_loss": spec}, tmp_path)
    root = ET.parse(tmp_path / "batchnorm_loss.svg").getroot()
    assert texts_of(root, "role-title-subtitle") == []
    assert max(float(t) for t in texts_of(root, "role-axis-label") if t.replace(".", "").isdigit()) >= 40
