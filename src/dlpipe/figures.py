"""Loss-curve figures as PNG, for places that show no JavaScript (the same series as dvc plots)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from dlpipe.summary import finite_history


def plot_loss_curves(histories: Mapping[str, pd.DataFrame], title: str, ylabel: str, path: Path) -> None:
    """Draw train (dashed) and validation (solid) loss of each run on one axes; save as PNG.

    A run that diverged is drawn up to the last finite epoch and says so in the legend.
    """
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100, layout="constrained")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for colour, (name, history) in zip(colours, histories.items(), strict=False):
        finite = finite_history(history)
        if len(finite) < len(history):
            # Marks where the run stopped; an invisible line if it diverged in the first epoch.
            stop = int(history["epoch"].iloc[len(finite)])
            ax.plot([], [], ":", color=colour, label=f"{name}: diverged at epoch {stop} (NaN/inf loss)")
        if finite.empty:
            continue
        ax.plot(finite["epoch"], finite["loss"], "--", color=colour, label=f"{name} loss")
        ax.plot(finite["epoch"], finite["val_loss"], "-", color=colour, label=f"{name} val_loss")
    ax.set(title=title, xlabel="epoch", ylabel=ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend()
    # No timestamp or version in the file, so the same curves give the same bytes.
    fig.savefig(path, format="png", metadata={"Software": None})
    plt.close(fig)
