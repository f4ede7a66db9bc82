"""DVC's own charts of the loss curves without network: an offline page, and the same charts as images.

`dvc plots show` / `dvc plots diff` write a page that loads its JavaScript from a CDN, so it is blank
without network, and draw no image of a Vega-Lite plot. This asks DVC for the same specs as JSON
(top-level plots only) and writes, in one folder: ``index.html``, with the JavaScript bundle of the PyPI
package vl-convert-python inlined, so it works from a file with no network at all; and each chart as PNG
and SVG, rendered by vl-convert without a browser, for places without JavaScript (the review report,
pull requests). A still image cannot be zoomed: when the first epochs' spike would squeeze the curves,
its y axis shows the later epochs (the rule of the stages' own figures,
:func:`dlpipe.train.figures.focus_range`) and its subtitle says what is cut off.

python -m dlpipe.report.plots_page                    # workspace vs main     -> dvc_plots_offline/
python -m dlpipe.report.plots_page --rev HEAD~1       # workspace vs another revision
python -m dlpipe.report.plots_page --workspace-only   # the workspace alone
"""

from __future__ import annotations

import argparse
import html
import json
import re
import subprocess
import sys
from pathlib import Path
from string import Template

import vl_convert

from dlpipe.core.errors import UserError, run_cli
from dlpipe.core.tool_output import check_output_folder, output_folder
from dlpipe.report.dvc_specs import WORKSPACE, for_a_still_image, load_specs
from dlpipe.report.vega_bundle import NOTICE, javascript_bundle, licence_notice, vega_lite_version

TOOL = "plots_page"
DEFAULT_OUT = Path("dvc_plots_offline")
# Twice the spec's pixel size: sharp on high-density screens and in printed reports.
PNG_SCALE = 2.0

PAGE = Template("""\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<!--
$notice
-->
<style>
body { font-family: sans-serif; margin: 2em; }
.chart { margin: 0.5em 0 2em; }
.error { color: #b00000; white-space: pre-wrap; }
</style>
<script>
$javascript
</script>
</head>
<body>
<h1>$title</h1>
<p>$source</p>
<noscript><p class="error">This page draws its charts with JavaScript (inlined: no network needed).</p></noscript>
$sections
<script>
const specs = $specs;
// "Open in Vega Editor" would need the network: left out.
const options = {renderer: "svg", actions: {export: true, source: true, compiled: true, editor: false}};
Promise.all(specs.map((spec, i) => vegaEmbed("#chart-" + i, spec, options)))
  .then(() => { document.body.dataset.rendered = "ok"; })
  .catch((error) => {
    const message = document.createElement("pre");
    message.className = "error";
    message.textContent = "The charts could not be drawn: " + error;
    document.body.prepend(message);
    document.body.dataset.rendered = "error";
  });
</script>
</body>
</html>
""")


def _script_json(value: object) -> str:
    # "<" only occurs inside JSON strings, where \u003c means the same: no "</script>" can leak out.
    return json.dumps(value, ensure_ascii=True).replace("<", "\\u003c")


def build_page(specs: dict[str, dict], title: str, source: str, javascript: str, notice: str = "") -> str:
    """A standalone HTML page drawing each Vega-Lite spec in ``specs`` (plot id -> spec) with the SVG renderer.

    ``title`` is the page title and heading, ``source`` a line of plain text saying where the specs
    come from, ``javascript`` the inlined bundle that defines ``vegaEmbed`` (see :func:`javascript_bundle`),
    ``notice`` its licence text (a comment in the head). When the charts are drawn the page sets
    ``data-rendered="ok"`` on <body> (``"error"`` and a visible message if they could not be).
    """
    if not specs:
        raise UserError("no plots to put on the page")
    if "--" in notice:
        raise ValueError("an HTML comment cannot contain '--'")
    sections = "\n".join(
        f'<section><h2>{html.escape(plot_id)}</h2><div class="chart" id="chart-{i}"></div></section>'
        for i, plot_id in enumerate(specs)
    )
    return PAGE.substitute(
        title=html.escape(title),
        notice=notice,
        javascript=javascript,
        source=html.escape(source),
        sections=sections,
        specs=_script_json(list(specs.values())),
    )


def revision_label(rev: str, repo: Path = Path(".")) -> str:
    """``rev`` with its short commit id when it names one (``main (4f37dcc)``); ``workspace`` as is."""
    if rev == WORKSPACE:
        return rev
    command = ["git", "rev-parse", "--short", "--verify", "--quiet", f"{rev}^{{commit}}"]
    proc = subprocess.run(command, cwd=repo, capture_output=True, text=True, check=False)
    short = proc.stdout.strip() if proc.returncode == 0 else ""
    return f"{rev} ({short})" if short and not short.startswith(rev) else rev


