"""The review report: what changed between two revisions, whether it helped, and the notebook's answers.

    python -m dlpipe.report.review [--old main] [--new REV] [--out review] [--sweep PARAM]

Compares ``--old`` (default ``main``) with ``--new`` (a commit, branch, tag or experiment name;
default: the workspace) using DVC's own diffs (`dvc params diff`, `dvc metrics diff`,
`dvc plots diff`) and every seed's details, and writes ``OUT/report.md`` with PNG figures beside it:
the params that changed; the notebook's two questions answered for each revision that has the runs to
answer them; the metrics that changed, with verdicts that need measured noise (several seeds); each
run's train and validation curves of both revisions; DVC's own charts. ``--sweep PARAM`` adds min
validation loss and overfitting gap against PARAM over the experiments that vary it alone.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from dlpipe.core.errors import UserError, run_cli
from dlpipe.core.registry import TRAINING_STAGES
from dlpipe.core.tool_output import check_output_folder, output_folder
from dlpipe.report import review_report, sweep
from dlpipe.report.dvc_specs import select_top_level, top_level_plot_ids
from dlpipe.report.review_data import Review, curves, gather
from dlpipe.report.spec_figures import render_spec_figures

TOOL = "review"


def draw_run_figure(title: str, by_rev: Mapping[str, list[dict]], path: Path, diverged_at: Mapping[str, int]) -> None:
    """One run's train (dashed) and validation (solid) loss in each revision, with ±1 std bands:
    the stages' own figure (:func:`dlpipe.train.figures.plot_loss_curves`), one colour per revision."""
    import pandas as pd

    from dlpipe.train.figures import plot_loss_curves

    columns = ("epoch", "loss", "val_loss", "loss_std", "val_loss_std")
    frames = {
        rev: pd.DataFrame(
            [{c: float(r[c]) for c in columns if c in r} for r in rows], columns=list(columns[:3]) if not rows else None
        )
        for rev, rows in by_rev.items()
    }
    plot_loss_curves(frames, title, "loss", path, diverged_at=diverged_at)


def _run_figures(review: Review, out: Path) -> list[str]:
    lines = []
    for t in TRAINING_STAGES:
        series = curves(review.plots, t.plot_id)
        for run in t.runs:
            # A run with no finite epoch has no rows: its figure says why.
            by_rev = {side.label: series.get((side.label, run), []) for side in (review.old, review.new)}
            stopped = {
                side.label: int(side.summary[run]["diverged_at_epoch"])
                for side in (review.old, review.new)
                if "diverged_at_epoch" in side.summary.get(run, {})
            }
            name = f"{t.stage}-{run}.png"
            draw_run_figure(f"{t.stage}: {run}", by_rev, out / name, stopped)
            lines.append(f"![{run}: train and validation loss, {review.old.label} vs {review.new.label}]({name})")
    return lines


def write_report(old: str, new: str | None, out: Path, sweep_param: str | None = None, cwd: Path = Path()) -> Path:
    """Write OUT/report.md and its figures; return the report's path. All or nothing; ``out`` must be a
    new or empty folder, or one holding only this tool's earlier report."""
    check_output_folder(out, TOOL)  # before the slow part
    review = gather(old, new, cwd)
    if not review.old.summary and not review.new.summary:
        raise UserError(f"no metrics to compare between {old} and {review.new.label}; run `dvc repro` first")
    specs = select_top_level(review.plots, top_level_plot_ids(cwd / "dvc.yaml")).specs
    found = sweep.load_sweep(sweep_param, review.new.params, cwd) if sweep_param else None
    with output_folder(out, TOOL) as tmp:
        figures = _run_figures(review, tmp)
        figures += ["", "As `dvc plots diff` draws them:", ""]
        figures += [f"![{p.stem}]({p.name})" for p in render_spec_figures(specs, tmp) if p.suffix == ".png"]
        extra: list[str] = []
        if found is not None:
            figure = f"sweep-{sweep_param}.png" if found.points else None
            if figure:
                sweep.draw(found, tmp / figure)
            extra = sweep.markdown(found, figure)
        (tmp / "report.md").write_text(review_report.markdown(review, figures, extra), encoding="utf-8")
    return out / "report.md"


def main(argv: list[str] | None = None) -> None:
    """The command line; prints the report's path."""
    parser = argparse.ArgumentParser(prog="python -m dlpipe.report.review", description=__doc__.splitlines()[0])
    parser.add_argument("--old", default="main", help="base revision or experiment (default: main)")
    parser.add_argument("--new", default=None, help="revision or experiment to review (default: the workspace)")
    parser.add_argument("--out", default="review", type=Path, help="output folder (default: review)")
    parser.add_argument("--sweep", default=None, help="also plot the results against this param")
    args = parser.parse_args(argv)
    print(write_report(args.old, args.new, args.out, args.sweep))


if __name__ == "__main__":
    run_cli(TOOL, main)
