"""The offline plots page: DVC's specs (top-level plots only), the JavaScript inlined, written atomically."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import vl_convert

from dlpipe.core.errors import UserError
from dlpipe.report import plots_page
from dlpipe.report.dvc_specs import VEGA_LITE_SCHEMA, PlotSpecs, select_top_level, top_level_plot_ids
from dlpipe.report.plots_page import build_page, javascript_bundle, licence_notice, revision_label, write_page
from tests.helpers.vega_specs import V5, dvc_answer, line_spec

TITLE = "Loss curves: workspace vs main (abc1234)"


@pytest.fixture(scope="module")
def bundle() -> str:
    return javascript_bundle()  # ≈ 2 s: once for the module


@pytest.fixture(scope="module")
def page(bundle: str) -> str:
    specs = {"dropout_loss": line_spec("a </script><b>title"), "plots/x.csv": line_spec("b")}
    return build_page(specs, TITLE, "from `dvc plots diff main --json`", bundle, licence_notice())


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


def test_the_page_is_written_whole_and_other_files_are_kept(tmp_path: Path):
    out = tmp_path / "site"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    (out / "index.html").write_text("old page")
    assert write_page("<html>new</html>", out) == out / "index.html"
    assert (out / "index.html").read_text() == "<html>new</html>"
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "keep.txt"]  # no temporary left


def test_a_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def fail(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", fail)
    with pytest.raises(OSError, match="disk full"):
        write_page("<html></html>", tmp_path / "new" / "site")
    assert not (tmp_path / "new" / "site").exists()
    (tmp_path / "file").touch()
    with pytest.raises(UserError, match="is not a folder"):
        write_page("<html></html>", tmp_path / "file")


def test_make_page_titles_the_page_with_the_revisions_dvc_returned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    asked: list[str | None] = []

    def fake_load_specs(rev: str | None, repo: Path) -> PlotSpecs:
        asked.append(rev)
        return PlotSpecs({"dropout_loss": line_spec()}, ["workspace", "main"], ["main: b.csv: missing"])

    monkeypatch.setattr(plots_page, "load_specs", fake_load_specs)
    monkeypatch.setattr(plots_page, "revision_label", lambda rev, repo: "main (abc1234)" if rev == "main" else rev)
    monkeypatch.setattr(plots_page, "javascript_bundle", lambda: "window.vegaEmbed = () => {};")
    written = plots_page.make_page("main", tmp_path / "out")
    html = written.read_text()
    assert asked == ["main"] and written == tmp_path / "out" / "index.html"
    assert f"<title>{TITLE}</title>" in html and "dvc plots diff main --json" in html
    assert inline_specs(html) == [line_spec()]


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
