"""SVG and PNG figures of DVC's own Vega-Lite specs, rendered without a browser (vl-convert-python).

DVC draws no image of a Vega-Lite plot itself; these files are the same charts as `dvc plots show`
and the offline page, for places without JavaScript (reports, pull requests, papers).

python -m dlpipe.report.spec_figures --out figures              # the workspace's top-level plots
python -m dlpipe.report.spec_figures --rev main --out figures   # workspace vs main, as `dvc plots diff main`
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import vl_convert

from dlpipe.core.atomic import atomic_path
from dlpipe.core.errors import UserError, run_cli
from dlpipe.report.dvc_specs import as_vega_lite_v6, load_specs

# Twice the spec's pixel size: sharp on high-density screens and in printed reports.
PNG_SCALE = 2.0


def figure_stem(plot_id: str) -> str:
    """A file name (without suffix) for a plot id: ``plots/a.csv`` -> ``plots_a.csv``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", plot_id).strip("._") or "plot"


def _stems(plot_ids: list[str]) -> list[str]:
    stems = [figure_stem(plot_id) for plot_id in plot_ids]
    clashes = sorted({stem for stem in stems if stems.count(stem) > 1})
    if clashes:
        raise UserError(f"plot ids give the same file name: {', '.join(clashes)}")
    return stems


def _render(plot_id: str, spec: dict) -> tuple[str, bytes]:
    spec = as_vega_lite_v6(spec)
    try:
        return vl_convert.vegalite_to_svg(spec), vl_convert.vegalite_to_png(spec, scale=PNG_SCALE)
    except ValueError as exc:
        # vl-convert's message is a JavaScript stack trace; its first two lines say what went wrong.
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()][:2]
        raise UserError(f"{plot_id}: vl-convert could not render the spec: {' '.join(lines)}") from exc


def _write(path: Path, content: str | bytes) -> None:
    with atomic_path(path) as staged:
        if isinstance(content, bytes):
            staged.write_bytes(content)
        else:
            staged.write_text(content, encoding="utf-8")


def render_spec_figures(specs: dict[str, dict], out_dir: Path) -> list[Path]:
    """Render each Vega-Lite spec to ``out_dir/<id>.svg`` and ``out_dir/<id>.png``; return the paths written.

    ``specs`` maps a plot id to a Vega-Lite spec with its data inlined (the shape DVC prints, e.g.
    ``dlpipe.report.dvc_specs.load_specs(...).specs``). The id becomes the file name, characters other than
    letters, digits, ``.``, ``_`` and ``-`` replaced by ``_``. The PNG is at twice the spec's size.
    Every spec is rendered before anything is written, and each file is written to a temporary name
    and renamed, so a failure leaves no half-written figure. Paths come in the order of ``specs``:
    ``[a.svg, a.png, b.svg, b.png, ...]``. Raises UserError when there is no spec, two ids map to the
    same file name, or a spec cannot be rendered.
    """
    if not specs:
        raise UserError("no plots to render")
    stems = _stems(list(specs))
    rendered = [_render(plot_id, spec) for plot_id, spec in specs.items()]
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir} exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for stem, (svg, png) in zip(stems, rendered, strict=True):
        for path, content in ((out_dir / f"{stem}.svg", svg), (out_dir / f"{stem}.png", png)):
            _write(path, content)
            written.append(path)
    return written


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: ``[--rev REV] --out DIR``."""
    parser = argparse.ArgumentParser(prog="python -m dlpipe.report.spec_figures", description=__doc__.splitlines()[0])
    parser.add_argument("--rev", help="compare the workspace with this revision (default: the workspace alone)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the .svg and .png files")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Entry point: print the files written, one a line; one error line and exit 1 on bad input."""
    args = parse_args(argv)

    def work() -> None:
        for path in render_spec_figures(load_specs(args.rev).specs, args.out):
            print(path)

    run_cli("spec_figures", work)


if __name__ == "__main__":
    main()
