"""The TensorFlow backend (the notebook's engine) passes the same model and training tests.

Unit tests run on JAX in this process (a process has one Keras backend), so the TensorFlow run
happens in a child pytest.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(os.environ.get("DLPIPE_TEST_BACKEND") == "tensorflow", reason="already the child run")
def test_models_and_training_pass_on_tensorflow():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            "0",  # one process: this test already runs beside the others
            "tests/test_models.py",
            "tests/test_training.py",
        ],
        cwd=ROOT,
        env={**os.environ, "DLPIPE_TEST_BACKEND": "tensorflow"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout


def test_backend_is_recorded_in_params_and_applied_before_keras(tmp_path):
    code = (
        "from dlpipe.train.backend import configure_backend; configure_backend('jax');"
        "import keras, sys; print(keras.backend.backend(), 'tensorflow' in sys.modules and sys.modules['tensorflow'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["jax", "None"]  # and TensorFlow kept out of the JAX process


def test_tensorflow_backend_without_tensorflow_installed_is_one_line_saying_how_to_install_it(tmp_path):
    # TensorFlow is an optional extra: a process where it cannot be imported stands for an environment
    # installed without it.
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["keras_backend"] = "tensorflow"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    stage = ROOT / "stages/train_dropout.py"
    code = (
        "import runpy, sys; sys.modules['tensorflow'] = None; "
        f"sys.argv = [{str(stage)!r}]; runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr == (
        "train_dropout: error: keras_backend: tensorflow needs TensorFlow, which this environment does not have; "
        "install it by adding --extra tensorflow to the README's `uv sync` (or use --all-extras), "
        "or set keras_backend: jax\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]
