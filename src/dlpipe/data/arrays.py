"""Training and validation arrays as the stages hand them over (kept free of heavy imports)."""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass

import numpy as np

from dlpipe.core.errors import UserError


@dataclass(frozen=True)
class Arrays:
    """Training and validation arrays, float32, targets as column vectors."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray

    @property
    def n_inputs(self) -> int:
        """Number of input features."""
        return int(self.x_train.shape[1])

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the four arrays to an uncompressed .npz file."""
        with open(path, "wb") as fh:
            np.savez(fh, **self.__dict__)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Arrays:
        """Read arrays written by :meth:`save`; a damaged file, or one with no training or no validation
        rows (Keras would stop on it with a bare StopIteration), is a UserError saying how to rebuild it."""
        try:
            with np.load(path) as data:
                arrays = cls(**{k: data[k] for k in ("x_train", "y_train", "x_valid", "y_valid")})
        except (zipfile.BadZipFile, ValueError, EOFError, KeyError) as exc:
            raise UserError(
                f"{os.fspath(path)} is damaged ({type(exc).__name__}: {' '.join(str(exc).split())}); "
                "rebuild it with `dvc repro` (it reruns preprocess)"
            ) from None
        for part in ("train", "valid"):
            if len(getattr(arrays, f"x_{part}")) == 0 or len(getattr(arrays, f"y_{part}")) == 0:
                raise UserError(
                    f"{os.fspath(path)} has no {'training' if part == 'train' else 'validation'} rows; rebuild it "
                    "with `dvc repro preprocess`, and check that group_split's train sizes in params.yaml leave "
                    "rows on both sides"
                )
        return arrays
