"""Every network of the project, built from params in one place (stages and tests share it)."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers


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
    (the concrete model). Each random layer gets its own seed derived from ``seed``.
    """
    stack: list[layers.Layer] = [keras.Input(shape=(n_inputs,), name="features")]
    for i, width in enumerate(units, start=1):
        if batchnorm:
            stack.append(layers.BatchNormalization(name=f"batchnorm_{i}"))
        stack.append(_dense(width, activation, seed + 2 * i, f"dense_{i}"))
        if dropout > 0:
            stack.append(layers.Dropout(dropout, seed=seed + 2 * i + 1, name=f"dropout_{i}"))
    if batchnorm:
        stack.append(layers.BatchNormalization(name=f"batchnorm_{len(units) + 1}"))
    stack.append(_dense(1, None, seed + 2 * len(units) + 2, "output"))
    return keras.Sequential(stack, name=name)


def compile_model(
    model: keras.Model, optimizer: str, learning_rate: float, loss: str, steps_per_execution: int = 1
) -> keras.Model:
    """Compile with a fresh optimizer named as in Keras ('adam', 'sgd', ...)."""
    opt = keras.optimizers.get({"class_name": optimizer, "config": {"learning_rate": learning_rate}})
    model.compile(optimizer=opt, loss=loss, steps_per_execution=steps_per_execution)
    return model
