"""What a person sees while training: a live bar on a terminal, plain lines in logs, a table at the end."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import TextIO

from tqdm import tqdm

from dlpipe.core.progress_mode import MODES
from dlpipe.display import render


class Progress:
    """Progress of one run, one epoch at a time. This base class shows nothing."""

    def start(self, label: str, epochs: int) -> None:
        """A run begins."""

    def epoch(self, epoch: int, loss: float, val_loss: float, diverged: bool) -> None:
        """An epoch ended (1-based)."""

    def close(self) -> None:
        """The run ended (finished, diverged or interrupted)."""


class LineProgress(Progress):
    """One plain line every ``every`` epochs (and at divergence): for CI and `dvc queue logs`."""

    def __init__(self, stream: TextIO, every: int = 10) -> None:
        self.stream, self.every = stream, every
        self.label, self.epochs, self._start = "", 0, 0.0

    def start(self, label: str, epochs: int) -> None:
        self.label, self.epochs, self._start = label, epochs, time.perf_counter()

    def epoch(self, epoch: int, loss: float, val_loss: float, diverged: bool) -> None:
        if diverged or epoch % self.every == 0 or epoch == self.epochs:
            note = "  diverged: stopping" if diverged else ""
            # One write of the whole line: where stderr is unbuffered (PYTHONUNBUFFERED or -u, common in
            # CI and containers) print() writes the text and its newline separately, and two workers'
            # lines could interleave into one line and an empty one.
            self.stream.write(
                f"[{self.label}] epoch {epoch}/{self.epochs}: loss {loss:.4f}, val_loss {val_loss:.4f} "
                f"({time.perf_counter() - self._start:.1f} s){note}\n"
            )
            self.stream.flush()


class BarProgress(Progress):
    """A tqdm bar per run with epoch, loss, val_loss, elapsed and time left."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.bar: tqdm | None = None

    def start(self, label: str, epochs: int) -> None:
        self.bar = tqdm(total=epochs, desc=label, unit="epoch", file=self.stream, leave=True)

    def epoch(self, epoch: int, loss: float, val_loss: float, diverged: bool) -> None:
        if self.bar is None:
            return
        self.bar.set_postfix(loss=f"{loss:.4f}", val_loss=f"{val_loss:.4f}", refresh=False)
        self.bar.update(1)
        if diverged:
            self.bar.set_description_str(f"{self.bar.desc} diverged")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def make_progress(mode: str = "auto", stream: TextIO | None = None) -> Progress:
    """The display for ``mode``: ``auto`` is a bar on a terminal and lines otherwise; ``off`` is silent."""
    if mode not in MODES:
        raise ValueError(f"progress mode {mode!r} is not one of {', '.join(MODES)}")
    stream = sys.stderr if stream is None else stream
    if mode == "off":
        return Progress()
    if mode == "bar" or (mode == "auto" and stream.isatty()):
        return BarProgress(stream)
    return LineProgress(stream)


def summary_table(summaries: Mapping[str, Mapping]) -> str:
    """The end-of-stage table: per run, min val loss and its epoch, overfitting gap, divergence, seeds."""
    rows = [("run", "min val_loss (epoch)", "overfitting gap", "diverged", "seeds")]
    for run, m in summaries.items():
        rows.append((run, render.best(m), render.loss(m, "overfitting_gap"), render.divergence(m), render.seeds(m)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