def file_stems(plot_ids: list[str]) -> list[str]:
    """A file name (without suffix) for each plot id: ``plots/a.csv`` -> ``plots_a.csv``, characters other than
    letters, digits, ``.``, ``_`` and ``-`` replaced by ``_``; UserError when two ids give the same one."""
    stems = [re.sub(r"[^A-Za-z0-9._-]+", "_", plot_id).strip("._") or "plot" for plot_id in plot_ids]
    clashes = sorted({stem for stem in stems if stems.count(stem) > 1})
    if clashes:
        raise UserError(f"plot ids give the same file name: {', '.join(clashes)}")
    return stems


def _render(plot_id: str, spec: dict) -> tuple[str, bytes]:
    spec = for_a_still_image(spec)
    try:
        return vl_convert.vegalite_to_svg(spec), vl_convert.vegalite_to_png(spec, scale=PNG_SCALE)
    except ValueError as exc:
        # vl-convert's message is a JavaScript stack trace; its first two lines say what went wrong.
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()][:2]
        raise UserError(f"{plot_id}: vl-convert could not render the spec: {' '.join(lines)}") from exc


def write_images(specs: dict[str, dict], folder: Path) -> list[Path]:
    """Render each Vega-Lite spec (plot id -> spec, data inlined, as :func:`load_specs` gives them) as a still
    image to ``folder/<stem>.svg`` and ``.png`` (twice the spec's size; stems by :func:`file_stems`); return
    the paths, ``[a.svg, a.png, b.svg, ...]``. ``folder`` is being written by the caller
    (:func:`dlpipe.core.tool_output.output_folder`); a spec vl-convert cannot render is a UserError.
    """
    stems = file_stems(list(specs))
    rendered = [_render(plot_id, spec) for plot_id, spec in specs.items()]
    for stem, (svg, png) in zip(stems, rendered, strict=True):
        (folder / f"{stem}.svg").write_text(svg, encoding="utf-8")
        (folder / f"{stem}.png").write_bytes(png)
    return [folder / f"{stem}{suffix}" for stem in stems for suffix in (".svg", ".png")]


def older_page(out_dir: Path) -> frozenset[str]:
    """``{"index.html"}`` when ``out_dir`` holds a page that an older version of this tool wrote (it marked
    no folder, and wrote only that file), so that it may be replaced; else nothing."""
    try:
        with (out_dir / "index.html").open(encoding="utf-8", errors="replace") as page:
            head = page.read(4096)
    except OSError:
        return frozenset()
    return frozenset({"index.html"}) if NOTICE.template.split(" $", 1)[0] in head else frozenset()


def make_page(rev: str | None, out_dir: Path, repo: Path = Path(".")) -> list[Path]:
    """Ask DVC for the top-level plots (workspace vs ``rev``, or the workspace when None); write the page
    and the images in ``out_dir``; return the paths written, ``index.html`` first.

    ``out_dir`` is replaced whole, all or nothing, and only when it is new, empty or holds nothing but this
    tool's earlier output (:mod:`dlpipe.core.tool_output`): a failure leaves it as it was.
    """
    earlier = older_page(out_dir)
    check_output_folder(out_dir, TOOL, earlier)  # before asking DVC
    found = load_specs(rev, repo)
    for warning in found.warnings:
        print(f"{TOOL}: warning: {warning}", file=sys.stderr)
    title = "Loss curves: " + " vs ".join(revision_label(r, repo) for r in found.revisions)
    command = "dvc plots show --json" if rev is None else f"dvc plots diff {rev} --json"
    source = (
        f"Top-level plots of dvc.yaml, as `{command}` gives them. vega {vl_convert.get_vega_version()}, "
        f"vega-lite {vega_lite_version()} and vega-embed {vl_convert.get_vega_embed_version()} are inlined: "
        "this page needs no network."
    )
    page = build_page(found.specs, title, source, javascript_bundle(), licence_notice())
    with output_folder(out_dir, TOOL, earlier) as tmp:
        (tmp / "index.html").write_text(page, encoding="utf-8")
        images = write_images(found.specs, tmp)
    return [out_dir / "index.html", *(out_dir / p.name for p in images)]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: ``[--rev REV | --workspace-only] [--out DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m dlpipe.report.plots_page", description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--rev", default="main", help="revision to compare the workspace with (default: main)")
    which.add_argument("--workspace-only", action="store_true", help="the workspace alone, no comparison")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Entry point: print the page's path (the images are beside it); one error line and exit 1 on bad input
    (unknown revision, no plots, an --out holding other files)."""
    args = parse_args(argv)

    def work() -> None:
        print(make_page(None if args.workspace_only else args.rev, args.out)[0])

    run_cli(TOOL, work)


if __name__ == "__main__":
    main()
