"""Save a Keras model so that the same weights always give the same bytes.

Keras's `.keras` archive is a zip of `metadata.json`, `config.json` and `model.weights.h5`. Two saves
of one model differ in `date_saved` (metadata) and in the zip entry times; the HDF5 weights are
byte-stable (h5py writes no object times by default). We let Keras write the archive, then rewrite
the zip with the same entries, in the same order, with `date_saved` removed and every entry time
set to the zip epoch, so DVC sees an unchanged model as unchanged (no new hash, no new cache object,
a clean `dvc.lock` after a rerun). `keras.saving.load_model` reads the result as usual.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path

import keras

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_METADATA = "metadata.json"


def normalise_archive(raw: Path, dest: Path) -> None:
    """Copy the `.keras` zip ``raw`` to ``dest`` with fixed entry times and no save date."""
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(dest, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == _METADATA:
                metadata = json.loads(data)
                metadata.pop("date_saved", None)
                data = json.dumps(metadata, sort_keys=True).encode()
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH)
            entry.compress_type = info.compress_type
            entry.external_attr = 0o644 << 16
            entry.create_system = 3  # Unix, whatever system wrote it
            out.writestr(entry, data)


def save_model(model: keras.Model, path: Path) -> None:
    """Write ``model`` to ``path`` (a `.keras` file) reproducibly: same weights, same bytes."""
    with tempfile.TemporaryDirectory(prefix=".keras-save-", dir=path.parent) as tmp:
        raw = Path(tmp) / path.name
        model.save(raw)
        normalise_archive(raw, path)
