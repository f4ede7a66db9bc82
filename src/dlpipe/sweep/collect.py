"""Collect a sweep that ran on many machines: pull its experiments and write the sweep's report.

    python -m dlpipe.sweep.collect --sweep NAME [--grid 'dropout=0.0,0.1' [--seeds 0,1,2]] [--param dropout]
                                   [--remote origin] [--out review]

Pulls from the git remote every experiment of sweep NAME based on this commit (`dvc exp pull --no-cache`:
the metrics and curves are in git, so no DVC remote or credentials are needed and nothing is rerun),
then writes OUT/report.md with min validation loss and overfitting gap against the swept param (a figure
and a table, mean ± std when the points ran several seeds) and OUT/sweep.json with every point's metrics.
With ``--grid`` (the workers' grid) the points that have no experiment on the remote are listed as
missing (their worker failed or has not pushed yet), and a report is written even if all are missing.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from dlpipe.core.dvc_cli import dvc_json, experiment_refs, git, param_changes, params_at, run_dvc
from dlpipe.core.errors import UserError, run_cli
from dlpipe.core.tool_output import check_output_folder, output_folder
from dlpipe.display import render
from dlpipe.sweep.grid import check_sweep_name, expand, experiment_name, parse_point, swept_params
from dlpipe.sweep.results import Found, experiments, section, select

TOOL = "sweep_collect"


def reference(param: str, found: Sequence[Found]) -> dict[str, Any]:
    """The params the sweep holds fixed: those of its most common combination of everything but
    ``param`` (the points of a one-param sweep all share it; ``seeds`` included), the first found on a tie."""
    counts = Counter(_others(param, params) for _, params, _ in found)
    return max((params for _, params, _ in found), key=lambda params: counts[_others(param, params)], default={})


def _others(param: str, params: Mapping[str, Any]) -> str:
    return json.dumps({k: v for k, v in params.items() if k != param}, sort_keys=True, default=str)


def markdown(
    name: str, origin: str, fixed: Sequence[tuple[str, Any, Any]], results: Sequence[str], missing: Mapping[str, str]
) -> str:
    """The report: where the points come from, the params every point sets, the sweep's ``results`` (its
    section: figure and table), then the missing points."""
    lines = [f"# Sweep `{name}`", "", origin]
    if fixed:
        sets = (f"`{k}` = {render.param_value(new)} (commit: {render.param_value(old)})" for k, old, new in fixed)
        lines.append(f"Every point also sets {', '.join(sets)}.")
    lines += ["", *results]
    if missing:
        lines += ["", "## Missing points", ""]
        for exp, point in missing.items():
            lines.append(f"- `{point}`: no experiment `{exp}` (its worker failed or has not pushed yet)")
    return "\n".join(lines) + "\n"


def collect(
    name: str,
    param: str | None = None,
    grid: str | None = None,
    seeds: str = "",
    remote: str = "origin",
    out: Path = Path("review"),
    cwd: Path = Path(),
) -> Path:
    """Pull the sweep's experiments from ``remote`` and write OUT/report.md and OUT/sweep.json; return the report.
    ``out`` must be a new or empty folder, or one holding only this tool's earlier report."""
    check_sweep_name(name)
    check_output_folder(cwd / out, TOOL)  # before pulling anything
    points = expand(grid, seeds) if grid is not None else []
    expected = {experiment_name(name, parse_point(p)): " ".join(p) for p in points}
    if param is None:
        varying = swept_params(points)
        if len(varying) != 1:
            raise UserError("say which param to draw the results against: --param KEY")
        param = varying[0]
    head = git("rev-parse", "--short", "HEAD", cwd=cwd).strip()
    # With a grid, its points; without, every experiment named after the sweep.
    refs = experiment_refs(remote, cwd)
    shared = sorted(n for n in refs if (n in expected if grid is not None else n.startswith(f"{name}-")))
    if not shared and grid is None:
        raise UserError(f"no experiment of sweep {name} on {remote} for commit {head}; have its workers run?")
    found: list[Found] = []
    if shared:
        # Refs only: metrics, params and curves are in git. -f: the remote's copy is the one to report.
        run_dvc("exp", "pull", "--no-cache", "--force", remote, *shared, cwd=cwd)
        found = [e for e in experiments(dvc_json("exp", "show", cwd=cwd)) if e[0] in shared]
    missing = {n: p for n, p in expected.items() if n not in shared}
    base = reference(param, found)
    result = select(param, base, found)
    fixed = [c for c in param_changes(params_at("HEAD", cwd), base) if c[0] != param] if found else []
    with output_folder(cwd / out, TOOL) as tmp:
        origin = f"{len(shared)} experiment(s) of this sweep on `{remote}`, based on commit `{head}`."
        text = markdown(name, origin, fixed, section(result, tmp), missing)
        (tmp / "report.md").write_text(text, encoding="utf-8")
        data = {"sweep": name, "param": param, "commit": head, "remote": remote, "experiments": shared}
        data |= {"points": [asdict(p) for p in result.points], "missing": missing, "ignored": result.ignored}
        data["ambiguous"] = {str(v): names for v, names in result.ambiguous.items()}
        (tmp / "sweep.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return out / "report.md"


def main(argv: list[str] | None = None) -> None:
    """The command line; prints the report's path."""
    parser = argparse.ArgumentParser(prog="python -m dlpipe.sweep.collect", description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", required=True, help="the sweep's name, as given to the workers")
    parser.add_argument("--grid", help="the workers' grid: its points without an experiment are reported missing")
    parser.add_argument("--seeds", default="", help="the workers' --seeds")
    parser.add_argument("--param", help="param to draw the results against (default: the one the grid varies)")
    parser.add_argument("--remote", default="origin", help="git remote the workers pushed to (default: origin)")
    parser.add_argument("--out", default="review", type=Path, help="output folder (default: review)")
    args = parser.parse_args(argv)
    print(collect(args.sweep, args.param, args.grid, args.seeds, args.remote, args.out))


if __name__ == "__main__":
    run_cli(TOOL, main)
