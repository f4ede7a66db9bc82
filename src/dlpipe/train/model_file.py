"""Save a Keras model so that the same weights always give the same bytes.

Keras's `.keras` archive is a zip of `metadata.json`, `config.json` and `model.weights.h5`. Two saves
of one model differ in `date_saved` (metadata) and in the zip entry times, and two processes in the
memory addresses Keras writes as `shared_object_id` (config); the HDF5 weights are byte-stable (h5py
writes no object times by default). We let Keras write the archive, then rewrite the zip with the same
entries, in the same order, with `date_saved` removed, shared ids renumbered and every entry time set
to the zip epoch, so DVC sees an unchanged model as unchanged (no new hash, no new cache object,
a clean `dvc.lock` after a rerun). `keras.saving.load_model` reads the result as usual.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import keras

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_METADATA = "metadata.json"
_CONFIG = "config.json"
_SHARED_ID = "shared_object_id"


def _renumber_shared_ids(node: Any, ids: dict[int, int]) -> Any:
    """Replace Keras's ``shared_object_id`` values (Python ``id()``s: memory addresses, different in
    every process) by 0, 1, 2, ... in order of first appearance; equal ids stay equal, which is all
    loading needs to link the objects again."""
    if isinstance(node, dict):
        return {
            key: ids.setdefault(value, len(ids)) if key == _SHARED_ID else _renumber_shared_ids(value, ids)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_renumber_shared_ids(item, ids) for item in node]
    return node


def normalise_archive(raw: Path, dest: Path) -> None:
    """Copy the `.keras` zip ``raw`` to ``dest`` with fixed entry times and no save date."""
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(dest, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == _METADATA:
                metadata = json.loads(data)
                metadata.pop("date_saved", None)
                data = json.dumps(metadata, sort_keys=True).encode()
            elif info.filename == _CONFIG:
                data = json.dumps(_renumber_shared_ids(json.loads(data), {})).encode()
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH)
            entry.compress_type = info.compress_type
            entry.external_attr = 0o644 << 16
            entry.create_system = 3  # Unix, whatever system wrote it
            out.writestr(entry, data)


def save_model(model: keras.Model, path: Path) -> None:
    """Write ``model`` to ``path`` (a `.keras` file, its folder made if needed) reproducibly: same weights,
    same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(prefix=".keras-save-", dir=path.parent) as tmp:
            raw = Path(tmp) / path.name
            model.save(raw)
            normalise_archive(raw, path)
    except OSError as exc:
        # A full disk surfaces in h5py's or zipfile's write(), which knows no path: say which model.
        if exc.filename is None:
            exc.filename = str(path)
        raise
