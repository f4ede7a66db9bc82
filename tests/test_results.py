"""The committed results (from `dvc repro` on the real data) land where the notebook's did.

`.ci/run` reruns the whole pipeline on the real data and then runs this file again, so these
assertions hold for fresh results, not only for the committed ones.
"""

import json
from pathlib import Path

from dlpipe.results_table import BEGIN, END, results_table

ROOT = Path(__file__).resolve().parents[1]


def metrics(stage: str) -> dict:
    return json.loads((ROOT / "metrics" / f"{stage}.json").read_text())


def test_dropout_model_matches_the_notebook_and_overfits_less_than_without_dropout():
    m = metrics("train_dropout")
    assert 0.17 <= m["dropout"]["min_val_loss"] <= 0.21  # notebook: 0.1923
    assert not m["dropout"]["diverged"] and m["dropout"]["epochs_trained"] == 50
    assert m["no_dropout"]["overfitting_gap"] > m["dropout"]["overfitting_gap"]
    # Without dropout the model fits the training data much better than it generalises.
    assert m["no_dropout"]["final_loss"] < m["dropout"]["final_loss"]


def test_batchnorm_trains_where_the_plain_network_fails():
    m = metrics("train_batchnorm")
    assert m["batchnorm"]["min_val_loss"] <= 5.0  # notebook: 3.9469
    assert not m["batchnorm"]["diverged"]
    control = m["no_batchnorm"]
    assert control["diverged"] or control["min_val_loss"] >= 3 * m["batchnorm"]["min_val_loss"]


def test_readme_table_is_the_one_generated_from_the_metrics():
    readme = (ROOT / "README.md").read_text()
    between = readme.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert between == results_table(ROOT / "metrics")
