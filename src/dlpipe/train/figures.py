"""A training stage's loss-curve figure as PNG, for places that show no JavaScript (the same series as dvc plots).

Its runs on one axes, one colour per run: train loss dashed, validation loss solid, with several seeds the
mean and a band of ±1 standard deviation. The y axis shows where the curves differ: when the first epochs'
spike would take most of it, its limits come from the later epochs, and what is cut off is marked (the still
images of DVC's charts follow the same rule: :func:`focus_range`, :func:`cut_off`). A run that diverged is
an "×" where it stopped, annotated with its epoch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

# The first epochs of a fresh network start far above where training settles (0.35 then 0.2 on Spotify);
# they are left out when choosing the y limits if at least LATER_EPOCHS epochs follow them and those span
# less than FOCUS_SHARE of all values (a short or a steadily falling curve keeps its whole range).
SPIKE_EPOCHS = 2
LATER_EPOCHS = 5
FOCUS_SHARE = 0.6
CURVES = (("loss", "--", "train"), ("val_loss", "-", "validation"))


@dataclass(frozen=True)
class Curves:
    """The lines of one run.

    ``frame`` holds its finite epochs (``epoch``, ``loss``, ``val_loss``; with several seeds also
    ``loss_std``, ``val_loss_std`` and ``seeds``); ``diverged_at`` is the epoch at which its loss
    became NaN or infinite, if it did.
    """

    label: str
    frame: pd.DataFrame
    diverged_at: int | None = None

    @property
    def seeds(self) -> int:
        """How many seeds its curves are the mean of (at most)."""
        return int(self.frame["seeds"].max()) if "seeds" in self.frame and not self.frame.empty else 1


def _points(series: Iterable[tuple[Sequence[float], Sequence[float]]]) -> np.ndarray:
    """(epochs, values) pairs as one array: its rows the epochs and the values of every pair."""
    return np.hstack([np.empty((2, 0)), *(np.asarray(pair, dtype=float) for pair in series)])


def focus_range(series: Iterable[tuple[Sequence[float], Sequence[float]]]) -> tuple[float, float] | None:
    """y limits that show where curves differ, or None to show every value.

    ``series`` are (epochs, values) pairs. The limits span the values after the first
    :data:`SPIKE_EPOCHS` epochs, with a 5 % margin, when at least :data:`LATER_EPOCHS` epochs follow
    them and their values span less than :data:`FOCUS_SHARE` of all values; otherwise None.
    """
    epochs, values = _points(series)
    finite = np.isfinite(values)
    after = finite & (epochs > SPIKE_EPOCHS)
    if len(np.unique(epochs[after])) < LATER_EPOCHS:
        return None
    late = values[after]
    full, span = np.ptp(values[finite]), np.ptp(late)
    if full == 0 or span >= FOCUS_SHARE * full:
        return None
    margin = 0.05 * span if span > 0 else 0.05 * max(abs(float(late.max())), 1e-12)
    return float(late.min() - margin), float(late.max() + margin)


def cut_off(series: Iterable[tuple[Sequence[float], Sequence[float]]], low: float, high: float) -> str | None:
    """What y limits ``low``, ``high`` leave out of ``series`` ((epochs, values) pairs), in words:
    ``off the axes: epochs 1–2 (up to 0.346)``; None when nothing is."""
    epochs, values = _points(series)
    out = (values > high) | (values < low)
    if not out.any():
        return None
    first, last = int(epochs[out].min()), int(epochs[out].max())
    span = f"epoch {first}" if first == last else f"epochs {first}–{last}"
    furthest = values[out][np.abs(values[out] - (low + high) / 2).argmax()]
    return f"off the axes: {span} ({'up' if furthest > high else 'down'} to {furthest:.3g})"


def _lines(frame: pd.DataFrame) -> Iterable[pd.Series]:
    """Every drawn value series of a frame: each curve and, with several seeds, its band's edges."""
    for column, _, _ in CURVES:
        yield frame[column]
        if f"{column}_std" in frame:
            yield frame[column] - frame[f"{column}_std"]
            yield frame[column] + frame[f"{column}_std"]


def _mark_clipped(ax: Axes, curves: Sequence[Curves], colours: list[str]) -> Line2D | None:
    """A "^" (above) or "v" (below) on the edge of the axes at each epoch whose loss is cut off, in its
    curve's colour; returns the legend entry saying what is cut off."""
    low, high = ax.get_ylim()
    cut: list[tuple[pd.Series, pd.Series]] = []
    for colour, c in zip(colours, curves, strict=False):
        if c.frame.empty:
            continue
        for column, _, _ in CURVES:
            epochs, values = c.frame["epoch"], c.frame[column]
            cut.append((epochs, values))
            for edge, outside, marker in ((high, values > high, "^"), (low, values < low, "v")):
                if outside.any():
                    x = epochs[outside]
                    ax.plot(x, np.full(len(x), edge), marker, color=colour, ms=6, clip_on=False, zorder=5)
    note = cut_off(cut, low, high)
    return None if note is None else Line2D([], [], marker="^", color="0.35", ls="none", label=note)


