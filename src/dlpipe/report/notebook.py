"""The notebook's published results: what the pipeline's results are compared with.

Kaggle's *Intro to Deep Learning*, exercise 5 ("Dropout and Batch Normalization"), as printed in the
notebook: the minimum validation MAE of each run it trains. Kept apart from the pipeline's names
(`dlpipe.core.registry`) on purpose: the training stages import those, and a reference number must not
retrain a model when it is corrected.
"""

from __future__ import annotations

from dlpipe.display.render import DASH

# run -> minimum validation loss the notebook printed; None where it printed nan (the run diverged).
MIN_VAL_LOSS: dict[str, float | None] = {"dropout": 0.1923, "batchnorm": 3.9469, "no_batchnorm": None}


def reference(run: str) -> str:
    """The notebook's min validation loss of ``run`` as the README's table shows it."""
    if run not in MIN_VAL_LOSS:
        return DASH
    value = MIN_VAL_LOSS[run]
    return "nan (diverged)" if value is None else f"{value:.4f}"
