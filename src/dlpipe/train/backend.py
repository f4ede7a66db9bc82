"""Choose the Keras backend and seed every random source, before Keras is imported."""

from __future__ import annotations

import importlib.util
import os
import random
import sys
from pathlib import Path

import numpy as np

from dlpipe.core.atomic import check_writable
from dlpipe.core.errors import UserError

# XLA's CPU threads per JAX process, whatever the machine. Their number changes the bits of a fit (a
# matrix product's sums are split differently across threads: same data and seed, other weights), so a
# count taken from the machine (XLA's default: the CPUs the process may use) would make the results
# depend on its cores. One, because these networks are too small to share: a second thread costs more
# CPU than it saves (benchmarks/run.py times the fits both ways). The cores go to training a stage's
# models side by side, one process each.
XLA_CPU_THREADS = 1
# TensorFlow's threads per process, in each of its two pools, for the same reasons.
TF_CPU_THREADS = XLA_CPU_THREADS


def configure_backend(
    name: str,
    jax_cache_dir: Path | None = None,
    *,
    training_process: bool = False,
    worker: bool = False,
    command: str = "dlpipe",
) -> None:
    """Select the Keras backend for this process; must run before the first ``import keras``.

    ``jax_cache_dir``: where JAX keeps compiled programs, unless the environment already names a folder;
    one that cannot be written is not used: ``command`` prints a one-line warning and the process
    compiles without a cache (the same results, only the compiling is not kept for the next run).

    ``training_process`` also keeps scikit-learn out: Keras imports it (≈1 s) only for its
    scikit-learn wrappers, which a training stage never uses. ``worker`` (a training process that
    only trains: its stage makes the tables and draws the figures) keeps matplotlib and pandas out
    too: Keras imports pyplot (≈1 s here) only for its image gallery, and pandas (≈0.5 s) only to
    recognise pandas inputs.
    """
    if "keras" in sys.modules and os.environ.get("KERAS_BACKEND", "tensorflow") != name:
        raise UserError(f"Keras is already imported with another backend; cannot switch to {name}")
    if name == "tensorflow" and importlib.util.find_spec("tensorflow") is None:
        # TensorFlow is the optional `tensorflow` extra: say how to get it before Keras fails on it.
        raise UserError(
            "keras_backend: tensorflow needs TensorFlow, which this environment does not have; install it "
            "by adding --extra tensorflow to the README's `uv sync` (or use --all-extras), or set keras_backend: jax"
        )
    os.environ["KERAS_BACKEND"] = name
    # Silence TensorFlow's C++ start-up chatter; real errors still surface as exceptions.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if name == "jax":
        # Keras imports TensorFlow whenever it is installed, even under JAX, just to ask
        # `isinstance(x, tf.TensorShape)` when saving a model: ≈2.5 s and ≈500 MB for nothing.
        # A None entry in sys.modules makes `import tensorflow` fail fast, so Keras treats
        # TensorFlow as absent in this process.
        sys.modules.setdefault("tensorflow", None)  # type: ignore[arg-type]
        # Read by XLA when JAX first starts its CPU client. Set, not defaulted: the count is part of the
        # results.
        os.environ["PJRT_NPROC"] = str(XLA_CPU_THREADS)
    if name == "tensorflow":
        # The same for TensorFlow's two thread pools (within an op, between ops), read when its first op
        # runs. Its deterministic ops repeat their bits on the same machine, thread count included: by
        # default that count is the process's CPUs, and on an AMD EPYC with AVX2 a fit on two cores gave
        # other weights than on one.
        os.environ["TF_NUM_INTRAOP_THREADS"] = os.environ["TF_NUM_INTEROP_THREADS"] = str(TF_CPU_THREADS)
    if training_process or worker:
        sys.modules.setdefault("sklearn", None)  # type: ignore[arg-type]
    if worker:
        sys.modules.setdefault("matplotlib", None)  # type: ignore[arg-type]
        sys.modules.setdefault("pandas", None)  # type: ignore[arg-type]
    if name == "jax" and jax_cache_dir is not None:
        # A folder the environment names is the user's to look after; ours is checked first.
        if "JAX_COMPILATION_CACHE_DIR" not in os.environ and not _writable_cache(jax_cache_dir, command):
            return
        for variable, value in compile_cache_environment(jax_cache_dir).items():
            os.environ.setdefault(variable, value)


def _writable_cache(jax_cache_dir: Path, command: str) -> bool:
    """Whether ``jax_cache_dir`` can be created and written; if not, say so in one warning line."""
    try:
        jax_cache_dir.mkdir(parents=True, exist_ok=True)
        check_writable([jax_cache_dir])
    except OSError as exc:
        print(
            f"{command}: warning: cannot write the JAX compile cache {jax_cache_dir} "
            f"({exc.strerror or type(exc).__name__}); compiling without it (same results, only slower to start); "
            "set DLPIPE_JAX_CACHE to a writable folder to keep the compiled programs",
            file=sys.stderr,
            flush=True,
        )
        return False
    return True


def compile_cache_environment(jax_cache_dir: Path) -> dict[str, str]:
    """The environment variables that make JAX keep every compiled program in ``jax_cache_dir``."""
    return {
        "JAX_COMPILATION_CACHE_DIR": str(jax_cache_dir.resolve()),
        # Every program, however small or quick to compile: ours are small, and compiling them is
        # most of a fit's fixed cost.
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
    }


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and the backend so that a run is repeatable bit for bit.

    The model factory also draws the initial kernels from per-layer NumPy streams and passes
    explicit seeds to every Dropout layer. Under
    JAX, ``keras.utils.set_random_seed`` would import TensorFlow (≈2 s, ≈500 MB) only to seed
    it, so it is used with the TensorFlow backend alone, where ``fit`` shuffles with tf.random.
    """
    random.seed(seed)
    np.random.seed(seed)
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        keras.utils.set_random_seed(seed)
        tf.config.experimental.enable_op_determinism()
