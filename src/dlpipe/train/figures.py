"""Loss-curve figures as PNG, for places that show no JavaScript (the same series as dvc plots)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd


def plot_loss_curves(
    curves: Mapping[str, pd.DataFrame],
    title: str,
    ylabel: str,
    path: Path,
    diverged_at: Mapping[str, int] | None = None,
) -> None:
    """Draw train (dashed) and validation (solid) loss of each run on one axes; save as PNG.

    ``curves`` hold the finite epochs of each run (``epoch``, ``loss``, ``val_loss``; with
    several seeds also ``loss_std`` and ``val_loss_std``, drawn as a ±1 std band around the
    mean). A run listed in ``diverged_at`` says so in the legend.
    """
    diverged_at = diverged_at or {}
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100, layout="constrained")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for colour, (name, curve) in zip(colours, curves.items(), strict=False):
        if name in diverged_at:
            # An entry even when nothing finite is left to draw (diverged in the first epoch).
            ax.plot([], [], ":", color=colour, label=f"{name}: diverged at epoch {diverged_at[name]} (NaN/inf loss)")
        if curve.empty:
            continue
        for column, style in (("loss", "--"), ("val_loss", "-")):
            ax.plot(curve["epoch"], curve[column], style, color=colour, label=f"{name} {column}")
            if f"{column}_std" in curve:
                low, high = curve[column] - curve[f"{column}_std"], curve[column] + curve[f"{column}_std"]
                ax.fill_between(curve["epoch"], low, high, color=colour, alpha=0.15, linewidth=0)
    ax.set(title=title, xlabel="epoch", ylabel=ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend()
    # No timestamp or version in the file, so the same curves give the same bytes.
    fig.savefig(path, format="png", metadata={"Software": None})
    plt.close(fig)
