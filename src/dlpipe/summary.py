"""Summary metrics of a run, from its per-epoch history, in the notebook's terms."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping

import numpy as np
import pandas as pd


def finite_history(history: pd.DataFrame) -> pd.DataFrame:
    """The epochs before divergence: rows whose loss and val_loss are both finite."""
    ok = np.isfinite(history["loss"]) & np.isfinite(history["val_loss"])
    first_bad = len(history) if ok.all() else int((~ok).to_numpy().argmax())
    return history.iloc[:first_bad]


def summarize(history: pd.DataFrame) -> dict[str, float | int | bool]:
    """Summarise one run.

    Keys: ``epochs_trained``; ``diverged`` and, if so, ``diverged_at_epoch``; and over the
    finite epochs ``min_val_loss``, ``min_val_loss_epoch``, ``final_loss``, ``final_val_loss``
    and ``overfitting_gap`` (final val_loss − min val_loss). Numbers are always finite: values
    that do not exist (a run that diverged at once) are left out rather than written as NaN,
    which DVC reports as always changed and strict JSON parsers reject.
    """
    finite = finite_history(history)
    summary: dict[str, float | int | bool] = {
        "epochs_trained": len(history),
        "diverged": len(finite) < len(history),
    }
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


def summarize_seeds(per_seed: Mapping[int, dict[str, float | int | bool]]) -> dict:
    """Combine the summaries of one run trained with several seeds.

    One seed: that seed's summary, unchanged. Several: for each number the mean over the seeds
    that have it and ``<name>_std`` (sample standard deviation), ``diverged`` if any seed
    diverged with ``diverged_seeds`` counting them, ``seeds`` the number of seeds, and
    ``per_seed`` every seed's own summary.
    """
    if len(per_seed) == 1:
        return dict(next(iter(per_seed.values())))
    combined: dict = {"seeds": len(per_seed)}
    for key in (
        "min_val_loss",
        "min_val_loss_epoch",
        "final_loss",
        "final_val_loss",
        "overfitting_gap",
        "epochs_trained",
    ):
        values = [s[key] for s in per_seed.values() if key in s]
        if values:
            combined[key] = statistics.fmean(values)
            combined[f"{key}_std"] = statistics.stdev(values) if len(values) > 1 else 0.0
    diverged = [seed for seed, s in per_seed.items() if s["diverged"]]
    combined["diverged"] = bool(diverged)
    combined["diverged_seeds"] = len(diverged)
    combined["per_seed"] = {str(seed): s for seed, s in per_seed.items()}
    return combined


def mean_history(per_seed: Mapping[int, pd.DataFrame]) -> pd.DataFrame:
    """The curves to plot for a run: its finite history (one seed), or per epoch the mean and
    standard deviation of loss and val_loss over the seeds still finite at that epoch."""
    finite = [finite_history(h) for h in per_seed.values()]
    if len(finite) == 1:
        return finite[0].reset_index(drop=True)
    stacked = pd.concat(finite, ignore_index=True)
    grouped = stacked.groupby("epoch", sort=True)[["loss", "val_loss"]]
    mean, std = grouped.mean(), grouped.std(ddof=1).fillna(0.0)
    out = pd.DataFrame(
        {
            "epoch": mean.index.astype(int),
            "loss": mean["loss"].to_numpy(),
            "val_loss": mean["val_loss"].to_numpy(),
            "loss_std": std["loss"].to_numpy(),
            "val_loss_std": std["val_loss"].to_numpy(),
            "seeds": grouped.size().to_numpy(),
        }
    )
    return out