def _mark_divergence(ax: Axes, curves: Sequence[Curves], colours: list[str]) -> None:
    """An "×" where each diverged run stopped: at its last finite validation loss, or at the top of the axes
    at the epoch it diverged when it has none; annotated with that epoch."""
    low, high = ax.get_ylim()
    top = high - 0.04 * (high - low)  # inside the axes, clear of the title
    stacked = 0
    for colour, c in zip(colours, curves, strict=False):
        if c.diverged_at is None:
            continue
        before = c.frame[c.frame["epoch"] < c.diverged_at]
        if before.empty:
            x, y, offset = c.diverged_at, top, -10 - 13 * stacked
            stacked += 1
        else:
            x, y, offset = int(before["epoch"].iloc[-1]), min(float(before["val_loss"].iloc[-1]), top), -10
        ax.plot([x], [y], "x", color=colour, ms=11, mew=2.5, clip_on=False, zorder=6)
        ax.annotate(
            f"{c.label} — diverged at epoch {c.diverged_at}",
            (x, y),
            xytext=(8, offset),
            textcoords="offset points",
            color=colour,
            fontsize=9,
            va="top",
        )


def plot_loss_curves(curves: Sequence[Curves], title: str, ylabel: str, path: Path) -> None:
    """:func:`loss_figure` saved as PNG at ``path``."""
    fig = loss_figure(curves, title, ylabel)
    # No timestamp or version in the file, so the same curves give the same bytes.
    fig.savefig(path, format="png", metadata={"Software": None})
    plt.close(fig)


def loss_figure(curves: Sequence[Curves], title: str, ylabel: str) -> Figure:
    """The train (dashed) and validation (solid) loss of each of ``curves`` in its own colour on one
    axes, with ±1 std bands when there are several seeds (the caller closes it).

    The y axis is focused by :func:`focus_range` (cut-off values marked on its edge and in the legend);
    a diverged run is marked by :func:`_mark_divergence`. When no curve has a finite epoch the axes say so
    instead of showing an empty range.
    """
    fig, ax = plt.subplots(figsize=(9, 4.8), dpi=100, layout="constrained")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    handles: list[Line2D] = []
    for colour, c in zip(colours, curves, strict=False):
        f = c.frame
        if f.empty:  # diverged in its first epoch: only its "×"
            handles.append(Line2D([], [], color=colour, marker="x", mew=2.5, ls="none", label=c.label))
            continue
        handles.append(Line2D([], [], color=colour, lw=2.5, label=c.label))
        for column, style, _ in CURVES:
            ax.plot(f["epoch"], f[column], style, color=colour, lw=1.6)
            if f"{column}_std" in f:
                low, high = f[column] - f[f"{column}_std"], f[column] + f[f"{column}_std"]
                ax.fill_between(f["epoch"], low, high, color=colour, alpha=0.15, linewidth=0)
    handles += [Line2D([], [], color="0.2", ls=style, label=name) for _, style, name in CURVES]
    drawn = [c for c in curves if not c.frame.empty]
    if drawn:
        limits = focus_range((c.frame["epoch"], values) for c in drawn for values in _lines(c.frame))
        if limits is not None:
            ax.set_ylim(*limits)
            clipped = _mark_clipped(ax, curves, colours)
            if clipped is not None:
                handles.append(clipped)
    else:
        # Nothing finite to draw: no y scale to show, only where each run stopped.
        last = max((c.diverged_at or 1 for c in curves), default=1)
        ax.set(xlim=(0, last + 1), ylim=(0, 1), yticks=[])
        ax.text(0.5, 0.45, "no finite loss to draw", transform=ax.transAxes, ha="center", color="0.4")
    _mark_divergence(ax, curves, colours)
    seeds = {c.seeds for c in drawn}
    if len(seeds) > 1:  # say which curve is a mean (a run whose other seeds diverged at once)
        for handle, c in zip(handles, curves, strict=False):
            handle.set_label(f"{c.label} (mean of {c.seeds} seeds)" if c.seeds > 1 else f"{c.label} (1 seed)")
        title += "\nband: ±1 standard deviation over the seeds"
    elif seeds and (count := seeds.pop()) > 1:
        title += f"\nmean of {count} seeds, band: ±1 standard deviation"
    ax.set(title=title, xlabel="epoch", ylabel=ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.grid(True, alpha=0.3)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return fig
