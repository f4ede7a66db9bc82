"""The Vega-Lite specs of the top-level plots in dvc.yaml, exactly as DVC builds them.

DVC does the work (template, data of every revision, one colour per revision); we only ask it for
the result as JSON (`dvc plots diff REV --json`, or `dvc plots show --json` for the workspace alone)
and keep the plots declared under the top-level ``plots:`` of dvc.yaml, because DVC also renders
every stage-level plot file (each CSV on its own, the PNGs) and those do not belong on our pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dlpipe.core.errors import UserError
from dlpipe.report.dvc_cli import WORKSPACE, dvc_json

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
