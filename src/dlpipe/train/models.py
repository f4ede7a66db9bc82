"""Every network of the project, built from params in one place (stages and tests share it)."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import layers

# Kinds of random layer, the last part of a stream's key.
_DENSE, _DROPOUT = 0, 1


def layer_seed(seed: int, position: int, kind: int) -> int:
    """An independent seed for the random layer ``kind`` at ``position`` of a network trained with ``seed``.

    Derived through NumPy's SeedSequence (a hash of the training seed and the layer's key), never by
    adding small integers: seed + 2i would give training seed 0's third layer the same stream as
    seed 2's second one. The same (seed, position, kind) always gives the same stream, so a
    regularised network and its control start from the same Dense weights (a paired comparison).
    """
    state = np.random.SeedSequence(entropy=seed, spawn_key=(position, kind)).generate_state(1, np.uint32)[0]
    return int(state >> 1)  # 31 bits: a non-negative int32 for every backend


def _dense(units: int, activation: str | None, seed: int, name: str) -> layers.Dense:
    return layers.Dense(
        units,
        activation=activation,
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
        name=name,
    )


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
    (the concrete model). Each random layer gets its own independent stream (:func:`layer_seed`).
    """
    stack: list[layers.Layer] = [keras.Input(shape=(n_inputs,), name="features")]
    for i, width in enumerate(units, start=1):
        if batchnorm:
            stack.append(layers.BatchNormalization(name=f"batchnorm_{i}"))
        stack.append(_dense(width, activation, layer_seed(seed, i, _DENSE), f"dense_{i}"))
        if dropout > 0:
            stack.append(layers.Dropout(dropout, seed=layer_seed(seed, i, _DROPOUT), name=f"dropout_{i}"))
    if batchnorm:
        stack.append(layers.BatchNormalization(name=f"batchnorm_{len(units) + 1}"))
    stack.append(_dense(1, None, layer_seed(seed, len(units) + 1, _DENSE), "output"))
    return keras.Sequential(stack, name=name)


def compile_model(
    model: keras.Model, optimizer: str, learning_rate: float, loss: str, steps_per_execution: int = 1
) -> keras.Model:
    """Compile with a fresh optimizer named as in Keras ('adam', 'sgd', ...)."""
    # A fixed name: Keras would number a process's optimizers (adam, adam_1, ...) and the number
    # would end up in the saved model, so the same run could give other bytes in another process.
    opt = keras.optimizers.get({"class_name": optimizer, "config": {"learning_rate": learning_rate, "name": optimizer}})
    model.compile(optimizer=opt, loss=loss, steps_per_execution=steps_per_execution)
    return model
