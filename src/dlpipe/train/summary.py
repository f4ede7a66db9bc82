"""Summaries of training runs in the notebook's terms: per seed, per run, and for the whole pipeline.

Three levels, each computed in one place:
- :func:`summarize_seed`: one trained seed of one run, from its per-epoch history (every detail);
- :func:`aggregate`: one run over its seeds: what a reviewer compares (min validation loss, its
  epoch, the overfitting gap, divergence; with several seeds the mean, standard deviation and range);
- :func:`metric_major`: every run of the pipeline keyed metric first, so that `dvc exp show` puts the
  min validation loss of every run in its first columns.
The per-seed details travel between stages as a small CSV (:func:`write_seed_table`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

Summary = dict[str, float | int | bool]
# A run's history as a table: one row per epoch trained.
HISTORY_COLUMNS = ("epoch", "loss", "val_loss")

# One row per (run, seed) in the details table, in this order.
SEED_COLUMNS = (
    "run",
    "seed",
    "epochs_trained",
    "diverged",
    "diverged_at_epoch",
    "min_val_loss",
    "min_val_loss_epoch",
    "final_loss",
    "final_val_loss",
    "overfitting_gap",
)
_INT_COLUMNS = ("seed", "epochs_trained", "diverged_at_epoch", "min_val_loss_epoch")
# What a reviewer compares, most important first (`dvc exp show` collapses columns from the right).
REVIEW_METRICS = (
    "min_val_loss",
    "overfitting_gap",
    "min_val_loss_epoch",
    "diverged",
    "diverged_at_epoch",
    "min_val_loss_std",
    "overfitting_gap_std",
    "min_val_loss_epoch_min",
    "min_val_loss_epoch_max",
    "diverged_seeds",
    "seeds",
)
# Lower is better for these; the others describe a run rather than rank it.
LOWER_IS_BETTER = ("min_val_loss", "overfitting_gap")


def history_frame(rows: Sequence[Mapping[str, float]]) -> pd.DataFrame:
    """The history that :func:`dlpipe.train.training.fit` returns (rows of epoch, loss, val_loss) as a table."""
    return pd.DataFrame(list(rows), columns=list(HISTORY_COLUMNS))


def finite_history(history: pd.DataFrame) -> pd.DataFrame:
    """The epochs before divergence: rows whose loss and val_loss are both finite."""
    ok = np.isfinite(history["loss"]) & np.isfinite(history["val_loss"])
    first_bad = len(history) if ok.all() else int((~ok).to_numpy().argmax())
    return history.iloc[:first_bad]


def summarize_seed(history: pd.DataFrame) -> Summary:
    """Summarise one seed of one run.

    Keys: ``epochs_trained``; ``diverged`` and, if so, ``diverged_at_epoch``; and over the
    finite epochs ``min_val_loss``, ``min_val_loss_epoch``, ``final_loss``, ``final_val_loss``
    and ``overfitting_gap`` (final val_loss − min val_loss). Numbers are always finite: values
    that do not exist (a run that diverged at once) are left out rather than written as NaN,
    which DVC reports as always changed and strict JSON parsers reject.
    """
    finite = finite_history(history)
    summary: Summary = {"epochs_trained": len(history), "diverged": len(finite) < len(history)}
    if summary["diverged"]:
        summary["diverged_at_epoch"] = int(history["epoch"].iloc[len(finite)])
    if not finite.empty:
        best = int(finite["val_loss"].to_numpy().argmin())
        last = finite.iloc[-1]
        min_val = float(finite["val_loss"].iloc[best])
        summary.update(
            min_val_loss=min_val,
            min_val_loss_epoch=int(finite["epoch"].iloc[best]),
            final_loss=float(last["loss"]),
            final_val_loss=float(last["val_loss"]),
            overfitting_gap=float(last["val_loss"]) - min_val,
        )
    assert all(not isinstance(v, float) or math.isfinite(v) for v in summary.values())
    return summary


def aggregate(per_seed: Mapping[int, Summary]) -> Summary:
    """What a reviewer compares for one run trained with the seeds of ``per_seed``.

    One seed: ``min_val_loss``, ``min_val_loss_epoch``, ``overfitting_gap``, ``diverged`` and, if
    so, ``diverged_at_epoch``, as that seed gave them. Several: ``min_val_loss`` and
    ``overfitting_gap`` are means over the seeds that have them, with ``<name>_std`` (sample standard
    deviation, only when at least two seeds have a value: one value says nothing about the noise);
    the epoch of the minimum as a range (``min_val_loss_epoch_min``, ``_max``), since a mean epoch
    is not an epoch; ``diverged`` if any seed diverged, ``diverged_seeds`` how many and
    ``diverged_at_epoch`` the first epoch at which one did; ``seeds`` the number of seeds.
    """
    seeds = list(per_seed.values())
    if not seeds:
        raise ValueError("no seeds to aggregate")
    if len(seeds) == 1:
        keys = ("min_val_loss", "min_val_loss_epoch", "overfitting_gap", "diverged", "diverged_at_epoch")
        return {k: seeds[0][k] for k in keys if k in seeds[0]}
    out: Summary = {}
    for key in ("min_val_loss", "overfitting_gap"):
        values = [float(s[key]) for s in seeds if key in s]
        if values:
            out[key] = statistics.fmean(values)
        if len(values) > 1:
            out[f"{key}_std"] = statistics.stdev(values)
    epochs = [int(s["min_val_loss_epoch"]) for s in seeds if "min_val_loss_epoch" in s]
    if epochs:
        out["min_val_loss_epoch_min"], out["min_val_loss_epoch_max"] = min(epochs), max(epochs)
    diverged = [int(s["diverged_at_epoch"]) for s in seeds if s["diverged"]]
    out["diverged"] = bool(diverged)
    out["diverged_seeds"] = len(diverged)
    if diverged:
        out["diverged_at_epoch"] = min(diverged)
    out["seeds"] = len(seeds)
    return out


def metric_major(per_run: Mapping[str, Summary]) -> dict[str, dict[str, float | int | bool]]:
    """``{metric: {run: value}}`` in :data:`REVIEW_METRICS` order; a run without a value is left out."""
    out: dict[str, dict[str, float | int | bool]] = {}
    for metric in REVIEW_METRICS:
        values = {run: s[metric] for run, s in per_run.items() if metric in s}
        if values:
            out[metric] = values
    return out


def run_major(by_metric: Mapping[str, Mapping[str, float | int | bool]]) -> dict[str, Summary]:
    """The inverse of :func:`metric_major`: ``{run: {metric: value}}``."""
    out: dict[str, Summary] = {}
    for metric, values in by_metric.items():
        for run, value in values.items():
            out.setdefault(run, {})[metric] = value
    return out


def write_seed_table(per_run: Mapping[str, Mapping[int, Summary]], path: Path) -> None:
    """Write one row per run and seed with every detail of :func:`summarize_seed` (empty where a value does
    not exist) as CSV (floats in full: the summary stage recomputes from them)."""
    rows = [{"run": run, "seed": seed, **s} for run, seeds in per_run.items() for seed, s in seeds.items()]
    table = pd.DataFrame(rows, columns=list(SEED_COLUMNS)).astype({c: "Int64" for c in _INT_COLUMNS})
    table.to_csv(path, index=False, lineterminator="\n")


def read_seed_table(path: Path | TextIO) -> dict[str, dict[int, Summary]]:
    """Read a table written by :func:`write_seed_table` (a file, or its text as a stream) back into
    ``{run: {seed: summary}}``."""
    table = pd.read_csv(path, dtype={c: "Int64" for c in _INT_COLUMNS} | {"run": str})
    missing = [c for c in SEED_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
    out: dict[str, dict[int, Summary]] = {}
    for row in table.to_dict("records"):
        summary: Summary = {}
        for key in SEED_COLUMNS[2:]:
            value = row[key]
            if value is None or pd.isna(value):
                continue
            summary[key] = bool(value) if key == "diverged" else int(value) if key in _INT_COLUMNS else float(value)
        out.setdefault(row["run"], {})[int(row["seed"])] = summary
    return out


def mean_history(per_seed: Mapping[int, pd.DataFrame]) -> pd.DataFrame:
    """The curves to plot for a run: its finite history (one seed), or per epoch the mean and
    standard deviation of loss and val_loss over the seeds still finite at that epoch."""
    finite = [finite_history(h) for h in per_seed.values()]
    if len(finite) == 1:
        return finite[0].reset_index(drop=True)
    stacked = pd.concat(finite, ignore_index=True)
    grouped = stacked.groupby("epoch", sort=True)[["loss", "val_loss"]]
    mean, std = grouped.mean(), grouped.std(ddof=1).fillna(0.0)
    table = pd.concat([mean, std.add_suffix("_std")], axis=1).assign(seeds=grouped.size())
    return table.reset_index().astype({"epoch": int})


def pipeline_summary(seed_tables: Sequence[Path]) -> dict[str, dict[str, float | int | bool]]:
    """The pipeline's metrics: every run of every training stage (from their per-seed tables, in
    order), aggregated over its seeds and keyed metric first."""
    per_run: dict[str, Summary] = {}
    for path in seed_tables:
        for run, seeds in read_seed_table(path).items():
            if run in per_run:
                raise ValueError(f"{path}: run {run} is also in another stage's table; run names must be unique")
            per_run[run] = aggregate(seeds)
    return metric_major(per_run)
