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
import dataclasses
from collections.abc import Mapping
from pathlib import Path

from dlpipe.core import environment
from dlpipe.core.errors import UserError, run_cli
from dlpipe.core.registry import TRAINING_STAGES, TrainingStage, loss_label
from dlpipe.core.tool_output import check_output_folder, output_folder
from dlpipe.report import review_report, sweep
from dlpipe.report.dvc_specs import select_top_level, top_level_plot_ids
from dlpipe.report.rebuild import rebuild
from dlpipe.report.review_data import Review, Side, curves, gather
from dlpipe.report.spec_figures import render_spec_figures

TOOL = "review"


def draw_run_figure(
    title: str,
    by_rev: Mapping[str, list[dict]],
    path: Path,
    diverged_at: Mapping[str, int],
    ylabel: str = "loss",
) -> None:
    """One run's train (dashed) and validation (solid) loss in each revision (label -> DVC's rows of its
    curve, one colour each), with ±1 std bands: the stages' own figure, :func:`dlpipe.train.figures.plot_loss_curves`.
    ``diverged_at``: label -> epoch at which the run diverged in that revision."""
    import pandas as pd

    from dlpipe.train.figures import Curves, plot_loss_curves

    columns = ("epoch", "loss", "val_loss", "loss_std", "val_loss_std", "seeds")

    def frame(rows: list[dict]) -> pd.DataFrame:
        # Values come as strings; a run with no finite epoch has no rows, but still the curve columns.
        values = [{c: float(r[c]) for c in columns if c in r} for r in rows]
        return pd.DataFrame(values, columns=None if rows else columns[:3])

    curves = [Curves(label, frame(rows), diverged_at.get(label)) for label, rows in by_rev.items()]
    plot_loss_curves(curves, title, ylabel, path)


def loss_axis(t: TrainingStage, review: Review) -> str:
    """The y axis of a stage's figures: the loss both revisions trained with, or each one's when they differ."""
    old, new = (side.params.get(f"{t.stage}.loss") for side in (review.old, review.new))
    if old == new or old is None or new is None:
        return loss_label(str(new or old or "loss"))
    return f"loss: {loss_label(str(old))} in base, {loss_label(str(new))} in head"


def _run_figures(review: Review, out: Path) -> list[str]:
    lines = []
    sides = {"base": review.old, "head": review.new}
    for t in TRAINING_STAGES:
        series = curves(review.plots, t.plot_id)
        ylabel = loss_axis(t, review)
        for run in t.runs:
            # A run with no finite epoch has no rows: its figure marks where it stopped.
            labels = {f"{role}: {side.label}": side for role, side in sides.items()}
            # DVC names each revision's rows as it was asked for it (a rebuilt side: its commit).
            by_rev = {label: series.get((side.rev or side.label, run), []) for label, side in labels.items()}
            stopped = {
                label: int(side.summary[run]["diverged_at_epoch"])
                for label, side in labels.items()
                if "diverged_at_epoch" in side.summary.get(run, {})
            }
            name = f"{t.stage}-{run}.png"
            title = f"{t.task}, {t.display_name(run)}: base vs head"
            draw_run_figure(title, by_rev, out / name, stopped, ylabel)
            lines.append(f"![{t.display_name(run)} ({run}): train and validation loss, {' vs '.join(labels)}]({name})")
    return lines


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
