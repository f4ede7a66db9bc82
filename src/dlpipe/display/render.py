"""How a run's summary reads, in one place: the progress table, the results table and the review all
print numbers, seed spreads, epochs and divergence through these functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

DASH = "–"


def number(value: float | None, digits: int = 4) -> str:
    """A loss: fixed digits, or scientific notation when it is huge (a run that blew up)."""
    if value is None:
        return DASH
    return f"{value:.{digits}f}" if abs(value) < 1e4 else f"{value:.{digits}g}"


def signed(value: float, digits: int = 4) -> str:
    """A change: ``+0.0009``, ``-0.0120``, or ``+5.83e+22`` when it is huge."""
    return f"{value:+.{digits}f}" if abs(value) < 1e4 else f"{value:+.{digits}g}"


def count(n: int, word: str) -> str:
    """``1 seed``, ``3 seeds``: ``n`` of a thing, singular for one."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def loss(summary: Mapping, metric: str) -> str:
    """``0.1918``, or with several seeds ``0.1918 ± 0.0021`` (mean ± sample std over the seeds)."""
    if metric not in summary:
        return DASH
    text = number(summary[metric])
    if f"{metric}_std" in summary:
        text += f" ± {number(summary[f'{metric}_std'])}"
    return text


def epoch(summary: Mapping) -> str:
    """The epoch of the minimum: ``41``, or with several seeds the range ``41–46`` (or ``41``)."""
    if "min_val_loss_epoch" in summary:
        return str(int(summary["min_val_loss_epoch"]))
    if "min_val_loss_epoch_min" in summary:
        return epochs((int(summary["min_val_loss_epoch_min"]), int(summary["min_val_loss_epoch_max"])))
    return DASH


def epochs(values: Iterable[int]) -> str:
    """Epochs of the minimum over seeds: ``41``, the range ``41–46``, or a dash for none."""
    found = sorted(set(values))
    if not found:
        return DASH
    return str(found[0]) if len(found) == 1 else f"{found[0]}–{found[-1]}"


def best(summary: Mapping) -> str:
    """Min validation loss with its epoch: ``0.1918 (41)``."""
    if "min_val_loss" not in summary:
        return DASH
    return f"{loss(summary, 'min_val_loss')} ({epoch(summary)})"


def divergence(summary: Mapping) -> str:
    """``no``; ``yes, epoch 1``; or with several seeds ``2 of 3 seeds, first at epoch 4``."""
    if not summary.get("diverged"):
        return "no"
    at = summary.get("diverged_at_epoch")
    if "seeds" in summary:
        first = f", first at epoch {at}" if at is not None else ""
        return f"{summary['diverged_seeds']} of {summary['seeds']} seeds{first}"
    return f"yes, epoch {at}" if at is not None else "yes"


def seeds(summary: Mapping) -> str:
    """How many seeds a summary stands for."""
    return str(summary.get("seeds", 1))


def param_value(value: object) -> str:
    """A param's value in a table: ``0.3``, ``true``, ``[0, 1, 2]``, or a dash for a revision without it."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
