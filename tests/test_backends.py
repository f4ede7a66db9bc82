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

from dlpipe.train.backend import XLA_CPU_THREADS, compile_cache_environment, configure_backend

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


FIT_ON_CPUS = """
import hashlib, os, sys
os.sched_setaffinity(0, {int(c) for c in sys.argv[2].split(",")})
from dlpipe.train.backend import configure_backend
before = set(os.listdir("/proc/self/task"))  # NumPy's BLAS threads (one per CPU) have started
configure_backend(sys.argv[1], training_process=True)  # as a training stage: no scikit-learn, no SciPy BLAS
import numpy as np
from dlpipe.data.arrays import Arrays
from dlpipe.train.backend import seed_everything
from dlpipe.train.models import build_mlp, compile_model
from dlpipe.train.training import fit
rng = np.random.default_rng(0)
x, y = rng.normal(size=(2000, 18)).astype("float32"), rng.uniform(size=(2000, 1)).astype("float32")
seed_everything(0)
model = compile_model(build_mlp(18, [128, 64], dropout=0.3, seed=0), "adam", 0.001, "mae", 32)
fit(model, Arrays(x[:1500], y[:1500], x[1500:], y[1500:]), batch_size=512, epochs=3, label="t")
threads = {t: open(f"/proc/self/task/{t}/comm").read().strip() for t in os.listdir("/proc/self/task")}
print(hashlib.sha256(b"".join(np.asarray(w).tobytes() for w in model.get_weights())).hexdigest())
print(list(threads.values()).count("tf_XLAEigen"))
print(sum(t not in before for t in threads))
"""
# What could choose the threads or reuse another process's compiled programs: each child starts clean.
THREAD_SETTINGS = ("JAX_", "XLA_", "PJRT_", "TF_NUM_", "NPROC", "OMP_")


@pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to choose from"
)
@pytest.mark.parametrize("backend", ["jax", "tensorflow"])
def test_a_fit_gives_the_same_weights_on_one_core_and_on_two(backend):
    # JAX's XLA takes its thread count from the CPUs a process may use, and with it other bits (on these
    # shapes, 2000 rows in batches of 512: seen here before the count was fixed). So does TensorFlow, its
    # ops made deterministic (seen on an AMD EPYC with AVX2 before its count was fixed too).
    first, second = sorted(os.sched_getaffinity(0))[:2]
    env = {k: v for k, v in os.environ.items() if not k.startswith(THREAD_SETTINGS)}
    results = []
    for cpus in (f"{first}", f"{first},{second}"):  # no compile cache: each child compiles its own programs
        proc = subprocess.run(
            [sys.executable, "-c", FIT_ON_CPUS, backend, cpus],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        results.append(proc.stdout.split())
    (one_core, _, started_on_one), (two_cores, xla_threads, started_on_two) = results
    assert len(one_core) == 64 and one_core == two_cores
    if backend == "jax":  # on two CPUs too, the one thread the pipeline fixes
        assert int(xla_threads) == XLA_CPU_THREADS == 1
    else:  # the threads TensorFlow starts do not depend on the CPUs (by default, two more on two)
        assert started_on_one == started_on_two


@pytest.mark.parametrize("writable", [True, False])
def test_a_compile_cache_that_cannot_be_written_is_left_unused_with_one_warning(
    tmp_path, monkeypatch, capsys, writable
):
    for variable in compile_cache_environment(tmp_path):
        monkeypatch.delenv(variable, raising=False)
    if not writable:
        (tmp_path / "cache").write_text("a file where the cache folder should be")
    configure_backend("jax", tmp_path / "cache" / "jax", command="demo")
    used = os.environ.get("JAX_COMPILATION_CACHE_DIR")
    warning = capsys.readouterr().err
    if writable:
        assert used == str(tmp_path / "cache" / "jax") and warning == ""
        assert (tmp_path / "cache" / "jax").is_dir()
    else:
        assert used is None and warning.count("\n") == 1
        assert warning.startswith(f"demo: warning: cannot write the JAX compile cache {tmp_path / 'cache' / 'jax'} ")
