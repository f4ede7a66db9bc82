"""Model files are reproducible: the same weights give the same bytes, and Keras still loads them."""

import os
import subprocess
import sys
import time
import zipfile

import keras
import numpy as np

from dlpipe.train.model_file import ZIP_EPOCH, save_model
from dlpipe.train.models import build_mlp, compile_model


def trained_model() -> keras.Model:
    model = compile_model(build_mlp(4, [8], batchnorm=True, dropout=0.2, seed=3), "adam", 0.01, "mae")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype("float32"), rng.normal(size=(64, 1)).astype("float32")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)  # optimizer state is saved too
    return model


def test_two_saves_of_one_model_are_byte_identical(tmp_path):
    model = trained_model()
    save_model(model, tmp_path / "a.keras")
    time.sleep(1.1)  # Keras's date_saved and the zip entry times have a resolution of seconds
    save_model(model, tmp_path / "b.keras")
    assert (tmp_path / "a.keras").read_bytes() == (tmp_path / "b.keras").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.keras") as archive:
        assert {info.date_time for info in archive.infolist()} == {ZIP_EPOCH}
        assert "date_saved" not in archive.read("metadata.json").decode()
    assert [p.name for p in tmp_path.iterdir()] != [] and not list(tmp_path.glob(".keras-save-*"))


def test_a_saved_model_loads_and_predicts_the_same_values(tmp_path):
    model = trained_model()
    save_model(model, tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(1).normal(size=(16, 4)).astype("float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert [w.shape for w in loaded.get_weights()] == [w.shape for w in model.get_weights()]


def test_shared_object_ids_are_renumbered_consistently():
    from dlpipe.train.model_file import _renumber_shared_ids

    config = {
        "a": {"shared_object_id": 140634393918864},
        "b": [{"shared_object_id": 99}, {"shared_object_id": 140634393918864}],
    }
    assert _renumber_shared_ids(config, {}) == {
        "a": {"shared_object_id": 0},
        "b": [{"shared_object_id": 1}, {"shared_object_id": 0}],
    }


def test_a_saved_model_loads_with_plain_keras(tmp_path):
    # A user's own notebook: Keras alone, nothing of this package imported.
    model = trained_model()
    save_model(model, tmp_path / "m.keras")
    x = np.random.default_rng(2).normal(size=(8, 4)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    code = (
        "import sys, numpy as np, keras;"
        "m = keras.saving.load_model(sys.argv[1]);"
        "np.save(sys.argv[3], m.predict(np.load(sys.argv[2]), verbose=0));"
        "assert not [n for n in sys.modules if n.startswith('dlpipe')]"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "m.keras"), str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
        check=True,
        # Without the thread count the tests' own backend set: the user's Keras runs as installed.
        env={**{k: v for k, v in os.environ.items() if k != "PJRT_NPROC"}, "KERAS_BACKEND": keras.backend.backend()},
        timeout=300,
    )
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), model.predict(x, verbose=0))
