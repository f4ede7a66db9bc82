"""Train a set of runs (the regularised model and its baseline) and write what reviewers diff."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import keras
import pandas as pd

from dlpipe import layout
from dlpipe.arrays import Arrays
from dlpipe.atomic import atomic_path
from dlpipe.backend import seed_everything
from dlpipe.figures import plot_loss_curves
from dlpipe.models import build_mlp, compile_model
from dlpipe.params import TrainParams
from dlpipe.progress import Progress, summary_table
from dlpipe.summary import mean_history, summarize, summarize_seeds
from dlpipe.training import fit


@dataclass(frozen=True)
class Outputs:
    """Where one training stage writes: models (DVC cache), metrics and curves (git)."""

    models_dir: Path
    metrics_file: Path
    plots_dir: Path
    figure_file: Path

    @classmethod
    def for_stage(cls, stage: str) -> Outputs:
        """The project's layout: data/models/<stage>/, metrics/<stage>.json, plots/<stage>/."""
        return cls(
            models_dir=layout.MODELS_DIR / stage,
            metrics_file=layout.METRICS_DIR / f"{stage}.json",
            plots_dir=layout.PLOTS_DIR / stage,
            figure_file=layout.PLOTS_DIR / stage / "loss.png",
        )


def run_experiment(
    runs: Mapping[str, Mapping[str, Any]],
    arrays: Arrays,
    train: TrainParams,
    outputs: Outputs,
    title: str,
    seeds: Sequence[int],
    progress: Progress | None = None,
    report: TextIO | None = None,
) -> dict[str, dict]:
    """Train each named run once per seed with the same settings, then write all outputs.

    ``runs`` maps a run name to what sets it apart (``dropout``, ``batchnorm``: keyword
    arguments of :func:`dlpipe.models.build_mlp`); everything else comes from ``train``.

    For a given seed every run starts from the same seeded state, so the regularised model and
    its baseline see the same batches and the comparison does not depend on the order they are
    trained in. With several seeds the metrics give the mean, the standard deviation and the
    per-seed values, and the curves the mean (and its standard deviation); with one seed they
    are the run's own.

    Nothing is written until every run has finished, and each file is written atomically, so
    an interrupted stage leaves no partial output. ``progress`` shows each run as it trains;
    ``report`` gets the end-of-stage summary table. Returns the metrics per run.
    """
    histories: dict[str, dict[int, pd.DataFrame]] = {name: {} for name in runs}
    models: dict[str, keras.Model] = {}
    for name, variant in runs.items():
        for seed in seeds:
            seed_everything(seed)
            network = build_mlp(
                arrays.n_inputs, train.units, activation=train.activation, seed=seed, name=name, **variant
            )
            model = compile_model(network, train.optimizer, train.learning_rate, train.loss, train.steps_per_execution)
            label = name if len(seeds) == 1 else f"{name} seed {seed}"
            histories[name][seed] = fit(
                model, arrays, batch_size=train.batch_size, epochs=train.epochs, label=label, progress=progress
            )
            models[name if len(seeds) == 1 else f"{name}_seed{seed}"] = model
    metrics = {
        name: summarize_seeds({s: summarize(h) for s, h in per_seed.items()}) for name, per_seed in histories.items()
    }
    curves = {name: mean_history(per_seed) for name, per_seed in histories.items()}

    with atomic_path(outputs.models_dir) as tmp:
        tmp.mkdir()
        for name, model in models.items():
            model.save(tmp / f"{name}.keras")
    for name, curve in curves.items():
        with atomic_path(outputs.plots_dir / f"{name}.csv") as tmp:
            curve.to_csv(tmp, index=False, lineterminator="\n", float_format="%.9g")
    with atomic_path(outputs.figure_file) as tmp:
        plot_loss_curves(curves, title, f"loss ({train.loss})", tmp, diverged_at=_first_divergence(metrics))
    with atomic_path(outputs.metrics_file) as tmp:
        tmp.write_text(json.dumps(metrics, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    if report is not None:
        print(f"\n{title}\n{summary_table(metrics)}\n", file=report, flush=True)
    return metrics


def _first_divergence(metrics: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """Per run, the earliest epoch at which a seed diverged (for the figure's legend)."""
    found = {}
    for name, m in metrics.items():
        epochs = [m["diverged_at_epoch"]] if "diverged_at_epoch" in m else []
        epochs += [s["diverged_at_epoch"] for s in m.get("per_seed", {}).values() if "diverged_at_epoch" in s]
        if epochs:
            found[name] = min(epochs)
    return found
