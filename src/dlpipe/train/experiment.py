"""Train a set of runs (the regularised model and its control) and write what reviewers diff."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import pandas as pd

from dlpipe.core.layout import Outputs
from dlpipe.core.params import TrainParams
from dlpipe.core.registry import display_name, loss_label
from dlpipe.data.arrays import Arrays
from dlpipe.display.progress import Progress, summary_table
from dlpipe.train.figures import Curves, plot_loss_curves
from dlpipe.train.pool import Job, train_jobs
from dlpipe.train.summary import Summary, aggregate, history_frame, mean_history, summarize_seed, write_seed_table

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor


def run_experiment(
    runs: Mapping[str, Mapping[str, Any]],
    arrays: Arrays,
    train: TrainParams,
    outputs: Outputs,
    title: str,
    seeds: Sequence[int],
    progress: Progress | None = None,
    report: TextIO | None = None,
    pool: ProcessPoolExecutor | None = None,
) -> dict[str, Summary]:
    """Train each named run once per seed with the same settings, then write all outputs.

    ``runs`` maps a run name to what sets it apart (``dropout``, ``batchnorm``: keyword
    arguments of :func:`dlpipe.train.models.build_mlp`); everything else comes from ``train``.

    For a given seed every run starts from the same seeded state, so the regularised model and
    its baseline see the same batches and the comparison does not depend on the order they are
    trained in. The per-seed table holds every seed's summary; the curves are the run's own
    (one seed) or the mean and standard deviation over the seeds.

    Each model is written when it has trained (its folder made then), the curves, table and figure once
    every run has; all in place (DVC deletes the stage's outputs before running it and records only a
    finished stage). ``progress`` shows each run as it trains; ``report`` gets the end-of-stage summary
    table. ``pool``: worker processes (:func:`dlpipe.train.pool.training_workers`) that train the models
    side by side, with the same results; without it they train here.
    Returns each run's :func:`aggregate`.
    """
    several = len(seeds) > 1
    jobs = [
        Job(
            run=name,
            seed=seed,
            label=f"{name} seed {seed}" if several else name,
            model_file=f"{name}_seed{seed}.keras" if several else f"{name}.keras",
            variant=dict(variant),
        )
        for name, variant in runs.items()
        for seed in seeds
    ]
    trained = train_jobs(jobs, arrays, train, outputs.models_dir, progress=progress, pool=pool)
    histories: dict[str, dict[int, pd.DataFrame]] = {name: {} for name in runs}
    for job, history in zip(jobs, trained, strict=True):
        histories[job.run][job.seed] = history_frame(history)
    per_seed = {name: {s: summarize_seed(h) for s, h in by_seed.items()} for name, by_seed in histories.items()}
    summaries = {name: aggregate(seeds_of_run) for name, seeds_of_run in per_seed.items()}
    curves = {name: mean_history(by_seed) for name, by_seed in histories.items()}

    outputs.plots_dir.mkdir(parents=True, exist_ok=True)
    for name, curve in curves.items():
        curve.to_csv(outputs.curve_file(name), index=False, lineterminator="\n", float_format="%.9g")
    diverged_at = {name: int(s["diverged_at_epoch"]) for name, s in summaries.items() if "diverged_at_epoch" in s}
    lines = [Curves(display_name(name), curve, diverged_at.get(name)) for name, curve in curves.items()]
    plot_loss_curves(lines, title, loss_label(train.loss), outputs.figure_file)
    write_seed_table(per_seed, outputs.seeds_file)
    if report is not None:
        print(f"\n{title}\n{summary_table(summaries)}\n", file=report, flush=True)
    return summaries
