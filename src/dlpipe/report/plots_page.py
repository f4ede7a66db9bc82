"""An offline page of the loss curves: DVC's own Vega-Lite specs, with vega, vega-lite and vega-embed inlined.

`dvc plots show` / `dvc plots diff` write a page that loads its JavaScript from a CDN, so it is blank
without network. This page holds the same specs (asked from DVC as JSON, top-level plots only) and the
JavaScript bundle of the PyPI package vl-convert-python, so it works from a file with no network at all.

python -m dlpipe.report.plots_page                    # workspace vs main     -> dvc_plots_offline/index.html
python -m dlpipe.report.plots_page --rev HEAD~1       # workspace vs another revision
python -m dlpipe.report.plots_page --workspace-only   # the workspace alone
"""

from __future__ import annotations

import argparse
import html
import json
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from string import Template

import vl_convert

from dlpipe.core.atomic import atomic_path
from dlpipe.core.errors import UserError, run_cli
from dlpipe.report.dvc_specs import WORKSPACE, load_specs

DEFAULT_OUT = Path("dvc_plots_offline")

# BSD-3-Clause asks that redistributed binaries carry the notice; the page is what gets passed around.
NOTICE = Template("""\
JavaScript inlined below: the bundle of vl-convert-python $vl_convert (BSD-3-Clause, Copyright 2023
Jon Mease), made of vega $vega (BSD-3-Clause, Copyright (c) 2013, Trifacta Inc.; University of
Washington Interactive Data Lab), vega-lite $vega_lite (BSD-3-Clause, Copyright (c) 2015, University
of Washington Interactive Data Lab), vega-embed $vega_embed (BSD-3-Clause, University of Washington
Interactive Data Lab) and their dependencies (d3 modules and others, under ISC, MIT or BSD licences;
list in LICENSES/vega.md of the dlpipe repository). The BSD-3-Clause terms:

Redistribution and use in source and binary forms, with or without modification, are permitted provided
that the following conditions are met: 1. Redistributions of source code must retain the above copyright
notice, this list of conditions and the following disclaimer. 2. Redistributions in binary form must
reproduce the above copyright notice, this list of conditions and the following disclaimer in the
documentation and/or other materials provided with the distribution. 3. Neither the name of the copyright
holder nor the names of its contributors may be used to endorse or promote products derived from this
software without specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY EXPRESS OR IMPLIED
WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A
PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE FOR
ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED
TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION)
HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING
NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE
POSSIBILITY OF SUCH DAMAGE.""")

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


def vega_lite_version() -> str:
    """The newest Vega-Lite that vl-convert bundles (``major.minor``): the one the page loads."""
    return vl_convert.get_vegalite_versions()[-1]


def licence_notice() -> str:
    """Who wrote the inlined JavaScript, its versions and licence terms (for a comment in the page)."""
    return NOTICE.substitute(
        vl_convert=version("vl-convert-python"),
        vega=vl_convert.get_vega_version(),
        vega_lite=vega_lite_version(),
        vega_embed=vl_convert.get_vega_embed_version(),
    )


def javascript_bundle() -> str:
    """vega, vega-lite and vega-embed as one script that defines ``vegaEmbed`` (≈ 900 KB, ≈ 2 s)."""
    bundle = vl_convert.javascript_bundle(vl_version=vega_lite_version())
    # Inside <script>, "</script" would end the element early and "<!--" changes how it is parsed.
    if "</script" in bundle.lower() or "<!--" in bundle:
        raise UserError("vl-convert's JavaScript bundle cannot be inlined in a <script> element")
    return bundle


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
    proc = subprocess.run(
        ["git", "rev-parse", "--short", "--verify", "--quiet", f"{rev}^{{commit}}"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    short = proc.stdout.strip() if proc.returncode == 0 else ""
    return f"{rev} ({short})" if short and not short.startswith(rev) else rev


def page_title(labels: list[str]) -> str:
    """The title and heading: which revisions the page compares."""
    return "Loss curves: " + " vs ".join(labels)


def write_page(page: str, out_dir: Path) -> Path:
    """Write ``page`` to ``out_dir/index.html`` through a temporary file; return that path.

    Only index.html is replaced, never the folder: ``--out`` may point at a folder holding other files.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir} exists and is not a folder")
    created = not out_dir.exists()
    target = out_dir / "index.html"
    try:
        with atomic_path(target) as staged:
            staged.write_text(page, encoding="utf-8")
    except BaseException:
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    return target


def make_page(rev: str | None, out_dir: Path, repo: Path = Path(".")) -> Path:
    """Ask DVC for the top-level plots (workspace vs ``rev``, or the workspace when None), write the page.

    Everything is gathered before anything is written, so a failure leaves ``out_dir`` as it was.
    """
    found = load_specs(rev, repo)
    for warning in found.warnings:
        print(f"plots_page: warning: {warning}", file=sys.stderr)
    title = page_title([revision_label(r, repo) for r in found.revisions])
    command = "dvc plots show --json" if rev is None else f"dvc plots diff {rev} --json"
    source = (
        f"Top-level plots of dvc.yaml, as `{command}` gives them. vega {vl_convert.get_vega_version()}, "
        f"vega-lite {vega_lite_version()} and vega-embed {vl_convert.get_vega_embed_version()} are inlined: "
        "this page needs no network."
    )
    page = build_page(found.specs, title, source, javascript_bundle(), licence_notice())
    return write_page(page, out_dir)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: ``[--rev REV | --workspace-only] [--out DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m dlpipe.report.plots_page", description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--rev", default="main", help="revision to compare the workspace with (default: main)")
    which.add_argument("--workspace-only", action="store_true", help="the workspace alone, no comparison")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"folder for index.html (default: {DEFAULT_OUT})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Entry point: one error line and exit 1 on bad input (unknown revision, no plots)."""
    args = parse_args(argv)

    def work() -> None:
        written = make_page(None if args.workspace_only else args.rev, args.out)
        print(written)

    run_cli("plots_page", work)


if __name__ == "__main__":
    main()
