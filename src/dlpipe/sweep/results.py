"""A sweep over one param: min validation loss and overfitting gap against the param's value.

The points are the experiments of the current commit (as `dvc exp show` lists them, with the commit
and the workspace) whose other params equal the base's, so that the figure varies one thing only. Two
experiments with the same params and different results are ambiguous: both are reported and neither is
drawn.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlpipe.core import layout
from dlpipe.core.dvc_cli import WORKSPACE, dvc_json, flatten
from dlpipe.core.errors import UserError
from dlpipe.display import render
from dlpipe.train.summary import Summary, run_major

SUMMARY_PATH = layout.SUMMARY_METRICS.as_posix()
METRICS = ("min_val_loss", "overfitting_gap")
Found = tuple[str, dict[str, Any], dict[str, Summary]]  # an experiment: (name, flat params, run -> summary)


@dataclass(frozen=True)
class Point:
    """One value of the swept param and the results of the experiments that ran it."""

    value: float
    names: tuple[str, ...]
    summary: dict[str, Summary]  # run -> summary metrics


@dataclass(frozen=True)
class Sweep:
    """The points of a sweep, in order of value, and the values that several results disagree on."""

    param: str
    points: list[Point]
    ambiguous: dict[float, list[str]]
    ignored: int  # experiments left out because another param differs from the base's


def experiments(answer: Any) -> Iterator[Found]:
    """(name, flat params.yaml, run-major summary metrics) of every revision in `dvc exp show --json`."""
    if isinstance(answer, list):
        for item in answer:
            yield from experiments(item)
    elif isinstance(answer, dict):
        data = answer.get("data")
        if isinstance(data, dict) and "params" in data:
            params = flatten(((data.get("params") or {}).get("params.yaml") or {}).get("data") or {})
            metrics = ((data.get("metrics") or {}).get(SUMMARY_PATH) or {}).get("data") or {}
            rev = str(answer.get("rev", ""))
            name = answer.get("name") or (rev if rev == WORKSPACE else rev[:7])
            if metrics:
                yield name, params, run_major(metrics)
        for inner in answer.values():
            if isinstance(inner, list | dict):
                yield from experiments(inner)


def select(param: str, base: Mapping[str, Any], found: Sequence[Found]) -> Sweep:
    """The points of ``param`` among ``found`` whose other params equal ``base``."""
    by_value: dict[float, list[tuple[str, dict]]] = {}
    ignored = 0
    for name, params, summary in found:
        value = params.get(param)
        others_equal = all(params.get(k) == v for k, v in base.items() if k != param) and set(params) == set(base)
        if not isinstance(value, int | float) or isinstance(value, bool) or not others_equal:
            ignored += 1
            continue
        by_value.setdefault(float(value), []).append((name, summary))
    points, ambiguous = [], {}
    for value in sorted(by_value):
        entries = by_value[value]
        names = tuple(sorted({n for n, _ in entries}))
        if any(s != entries[0][1] for _, s in entries[1:]):
            ambiguous[value] = list(names)
            continue
        points.append(Point(value, names, entries[0][1]))
    return Sweep(param, points, ambiguous, ignored)


def check_param(param: str, base: Mapping[str, Any]) -> None:
    """A UserError unless ``param`` is one of ``base``'s params with a number for value (what a sweep
    draws its results against), naming those params, the closest to ``param`` first."""
    numbers = sorted(k for k, v in base.items() if isinstance(v, int | float) and not isinstance(v, bool))
    if param in numbers:
        return
    if param in base:
        raise UserError(
            f"--sweep {param}: its value {base[param]!r} is not a number, and a sweep draws the results against "
            f"a number; give one of {', '.join(numbers)}"
        )
    close = difflib.get_close_matches(param, numbers, n=1)
    known = close + [k for k in numbers if k not in close]
    raise UserError(
        f"--sweep {param}: unknown param{f' (did you mean {close[0]}?)' if close else ''}; "
        f"the params with a number in params.yaml are {', '.join(known)}"
    )


def load_sweep(param: str, base: Mapping[str, Any], cwd: Path = Path()) -> Sweep:
    """The sweep over ``param`` around ``base`` among the experiments of the current commit (and the
    commit and workspace themselves). Other commits may hold other code: a point with the same
    params there is not the same experiment. ``param`` must be one of ``base``'s (:func:`check_param`)."""
    check_param(param, base)
    return select(param, base, list(experiments(dvc_json("exp", "show", cwd=cwd))))


def varying_runs(sweep: Sweep) -> list[str]:
    """The runs whose min validation loss differs between points (the ones the sweep is about)."""
    runs = dict.fromkeys(run for point in sweep.points for run in point.summary)
    return [run for run in runs if len({p.summary.get(run, {}).get("min_val_loss") for p in sweep.points}) > 1]


def draw(sweep: Sweep, path: Path) -> None:
    """Min validation loss and overfitting gap of each varying run against the param, with ± std
    error bars where the points have several seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=100, layout="constrained")
    for ax, metric in zip(axes, METRICS, strict=True):
        for run in varying_runs(sweep):
            pts = [p for p in sweep.points if metric in p.summary.get(run, {})]
            xs = [p.value for p in pts]
            ys = [p.summary[run][metric] for p in pts]
            errs = [p.summary[run].get(f"{metric}_std", 0.0) for p in pts]
            ax.errorbar(xs, ys, yerr=errs if any(errs) else None, fmt="o-", capsize=3, label=run)
        ax.set(title=f"{metric} vs {sweep.param}", xlabel=sweep.param, ylabel=metric)
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.savefig(path, format="png", metadata={"Software": None})
    plt.close(fig)


def markdown(sweep: Sweep, figure: str | None) -> list[str]:
    """The report's sweep section, showing ``figure`` (a file beside the report) if given."""
    lines = [f"## Sweep over `{sweep.param}`", ""]
    if not sweep.points:
        lines.append(f"No experiment varies `{sweep.param}` alone around this revision's params.")
    if figure:
        lines += [f"![min validation loss and overfitting gap vs {sweep.param}]({figure})", ""]
    runs = varying_runs(sweep)
    if sweep.points and runs:
        header = " | ".join(f"{run} {m}" for run in runs for m in ("min val loss", "gap"))
        lines += [f"| {sweep.param} | experiments | {header} |", "|---|---|" + "---|" * (2 * len(runs))]
        for p in sweep.points:
            cells = " | ".join(render.loss(p.summary.get(run, {}), m) for run in runs for m in METRICS)
            lines.append(f"| {p.value:g} | {', '.join(p.names)} | {cells} |")
    for value, names in sweep.ambiguous.items():
        lines.append(f"- Ambiguous: `{sweep.param}={value:g}` has different results in {', '.join(names)}; not drawn.")
    if sweep.ignored:
        lines.append(f"- {sweep.ignored} other experiment(s) differ in another param too and are left out.")
    return lines


def section(sweep: Sweep, folder: Path) -> list[str]:
    """The report's sweep section, its figure drawn into ``folder`` (as ``sweep-PARAM.png``) when it has points."""
    figure = f"sweep-{sweep.param}.png" if sweep.points else None
    if figure:
        draw(sweep, folder / figure)
    return markdown(sweep, figure)
