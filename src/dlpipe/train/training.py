"""One training loop for every run: fit, watch for divergence, return the per-epoch history."""

from __future__ import annotations

import math

import keras

from dlpipe.data.arrays import Arrays
from dlpipe.display.progress import Progress

# One row per epoch trained: epoch (from 1), loss, val_loss. Plain rows, not a pandas table: a
# worker process that only trains keeps pandas out (Keras would import it, ≈0.5 s, only to
# recognise pandas inputs); the stage makes the table (dlpipe.train.summary.history_frame).
History = list[dict[str, float]]
VALIDATION_BATCH_CAP = 65536


class EpochLog(keras.callbacks.Callback):
    """Collect loss and val_loss per epoch; stop the run at the first non-finite value.

    A NaN or infinite loss is a result (the notebook's run without batch normalization), not a
    crash: the epoch is recorded and training stops there.
    """

    def __init__(self, progress: Progress, stop_on_divergence: bool = True) -> None:
        super().__init__()
        self.progress = progress
        self.stop_on_divergence = stop_on_divergence
        self.rows: History = []

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = logs or {}
        row = {
            "epoch": epoch + 1,
            "loss": float(logs.get("loss", math.nan)),
            "val_loss": float(logs.get("val_loss", math.nan)),
        }
        self.rows.append(row)
        diverged = not (math.isfinite(row["loss"]) and math.isfinite(row["val_loss"]))
        if diverged and self.stop_on_divergence:
            self.model.stop_training = True
        self.progress.epoch(row["epoch"], row["loss"], row["val_loss"], diverged and self.stop_on_divergence)


def fit(
    model: keras.Model,
    arrays: Arrays,
    *,
    batch_size: int,
    epochs: int,
    label: str,
    progress: Progress | None = None,
    stop_on_divergence: bool = True,
) -> History:
    """Train ``model`` with validation after every epoch; return its history.

    The history has one row per epoch trained (``epoch`` from 1, ``loss``, ``val_loss``); a
    diverged run ends with the first epoch whose loss is NaN or infinite, unless
    ``stop_on_divergence`` is off (the benchmark uses that to time all the notebook's epochs).
    """
    progress = progress or Progress()
    log = EpochLog(progress, stop_on_divergence=stop_on_divergence)
    progress.start(label, epochs)
    try:
        model.fit(
            arrays.x_train,
            arrays.y_train,
            validation_data=(arrays.x_valid, arrays.y_valid),
            batch_size=batch_size,
            # The validation loss is the same mean whatever the batching; one batch (up to a cap)
            # means one compiled evaluation program instead of two (full and last partial batch)
            # and one call per epoch instead of dozens.
            validation_batch_size=min(len(arrays.x_valid), VALIDATION_BATCH_CAP),
            epochs=epochs,
            shuffle=True,
            verbose=0,
            callbacks=[log],
        )
    finally:
        progress.close()
    return log.rows
