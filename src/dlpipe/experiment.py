"""Train a set of runs (the regularised model and its baseline) and write what reviewers diff."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
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
from dlpipe.summary import finite_history, summarize
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
    seed: int,
    stream: TextIO | None = sys.stderr,
) -> dict[str, dict]:
    """Train each named run with the same settings and seed, then write all outputs.

    ``runs`` maps a run name to what sets it apart (``dropout``, ``batchnorm``: keyword
    arguments of :func:`dlpipe.models.build_mlp`); everything else comes from ``train``.

    Every run starts from the same seeded state, so the regularised model and its baseline see
    the same batches and the comparison does not depend on the order they are trained in.

    Nothing is written until every run has finished, and each file is written atomically, so
    an interrupted stage leaves no partial output. Returns the metrics per run.
    """
    histories: dict[str, pd.DataFrame] = {}
    models: dict[str, keras.Model] = {}
    for name, variant in runs.items():
        seed_everything(seed)
        network = build_mlp(arrays.n_inputs, train.units, activation=train.activation, seed=seed, name=name, **variant)
        model = compile_model(network, train.optimizer, train.learning_rate, train.loss, train.steps_per_execution)
        histories[name] = fit(
            model, arrays, batch_size=train.batch_size, epochs=train.epochs, label=name, stream=stream
        )
        models[name] = model
    metrics = {name: summarize(h) for name, h in histories.items()}

    with atomic_path(outputs.models_dir) as tmp:
        tmp.mkdir()
        for name, model in models.items():
            model.save(tmp / f"{name}.keras")
    for name, history in histories.items():
        with atomic_path(outputs.plots_dir / f"{name}.csv") as tmp:
            finite_history(history).to_csv(tmp, index=False, lineterminator="\n", float_format="%.9g")
    with atomic_path(outputs.figure_file) as tmp:
        plot_loss_curves(histories, title, f"loss ({train.loss})", tmp)
    with atomic_path(outputs.metrics_file) as tmp:
        tmp.write_text(json.dumps(metrics, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return metrics
