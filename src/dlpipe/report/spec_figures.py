"""SVG and PNG figures of DVC's own Vega-Lite specs, rendered without a browser (vl-convert-python).

DVC draws no image of a Vega-Lite plot itself; these files are the same charts as `dvc plots show`
and the offline page, for places without JavaScript (reports, pull requests, papers). A still image cannot
be zoomed: when the first epochs' spike would squeeze the curves, the y axis shows the later epochs (the
rule of the stages' own figures, :func:`dlpipe.train.figures.focus_range`) and the subtitle says what is
cut off.

python -m dlpipe.report.spec_figures --out figures              # the workspace's top-level plots
python -m dlpipe.report.spec_figures --rev main --out figures   # workspace vs main, as `dvc plots diff main`
"""

from __future__ import annotations

import argparse
import copy
import json
import re
from collections import defaultdict
from pathlib import Path

import vl_convert

from dlpipe.core.atomic import atomic_path
from dlpipe.core.errors import UserError, run_cli
from dlpipe.core.registry import RUNS, display_name
from dlpipe.report.dvc_specs import as_vega_lite_v6, load_specs
from dlpipe.train.figures import cut_off, focus_range

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


def _series(spec: dict) -> list[tuple[list[float], list[float]]]:
    """(epochs, values) of each line of a DVC plot of several files and fields (rows carry ``filename::field``
    and ``dvc_inferred_y_value``), and the edges of its ±std band when the rows have one."""
    lines: dict[tuple[str, str], list[tuple[float, float, float | None]]] = defaultdict(list)
    for row in (spec.get("data") or {}).get("values") or []:
        source, value = row.get("filename::field"), row.get("dvc_inferred_y_value")
        if source is None or value in (None, "") or row.get("epoch") in (None, ""):
            continue
        std = row.get(f"{source.split('::')[-1]}_std")
        lines[(row.get("rev", ""), source)].append((float(row["epoch"]), float(value), float(std) if std else None))
    series = []
    for points in lines.values():
        epochs = [e for e, _, _ in points]
        series.append((epochs, [v for _, v, _ in points]))
        if all(s is not None for _, _, s in points):
            series += [(epochs, [v - s for _, v, s in points]), (epochs, [v + s for _, v, s in points])]
    return series


def _y_encodings(spec: dict) -> list[dict]:
    found = [d for c, d in (spec.get("encoding") or {}).items() if c == "y" and isinstance(d, dict)]
    for inner in [*spec.get("layer", []), *([spec["spec"]] if isinstance(spec.get("spec"), dict) else [])]:
        found += _y_encodings(inner)
    return found


def _clip_marks(spec: dict) -> None:
    if "mark" in spec:
        spec["mark"] = {"type": spec["mark"]} if isinstance(spec["mark"], str) else spec["mark"]
        spec["mark"]["clip"] = True
    for inner in [*spec.get("layer", []), *([spec["spec"]] if isinstance(spec.get("spec"), dict) else [])]:
        _clip_marks(inner)


def focused(spec: dict) -> dict:
    """``spec`` with its y axis on the later epochs when the first ones' spike would squeeze the curves
    (:func:`dlpipe.train.figures.focus_range`), the marks clipped to it and the subtitle saying what is cut
    off; unchanged otherwise (a chart that is not a loss-curve plot of DVC's, or no spike)."""
    series = _series(spec)
    limits = focus_range(series) if series else None
    if limits is None:
        return spec
    spec = copy.deepcopy(spec)
    for encoding in _y_encodings(spec):
        encoding["scale"] = {**encoding.get("scale", {}), "domain": list(limits), "zero": False}
    _clip_marks(spec)
    title = spec.get("title")
    title = dict(title) if isinstance(title, dict) else {"text": title or ""}
    title["subtitle"] = cut_off(series, *limits) or ""
    spec["title"] = title
    return spec


def in_notebook_words(spec: dict) -> dict:
    """``spec`` with the panel of each run (a facet on the ``run`` field, as in the project's ``loss_curves``
    template) headed by its display name: ``Dropout`` for ``dropout``."""
    column = (spec.get("facet") or {}).get("column")
    if not isinstance(column, dict) or column.get("field") != "run":
        return spec
    names = ", ".join(f"{json.dumps(run)}: {json.dumps(display_name(run))}" for run in RUNS)
    header = {**column.get("header", {}), "labelExpr": f"({{{names}}})[datum.value] || datum.value"}
    return {**spec, "facet": {**spec["facet"], "column": {**column, "header": header}}}


def _render(plot_id: str, spec: dict) -> tuple[str, bytes]:
    spec = as_vega_lite_v6(in_notebook_words(focused(spec)))
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
