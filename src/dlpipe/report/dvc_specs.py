"""The Vega-Lite specs of the top-level plots in dvc.yaml, exactly as DVC builds them, and what a still image
of one changes.

DVC does the work (template, data of every revision, one colour per revision); we only ask it for
the result as JSON (`dvc plots diff REV --json`, or `dvc plots show --json` for the workspace alone)
and keep the plots declared under the top-level ``plots:`` of dvc.yaml, because DVC also renders
every stage-level plot file (each CSV on its own, the PNGs) and those do not belong on our pages.
A still image cannot be zoomed: :func:`for_a_still_image` focuses its y axis as the stages' own figures do
and heads each run's panel in the notebook's words.
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dlpipe.core.dvc_cli import WORKSPACE, dvc_json
from dlpipe.core.errors import UserError
from dlpipe.core.registry import RUNS, display_name
from dlpipe.train.figures import cut_off, focus_range

# DVC's templates declare Vega-Lite v5; vl-convert bundles Vega-Lite 6, and vega-embed logs a version
# warning for a v5 spec. The templates use nothing that changed between the two.
VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"


@dataclass(frozen=True)
class PlotSpecs:
    """What DVC rendered for the top-level plots.

    ``specs`` maps each plot id (dvc.yaml order) to its Vega-Lite spec, data inlined, ``$schema`` v6;
    ``revisions`` are the revisions that have data, in DVC's order (``workspace`` first);
    ``warnings`` are DVC's per-file errors for these plots (a file missing in one revision).
    """

    specs: dict[str, dict]
    revisions: list[str]
    warnings: list[str] = field(default_factory=list)


def top_level_plot_ids(dvc_yaml: Path) -> list[str]:
    """The ids of the plots under the top-level ``plots:`` of ``dvc_yaml``, in file order."""
    if not dvc_yaml.is_file():
        raise UserError(f"no {dvc_yaml.name} in {dvc_yaml.parent.resolve()}: run this from the repository root")
    try:
        document = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"{dvc_yaml} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    entries = (document.get("plots") or []) if isinstance(document, dict) else []
    if not isinstance(entries, list):
        raise UserError(f"{dvc_yaml}: the top-level `plots:` must be a list")
    # An entry is a bare file path (the path is its id) or a one-key mapping {id: definition}.
    ids = [str(key) for entry in entries for key in ([entry] if isinstance(entry, str) else entry)]
    if not ids:
        raise UserError(f"{dvc_yaml} declares no top-level plots")
    return ids


def run_dvc_plots(rev: str | None, repo: Path) -> dict:
    """DVC's JSON answer in ``repo``: `dvc plots diff REV --json`, or `dvc plots show --json` for the
    workspace alone; a failure (unknown revision, ...) is a UserError."""
    if rev is not None and (not rev or rev.startswith("-")):
        raise UserError(f"{rev!r} is not a revision")
    answer = dvc_json("plots", "show", cwd=repo) if rev is None else dvc_json("plots", "diff", rev, cwd=repo)
    if not isinstance(answer, dict):
        raise UserError(f"`dvc plots` printed unexpected JSON (a {type(answer).__name__})")
    return answer


def as_vega_lite_v6(spec: dict) -> dict:
    """A shallow copy of ``spec`` with the Vega-Lite v6 ``$schema`` (the version vl-convert bundles)."""
    return {**spec, "$schema": VEGA_LITE_SCHEMA}


def _vega_entry(entries: list[dict]) -> dict | None:
    # DVC gives one "vega" entry per plot holding every revision (images get one entry per revision).
    for entry in entries:
        if entry.get("type") == "vega" and entry.get("content", {}).get("data", {}).get("values"):
            return entry
    return None


def select_top_level(answer: dict, ids: list[str]) -> PlotSpecs:
    """Keep the plots ``ids`` from DVC's JSON ``answer``; raise UserError when none of them has data."""
    plots = answer.get("data") or {}
    errors = [e for e in answer.get("errors") or [] if e.get("name") in ids]
    warnings = [f"{e.get('rev')}: {e.get('source') or e.get('name')}: {e.get('msg')}" for e in errors]
    specs: dict[str, dict] = {}
    revisions: list[str] = []
    for plot_id in ids:
        entry = _vega_entry(plots.get(plot_id) or [])
        if entry is None:
            continue
        specs[plot_id] = as_vega_lite_v6(entry["content"])
        revisions.extend(rev for rev in entry.get("revisions", []) if rev not in revisions)
    if not specs:
        why = warnings[0] if warnings else "their files are missing or empty (run `dvc repro`?)"
        raise UserError(f"no data for the top-level plots {', '.join(ids)}: {why}")
    return PlotSpecs(specs, revisions, warnings)


def load_specs(rev: str | None = None, repo: Path = Path(".")) -> PlotSpecs:
    """The top-level plots of ``repo/dvc.yaml`` as DVC renders them: the workspace against ``rev``
    (as `dvc plots diff REV`), or the workspace alone when ``rev`` is None (as `dvc plots show`).

    Raises UserError when DVC fails (unknown revision, broken dvc.yaml), when dvc.yaml declares no
    top-level plot, or when the workspace or ``rev`` has data for none of them.
    """
    ids = top_level_plot_ids(repo / "dvc.yaml")
    found = select_top_level(run_dvc_plots(rev, repo), ids)
    for wanted in [WORKSPACE] if rev is None else [WORKSPACE, rev]:
        if wanted not in found.revisions:
            why = next((w for w in found.warnings if w.startswith(f"{wanted}:")), "its plot files are missing or empty")
            raise UserError(f"{wanted} has no data for the top-level plots {', '.join(ids)}: {why}")
    return found


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


def for_a_still_image(spec: dict) -> dict:
    """``spec`` as a still image shows it: :func:`focused`, :func:`in_notebook_words`, Vega-Lite v6."""
    return as_vega_lite_v6(in_notebook_words(focused(spec)))
