"""The review report: what changed between two revisions, whether it helped, and the notebook's answers.

    python -m dlpipe.report.review [--old main] [--new REV] [--out review] [--sweep PARAM]

Compares ``--old`` (default ``main``) with ``--new`` (a commit, branch, tag or experiment name;
default: the workspace) using DVC's own diffs (`dvc params diff`, `dvc metrics diff`,
`dvc plots diff`) and every seed's details, and writes ``OUT/report.md`` with PNG figures beside it:
the params that changed; the notebook's two questions answered for each revision that has the runs to
answer them; the metrics that changed, with verdicts that need measured noise (several seeds); DVC's own
charts of the top-level plots (each run's train and validation loss, both revisions), as images.
``--sweep PARAM`` adds min validation loss and overfitting gap against PARAM over the experiments that
vary it alone.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from dlpipe.core import environment
from dlpipe.core.errors import UserError, run_cli
from dlpipe.core.tool_output import check_output_folder, output_folder
from dlpipe.report import review_report
from dlpipe.report.dvc_specs import select_top_level, top_level_plot_ids
from dlpipe.report.plots_page import write_images
from dlpipe.report.rebuild import rebuild
from dlpipe.report.review_data import Side, gather
from dlpipe.sweep.results import load_sweep, section

TOOL = "review"


def rebuilt_here(side: Side, label: str) -> Side:
    """``side`` as rebuilt on this machine: relabelled, and where a revision older than the environment
    records left none, computed here (that much is known: it was just rebuilt here)."""
    backend = str(side.params.get("keras_backend", "jax"))
    environments = {
        stage: found or (environment.describe_here(backend) if backend in environment.PACKAGES else None)
        for stage, found in side.environments.items()
    }
    return dataclasses.replace(side, label=label, environments=environments)


def write_report(
    old: str,
    new: str | None,
    out: Path,
    sweep_param: str | None = None,
    cwd: Path = Path(),
    rebuild_old: bool = False,
) -> Path:
    """Write OUT/report.md and its figures; return the report's path. All or nothing; ``out`` must be a
    new or empty folder, or one holding only this tool's earlier report.

    ``rebuild_old``: compare ``new`` with ``old`` rebuilt on this machine (:mod:`dlpipe.report.rebuild`)
    rather than with the results committed in ``old``, which may come from another machine.
    """
    check_output_folder(out, TOOL)  # before the slow part
    review = gather(rebuild(old, cwd) if rebuild_old else old, new, cwd)
    if rebuild_old:
        review = dataclasses.replace(review, old=rebuilt_here(review.old, f"{old} (rebuilt here)"))
    if not review.old.summary and not review.new.summary:
        raise UserError(f"no metrics to compare between {old} and {review.new.label}; run `dvc repro` first")
    specs = select_top_level(review.plots, top_level_plot_ids(cwd / "dvc.yaml")).specs
    if rebuild_old and review.old.rev:
        # DVC names the rebuilt side by its commit, which lives only under refs/dlpipe/rebuilt: the charts
        # call it what the report does.
        specs = json.loads(json.dumps(specs).replace(review.old.rev, json.dumps(review.old.label)[1:-1]))
    found = load_sweep(sweep_param, review.new.params, cwd) if sweep_param else None
    with output_folder(out, TOOL) as tmp:
        figures = ["As `dvc plots diff` draws them:", ""]
        figures += [f"![{p.stem}]({p.name})" for p in write_images(specs, tmp) if p.suffix == ".png"]
        extra = section(found, tmp) if found is not None else []
        (tmp / "report.md").write_text(review_report.markdown(review, figures, extra), encoding="utf-8")
    return out / "report.md"


def main(argv: list[str] | None = None) -> None:
    """The command line; prints the report's path."""
    parser = argparse.ArgumentParser(prog="python -m dlpipe.report.review", description=__doc__.splitlines()[0])
    parser.add_argument("--old", default="main", help="base revision or experiment (default: main)")
    parser.add_argument("--new", default=None, help="revision or experiment to review (default: the workspace)")
    parser.add_argument("--out", default="review", type=Path, help="output folder (default: review)")
    parser.add_argument("--sweep", default=None, help="also plot the results against this param")
    parser.add_argument(
        "--rebuild-old",
        action="store_true",
        help="rebuild --old's pipeline on this machine (a temporary worktree sharing DVC's cache) and compare with "
        "that, not with its committed results, which another machine may have made",
    )
    args = parser.parse_args(argv)
    print(write_report(args.old, args.new, args.out, args.sweep, rebuild_old=args.rebuild_old))


if __name__ == "__main__":
    run_cli(TOOL, main)
