"""The review report: what changed between two revisions, whether it helped, and the notebook's answers.

    python -m dlpipe.review [--old main] [--new REV] [--out review] [--sweep dropout]

Compares ``--old`` (default ``main``) with ``--new`` (a commit, branch, tag or experiment name;
default: the workspace) using DVC's own diffs (`dvc params diff`, `dvc metrics diff`,
`dvc plots diff`), and writes ``OUT/report.md`` with PNG figures beside it: the params that
changed; every metric with old, new, change and a verdict (lower loss is better; a change smaller
than twice the pooled seed standard deviation is "within noise"); each run's train and validation
curves of both revisions on one figure; and the answers to the notebook's two questions, computed
from the metrics. ``--sweep PARAM`` adds min validation loss against PARAM over every experiment
that `dvc exp show` knows (e.g. after a queued sweep of dropout rates).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlpipe.atomic import atomic_path
from dlpipe.dvc_specs import select_top_level, top_level_plot_ids
from dlpipe.errors import UserError, run_cli
from dlpipe.registry import BATCHNORM, DROPOUT, TRAINING_STAGES
from dlpipe.spec_figures import render_spec_figures

WORKSPACE = "workspace"
STAGES = {t.stage: t.runs for t in TRAINING_STAGES}
PLOT_IDS = {t.stage: t.plot_id for t in TRAINING_STAGES}
LOWER_IS_BETTER = ("min_val_loss", "final_val_loss", "final_loss", "overfitting_gap")


# ---------------------------------------------------------------- reading DVC's diffs


def dvc_json(*args: str, cwd: Path = Path()) -> Any:
    """Run `dvc ARGS --json` and parse its output; a failure becomes one UserError line."""
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", *args, "--json"], cwd=cwd, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise UserError(f"`dvc {' '.join(args)}` failed: {reason}")
    # DVC writes bare NaN for NaN metrics; ours never do, but a hand-made file might.
    return json.loads(proc.stdout or "{}", parse_constant=lambda _: None)


def revs(old: str, new: str | None) -> list[str]:
    return [old] if new is None else [old, new]


@dataclass(frozen=True)
class Change:
    """One metric of one run in both revisions."""

    stage: str
    run: str
    name: str
    old: float | bool | None
    new: float | bool | None
    old_std: float | None = None
    new_std: float | None = None

    @property
    def delta(self) -> float | None:
        if isinstance(self.old, bool) or isinstance(self.new, bool) or self.old is None or self.new is None:
            return None
        return self.new - self.old

    @property
    def verdict(self) -> str:
        """better / worse / same / within noise / new / gone, for the reviewer."""
        if self.old is None and self.new is not None:
            return "new"
        if self.new is None and self.old is not None:
            return "gone"
        if self.name == "diverged":
            return "same" if self.old == self.new else ("better" if not self.new else "worse")
        delta = self.delta
        if delta is None or delta == 0:
            return "same"
        if self.old_std is not None and self.new_std is not None:
            pooled = math.sqrt((self.old_std**2 + self.new_std**2) / 2)
            if abs(delta) < 2 * pooled:
                return "within noise"
        if self.name not in LOWER_IS_BETTER:
            return "changed"
        return "better" if delta < 0 else "worse"


def _flatten(prefix: str, value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield from _flatten(f"{prefix}.{key}" if prefix else str(key), inner)
    else:
        yield prefix, value


def metric_changes(old: str, new: str | None, cwd: Path = Path()) -> list[Change]:
    """Every summary metric of every run, old and new (per-seed details left out)."""
    diff = dvc_json("metrics", "diff", *revs(old, new), "--all", cwd=cwd)
    values: dict[tuple[str, str, str], dict[str, Any]] = {}
    for path, metrics in diff.items():
        stage = Path(path).stem
        for key, entry in metrics.items():
            run, _, name = key.partition(".")
            if ".per_seed." in f".{name}." or not name:
                continue
            values[(stage, run, name)] = {"old": entry.get("old"), "new": entry.get("new")}
    changes = []
    for (stage, run, name), v in sorted(values.items()):
        if name.endswith("_std"):
            continue
        std = values.get((stage, run, f"{name}_std"), {})
        changes.append(Change(stage, run, name, v["old"], v["new"], std.get("old"), std.get("new")))
    return changes


def param_changes(old: str, new: str | None, cwd: Path = Path()) -> list[tuple[str, Any, Any]]:
    """(param, old, new) for every param that differs."""
    diff = dvc_json("params", "diff", *revs(old, new), cwd=cwd)
    rows = []
    for params in diff.values():
        for key, entry in params.items():
            rows.append((key, entry.get("old"), entry.get("new")))
    return sorted(rows)


def curves(answer: Mapping[str, Any]) -> dict[str, dict[tuple[str, str], list[dict]]]:
    """Per stage, the rows of each (revision, run) curve, from the answer of `dvc plots diff --json`."""
    data = answer.get("data", {})
    out: dict[str, dict[tuple[str, str], list[dict]]] = {}
    for stage, plot_id in PLOT_IDS.items():
        series: dict[tuple[str, str], dict[int, dict]] = {}
        for entry in data.get(plot_id, []):
            for row in entry.get("content", {}).get("data", {}).get("values", []):
                run = row["filename::field"].split("::")[0].removesuffix(".csv")
                series.setdefault((row["rev"], run), {})[int(float(row["epoch"]))] = row
        out[stage] = {key: [rows[e] for e in sorted(rows)] for key, rows in series.items()}
    return out


# ---------------------------------------------------------------- figures


def draw_run_figure(
    stage: str, run: str, by_rev: Mapping[str, list[dict]], path: Path, ylabel: str, diverged_at: Mapping[str, int]
) -> None:
    """One run's train (dashed) and validation (solid) loss in each revision, with ±1 std bands:
    the stages' own figure (:func:`dlpipe.figures.plot_loss_curves`), one colour per revision."""
    import pandas as pd

    from dlpipe.figures import plot_loss_curves

    columns = ("epoch", "loss", "val_loss", "loss_std", "val_loss_std")
    curves = {
        rev: pd.DataFrame(
            [{c: float(r[c]) for c in columns if c in r} for r in rows], columns=list(columns[:3]) if not rows else None
        )
        for rev, rows in by_rev.items()
    }
    plot_loss_curves(curves, f"{stage}: {run}", ylabel, path, diverged_at=diverged_at)


