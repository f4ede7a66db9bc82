"""The notebook's check cells (q_1.check, q_3.check) as tests of the one model factory."""

import keras
import numpy as np
import pytest
from keras import layers

from dlpipe.train.models import build_mlp


def kinds(model):
    return [type(layer).__name__ for layer in model.layers]


@pytest.mark.parametrize("rate", [0.3, 0.5])
def test_dropout_follows_the_128_and_64_unit_layers(rate):
    model = build_mlp(18, [128, 64], dropout=rate)
    assert kinds(model) == ["Dense", "Dropout", "Dense", "Dropout", "Dense"]
    dense = [layer for layer in model.layers if isinstance(layer, layers.Dense)]
    assert [d.units for d in dense] == [128, 64, 1]
    assert [d.activation.__name__ for d in dense] == ["relu", "relu", "linear"]
    assert [d.rate for d in model.layers if isinstance(d, layers.Dropout)] == [rate, rate]
    assert model.input_shape == (None, 18)


def test_control_network_has_no_dropout():
    assert kinds(build_mlp(18, [128, 64], dropout=0.0)) == ["Dense", "Dense", "Dense"]


def test_batchnorm_precedes_every_dense_layer():
    model = build_mlp(8, [512, 512, 512], batchnorm=True)
    assert kinds(model) == ["BatchNormalization", "Dense"] * 4
    assert [d.units for d in model.layers if isinstance(d, layers.Dense)] == [512, 512, 512, 1]
    assert model.input_shape == (None, 8)


def test_seeded_models_start_from_the_same_weights():
    a, b, c = (build_mlp(8, [16], seed=s) for s in (3, 3, 4))
    assert all(keras.ops.all(x == y) for x, y in zip(a.get_weights(), b.get_weights(), strict=False))
    assert not keras.ops.all(a.get_weights()[0] == c.get_weights()[0])


def test_no_two_seeds_or_layers_share_initial_weights():
    # The real concrete network: three 512 x 512 kernels per model, the shape most likely to collide.
    kernels = {}
    for seed in range(6):
        model = build_mlp(8, [512, 512, 512], batchnorm=True, seed=seed)
        for layer in model.layers:
            if isinstance(layer, layers.Dense):
                kernels[(seed, layer.name)] = keras.ops.convert_to_numpy(layer.kernel).tobytes()
    assert len(set(kernels.values())) == len(kernels) == 6 * 4


def test_no_two_seeds_or_layers_share_dropout_masks():
    ones = keras.ops.ones((64, 256))
    masks = {}
    for seed in range(6):
        model = build_mlp(256, [256, 256], dropout=0.5, seed=seed)
        for layer in model.layers:
            if isinstance(layer, layers.Dropout):
                kept = keras.ops.convert_to_numpy(layer(ones, training=True)) != 0
                masks[(seed, layer.name)] = kept.tobytes()
    assert len(set(masks.values())) == len(masks) == 6 * 2


def test_a_network_and_its_control_start_from_the_same_dense_weights():
    # Paired comparison: for one seed, Dropout (or BatchNormalization) is the only difference.
    with_dropout = build_mlp(18, [128, 64], dropout=0.3, seed=5)
    control = build_mlp(18, [128, 64], seed=5)
    dense = [
        [keras.ops.convert_to_numpy(x.kernel) for x in m.layers if isinstance(x, layers.Dense)]
        for m in (with_dropout, control)
    ]
    assert all((a == b).all() for a, b in zip(*dense, strict=True))


def test_kernels_have_glorot_uniforms_spread_whatever_the_backend():
    # Glorot (Xavier) uniform, Keras's default and the notebook's: U(-a, a) with a = sqrt(6 / (fan_in + fan_out)),
    # so a variance of 2 / (fan_in + fan_out), a mean of 0, and nothing beyond a. Drawn by NumPy (no
    # random-number program for JAX to compile): the same on TensorFlow (tests/test_backends.py runs this too).
    model = build_mlp(8, [512, 64], seed=7)
    dense = [layer for layer in model.layers if isinstance(layer, layers.Dense)]
    for layer in dense[:2]:  # 8 x 512 and 512 x 64: thousands of draws each
        kernel = keras.ops.convert_to_numpy(layer.kernel).astype(np.float64)
        fan_in, fan_out = kernel.shape
        variance, limit = 2 / (fan_in + fan_out), np.sqrt(6 / (fan_in + fan_out))
        assert kernel.var() == pytest.approx(variance, rel=0.06)
        assert abs(kernel.mean()) < 0.05 * limit and np.abs(kernel).max() <= limit * (1 + 1e-6)
        # Uniform, not normal: a quarter of the draws within a quarter of the limit, and as many near it.
        assert (np.abs(kernel) < limit / 4).mean() == pytest.approx(0.25, abs=0.04)
        assert (np.abs(kernel) > 3 * limit / 4).mean() == pytest.approx(0.25, abs=0.04)
        # What a saved model declares: Keras's own class, so loading needs nothing of this package.
        assert type(layer.kernel_initializer) is keras.initializers.GlorotUniform
