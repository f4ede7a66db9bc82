"""Every network of the project, built from params in one place (stages and tests share it)."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import layers

# Kinds of random layer, the last part of a stream's key.
_DENSE, _DROPOUT = 0, 1


def _stream(seed: int, position: int, kind: int) -> np.random.SeedSequence:
    # A hash of the training seed and the layer's key, never seed + small integer: seed + 2i would
    # give training seed 0's third layer the same stream as seed 2's second one. The same
    # (seed, position, kind) always gives the same stream, so a regularised network and its
    # control start from the same Dense weights (a paired comparison).
    return np.random.SeedSequence(entropy=seed, spawn_key=(position, kind))


def layer_seed(seed: int, position: int, kind: int) -> int:
    """An independent integer seed for the random layer ``kind`` at ``position`` of a network
    trained with ``seed`` (a Keras layer's ``seed``), from the same streams as the initial weights."""
    return int(_stream(seed, position, kind).generate_state(1, np.uint32)[0] >> 1)  # a non-negative int32


def glorot_uniform(shape: tuple[int, int], stream: np.random.SeedSequence) -> np.ndarray:
    """Keras's default kernel initializer (uniform in ±sqrt(6 / (fan_in + fan_out))), drawn by NumPy.

    The same distribution as ``keras.initializers.GlorotUniform``; NumPy draws it because JAX would
    compile a random-number program (threefry) for every kernel shape: ≈1-2.5 s per training
    process here, with an empty compile cache. The same values on every Keras backend.
    """
    fan_in, fan_out = shape
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return np.random.default_rng(stream).uniform(-limit, limit, size=shape).astype(np.float32)


def _dense(units: int, activation: str | None, stream: np.random.SeedSequence, name: str) -> layers.Dense:
    def draw(shape: tuple[int, int], dtype: str | None = None) -> np.ndarray:
        return glorot_uniform(shape, stream).astype(dtype or np.float32)

    return layers.Dense(units, activation=activation, kernel_initializer=draw, name=name)


def build_mlp(
    n_inputs: int,
    units: Sequence[int],
    *,
    activation: str = "relu",
    dropout: float = 0.0,
    batchnorm: bool = False,
    seed: int = 0,
    name: str = "mlp",
) -> keras.Sequential:
    """A regression MLP: hidden Dense layers of ``units``, then Dense(1).

    ``dropout > 0`` puts Dropout(dropout) after every hidden Dense layer (the Spotify model);
    ``batchnorm`` puts BatchNormalization before every Dense layer, the output one included
    (the concrete model). Each random layer gets its own independent stream: Dense kernels are
    drawn by :func:`glorot_uniform`, Dropout masks seeded by :func:`layer_seed`.
    """
    stack: list[layers.Layer] = [keras.Input(shape=(n_inputs,), name="features")]
    for i, width in enumerate(units, start=1):
        if batchnorm:
            stack.append(layers.BatchNormalization(name=f"batchnorm_{i}"))
        stack.append(_dense(width, activation, _stream(seed, i, _DENSE), f"dense_{i}"))
        if dropout > 0:
            stack.append(layers.Dropout(dropout, seed=layer_seed(seed, i, _DROPOUT), name=f"dropout_{i}"))
    if batchnorm:
        stack.append(layers.BatchNormalization(name=f"batchnorm_{len(units) + 1}"))
    stack.append(_dense(1, None, _stream(seed, len(units) + 1, _DENSE), "output"))
    model = keras.Sequential(stack, name=name)  # built: the kernels are drawn by now
    for position, layer in enumerate((x for x in model.layers if isinstance(x, layers.Dense)), start=1):
        # What the saved model declares: Keras's own class for the distribution the kernel was
        # drawn from, so that `keras.saving.load_model` needs nothing of this package. (The
        # weights come from the file; an initializer only matters to a model built anew.) Seeded,
        # so that creating it draws nothing from Python's global `random`.
        layer.kernel_initializer = keras.initializers.GlorotUniform(seed=layer_seed(seed, position, _DENSE))
    return model


def compile_model(
    model: keras.Model, optimizer: str, learning_rate: float, loss: str, steps_per_execution: int = 1
) -> keras.Model:
    """Compile with a fresh optimizer named as in Keras ('adam', 'sgd', ...)."""
    # A fixed name: Keras would number a process's optimizers (adam, adam_1, ...) and the number
    # would end up in the saved model, so the same run could give other bytes in another process.
    opt = keras.optimizers.get({"class_name": optimizer, "config": {"learning_rate": learning_rate, "name": optimizer}})
    model.compile(optimizer=opt, loss=loss, steps_per_execution=steps_per_execution)
    return model