def sweep_points(param: str, cwd: Path = Path()) -> list[tuple[str, float, dict[str, Any]]]:
    """(name, param value, flat metrics) of every revision and experiment in `dvc exp show`."""
    points = []

    def visit(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item)
        elif isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and "params" in data:
                params = {
                    key: val
                    for file in (data.get("params") or {}).values()
                    for key, val in _flatten("", (file or {}).get("data") or {})
                }
                value = params.get(param)
                metrics = dict(
                    _flatten("", {Path(k).stem: v.get("data", {}) for k, v in (data.get("metrics") or {}).items()})
                )
                if isinstance(value, int | float) and metrics:
                    points.append((node.get("name") or str(node.get("rev", ""))[:7], float(value), metrics))
            for inner in node.values():
                if isinstance(inner, list | dict):
                    visit(inner)

    visit(dvc_json("exp", "show", "--all-commits", cwd=cwd))
    return points


def draw_sweep(param: str, points: list[tuple[str, float, dict[str, Any]]], path: Path) -> None:
    """Min validation loss (and overfitting gap) of the dropout run against ``param``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = sorted({p[1] for p in points})
    best = {}
    for _, x, m in points:
        if f"{DROPOUT.stage}.{DROPOUT.regularised}.min_val_loss" in m:
            best.setdefault(x, m[f"{DROPOUT.stage}.{DROPOUT.regularised}.min_val_loss"])
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100, layout="constrained")
    ax.plot([x for x in xs if x in best], [best[x] for x in xs if x in best], "o-", label="dropout run")
    ax.set(title=f"min validation loss vs {param}", xlabel=param, ylabel="min val_loss")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.savefig(path, format="png", metadata={"Software": None})
    plt.close(fig)


# ---------------------------------------------------------------- the report


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1e4 else f"{value:.4g}"
    return str(value)


def _get(changes: list[Change], stage: str, run: str, name: str, side: str) -> Any:
    for c in changes:
        if (c.stage, c.run, c.name) == (stage, run, name):
            return getattr(c, side)
    return None


def answer_dropout(changes: list[Change], side: str) -> str:
    """Does dropout reduce overfitting here? From the gap and min val loss vs the baseline."""
    gap_d, gap_b = (_get(changes, DROPOUT.stage, r, "overfitting_gap", side) for r in DROPOUT.runs)
    min_d, min_b = (_get(changes, DROPOUT.stage, r, "min_val_loss", side) for r in DROPOUT.runs)
    if None in (gap_d, gap_b, min_d, min_b):
        return "Cannot tell: a run has no finite validation loss in this revision."
    verdict = "Yes" if gap_d < gap_b else "No"
    return (
        f"**{verdict}.** Overfitting gap (final − min validation loss): {gap_d:.4f} with Dropout vs {gap_b:.4f} "
        f"without. Min validation loss: {min_d:.4f} with Dropout vs {min_b:.4f} without "
        f"({'better' if min_d < min_b else 'not better'} with Dropout)."
    )


def answer_batchnorm(changes: list[Change], side: str) -> str:
    """Does batch normalization let the optimizer train on this data? Vs the run without it."""
    div_b = _get(changes, BATCHNORM.stage, BATCHNORM.control, "diverged", side)
    min_bn = _get(changes, BATCHNORM.stage, BATCHNORM.regularised, "min_val_loss", side)
    min_b = _get(changes, BATCHNORM.stage, BATCHNORM.control, "min_val_loss", side)
    div_bn = _get(changes, BATCHNORM.stage, BATCHNORM.regularised, "diverged", side)
    if min_bn is None or div_bn:
        return "**No.** The network with BatchNormalization did not train (it diverged)."
    if div_b or min_b is None:
        at = _get(changes, BATCHNORM.stage, BATCHNORM.control, "diverged_at_epoch", side)
        return (
            f"**Yes.** With BatchNormalization the min validation loss is {min_bn:.4f}; without it the loss "
            f"became NaN/inf{f' at epoch {at:g}' if at is not None else ''}: training failed."
        )
    if min_b >= 3 * min_bn:
        return (
            f"**Yes.** Min validation loss {min_bn:.4f} with BatchNormalization vs {min_b:.4f} without "
            "(the network without it barely trains)."
        )
    return (
        f"**Not needed here.** Without BatchNormalization the network also trains: min validation loss "
        f"{min_b:.4f} vs {min_bn:.4f} with it."
    )


def write_report(old: str, new: str | None, out: Path, sweep: str | None = None, cwd: Path = Path()) -> Path:
    """Write OUT/report.md and its figures; return the report's path. All or nothing."""
    new_label = new or WORKSPACE
    params = param_changes(old, new, cwd)
    changes = metric_changes(old, new, cwd)
    if not changes:
        raise UserError(f"no metrics to compare between {old} and {new_label}; run `dvc repro` first")
    plots_answer = dvc_json("plots", "diff", *revs(old, new), cwd=cwd)
    series = curves(plots_answer)
    with atomic_path(out) as tmp:
        tmp.mkdir()
        lines = [f"# Review: `{old}` → `{new_label}`", "", "## Params that changed", ""]
        if params:
            lines += [f"| param | {old} | {new_label} |", "|---|---|---|"]
            lines += [f"| `{k}` | {_fmt(a)} | {_fmt(b)} |" for k, a, b in params]
        else:
            lines.append("None.")
        lines += [
            "",
            "## Metrics",
            "",
            "Lower loss and gap are better. *within noise*: the change is smaller than twice the pooled "
            "standard deviation over seeds (needs several `seeds`).",
            "",
            f"| stage | run | metric | {old} | {new_label} | change | verdict |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in changes:
            if c.name in ("per_seed", "seeds", "diverged_seeds"):
                continue
            old_s = _fmt(c.old) + (f" ± {c.old_std:.4f}" if c.old_std else "")
            new_s = _fmt(c.new) + (f" ± {c.new_std:.4f}" if c.new_std else "")
            delta = "–" if c.delta is None else f"{c.delta:+d}" if isinstance(c.delta, int) else f"{c.delta:+.4f}"
            lines.append(f"| {c.stage} | {c.run} | {c.name} | {old_s} | {new_s} | {delta} | {c.verdict} |")
        lines += ["", "## Loss curves", ""]
        for stage, runs in STAGES.items():
            for run in runs:
                by_rev = {rev: rows for (rev, r), rows in series.get(stage, {}).items() if r == run}
                # A run with no finite epoch has no rows at all: its figure says so.
                ordered = {rev: by_rev.get(rev, []) for rev in (old, new_label)}
                name = f"{stage}-{run}.png"
                stopped = {
                    label: int(at)
                    for label, side in ((old, "old"), (new_label, "new"))
                    if (at := _get(changes, stage, run, "diverged_at_epoch", side)) is not None
                }
                draw_run_figure(stage, run, ordered, tmp / name, "loss (MAE)", stopped)
                lines.append(f"![{stage} {run}: train and validation loss, {old} vs {new_label}]({name})")
        # The same charts as `dvc plots diff` draws them (DVC's own Vega-Lite specs, rendered to PNG).
        specs = select_top_level(plots_answer, top_level_plot_ids(cwd / "dvc.yaml")).specs
        lines += ["", "As `dvc plots diff` draws them:", ""]
        for path in render_spec_figures(specs, tmp):
            if path.suffix == ".png":
                lines.append(f"![{path.stem}]({path.name})")
        lines += ["", "## The notebook's questions", "", "### Does Dropout reduce overfitting here?", ""]
        lines += [f"- `{new_label}`: {answer_dropout(changes, 'new')}", f"- `{old}`: {answer_dropout(changes, 'old')}"]
        lines += ["", "### Does BatchNormalization let the network train on the unstandardised data?", ""]
        lines += [
            f"- `{new_label}`: {answer_batchnorm(changes, 'new')}",
            f"- `{old}`: {answer_batchnorm(changes, 'old')}",
        ]
        if sweep:
            points = sweep_points(sweep, cwd)
            lines += ["", f"## Sweep over `{sweep}`", ""]
            if points:
                draw_sweep(sweep, points, tmp / f"sweep-{sweep}.png")
                lines += [
                    f"![min validation loss vs {sweep}](sweep-{sweep}.png)",
                    "",
                    f"| experiment | {sweep} | dropout min val loss | dropout gap |",
                    "|---|---|---|---|",
                ]
                for name, x, m in sorted(points, key=lambda p: (p[1], p[0])):
                    lines.append(
                        f"| {name} | {x:g} | {_fmt(m.get(f'{DROPOUT.stage}.{DROPOUT.regularised}.min_val_loss'))} | "
                        f"{_fmt(m.get(f'{DROPOUT.stage}.{DROPOUT.regularised}.overfitting_gap'))} |"
                    )
            else:
                lines.append(f"No experiment records `{sweep}`.")
        (tmp / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out / "report.md"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default="main", help="base revision or experiment (default: main)")
    parser.add_argument("--new", default=None, help="revision or experiment to review (default: the workspace)")
    parser.add_argument("--out", default="review", type=Path, help="output folder (default: review)")
    parser.add_argument("--sweep", default=None, help="also plot min validation loss against this param")
    args = parser.parse_args(argv)
    path = write_report(args.old, args.new, args.out, args.sweep)
    print(path)


if __name__ == "__main__":
    run_cli("review", main)
