"""Summary metrics of a run, from its per-epoch history, in the notebook's terms."""

from __future__ import annotations

import math

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
