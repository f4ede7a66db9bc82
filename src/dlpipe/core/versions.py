"""The versions of the libraries that compute the pipeline's results, as uv.lock pins them.

DVC reruns a stage when a file it depends on changes, and sees nothing of the installed packages: a Keras
upgrade alone would leave `dvc repro` a no-op, and the committed results silently those of the old Keras.
Depending on uv.lock itself would rerun everything for a new ruff. So the stage `library_versions` reads
uv.lock and writes, for each group of stages, the pinned versions of just the packages that can change
that group's bits (``data/versions/<group>.json``), and those stages depend on that file: a new Keras in
uv.lock changes ``train.json`` and reruns the training stages; a new ruff changes no file and reruns
nothing after `library_versions` itself. Each such stage checks when it starts that the installed
versions are the pinned ones (:func:`check_installed`): its results are then those of the lock.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

from dlpipe.core.errors import UserError
from dlpipe.core.layout import VERSIONS_DIR

LOCK_FILE = Path("uv.lock")
# The packages whose versions can change each group's outputs. Data: reading the tables (pandas and its
# Excel reader), the splits and the fitted preprocessing (scikit-learn, SciPy, NumPy, joblib's pickles).
# Training: the network, its arithmetic and the model files (Keras, both backends, NumPy, ml_dtypes,
# h5py for the weights) and the curves' CSV (pandas). A TensorFlow upgrade reruns training on JAX too:
# the stage's dependencies cannot depend on a param.
GROUPS: dict[str, tuple[str, ...]] = {
    "data": ("joblib", "numpy", "pandas", "python-calamine", "scikit-learn", "scipy"),
    "train": ("h5py", "jax", "jaxlib", "keras", "ml-dtypes", "numpy", "pandas", "tensorflow", "tensorflow-cpu"),
}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(lock_text: str) -> dict[str, list[str]]:
    """Every package of a uv.lock (its text) with the version(s) it pins, by normalised name."""
    try:
        document = tomllib.loads(lock_text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{LOCK_FILE} is not valid TOML ({exc}); restore it with `git checkout {LOCK_FILE}`") from None
    found: dict[str, list[str]] = {}
    for package in document.get("package", []):
        if "name" in package and "version" in package:
            found.setdefault(_normal(package["name"]), []).append(str(package["version"]))
    return {name: sorted(set(versions)) for name, versions in found.items()}


def group_versions(locked: Mapping[str, list[str]], group: str) -> dict[str, list[str]]:
    """The pinned versions of ``group``'s packages (those the lock has)."""
    return {name: list(locked[name]) for name in GROUPS[group] if name in locked}


def write_groups(lock: Path = LOCK_FILE, folder: Path = VERSIONS_DIR) -> None:
    """One ``<group>.json`` per group in ``folder`` (which must exist), keys sorted: the same pins give
    the same bytes."""
    try:
        text = lock.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{lock} not found; run from the repository root") from None
    locked = locked_versions(text)
    for group in GROUPS:
        pins = group_versions(locked, group)
        (folder / f"{group}.json").write_text(json.dumps(pins, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def check_installed(pins_file: Path) -> None:
    """Raise a UserError if an installed package of a group has another version than its pin (a package
    that is not installed is not used, and is not checked)."""
    try:
        pins = json.loads(pins_file.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return  # not built yet, or damaged: DVC reruns library_versions first
    wrong = []
    for name, versions in sorted(pins.items()):
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        if installed not in versions:
            wrong.append(f"{name} {installed} (uv.lock: {', '.join(versions)})")
    if wrong:
        raise UserError(
            f"installed versions differ from uv.lock: {'; '.join(wrong)}; the results would not be those of the "
            "lock: install it exactly (`uv sync --frozen`, the README's first command), or lock the new versions "
            "(`uv lock --upgrade-package NAME`) and rerun"
        )
