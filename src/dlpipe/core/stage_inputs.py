"""A stage's declared inputs, snapshotted when it starts and checked unchanged when it ends.

DVC reads a stage's params and hashes its dependencies when the stage *finishes*, and records them in
dvc.lock and its run-cache: a value edited in params.yaml while the stage ran (by hand, or by a second
`dvc exp run` rewriting the file) would be recorded for outputs made with the old one, and the
run-cache would then serve those outputs to anyone asking for the new value. So a stage notes the
params and files dvc.yaml declares for it when it starts, and fails in one line before DVC records
anything if one of them changed. Files are compared by size and modification time: cheap, and any
edit or rewrite changes them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlpipe.core.errors import UserError
from dlpipe.core.params import parse_yaml, read_yaml

PARAMS_FILE = "params.yaml"
_MISSING = "(missing)"


def _stage_spec(stage: str, root: Path) -> Mapping[str, Any] | None:
    path = root / "dvc.yaml"
    if not path.is_file():
        return None
    document = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    stages = document.get("stages", {}) if isinstance(document, Mapping) else {}
    spec = stages.get(stage)
    return spec if isinstance(spec, Mapping) else None


def declared_params(spec: Mapping[str, Any]) -> list[str] | None:
    """The params.yaml keys a stage's dvc.yaml entry lists (dotted), or None when it depends on the
    whole file (``- params.yaml:`` with no keys)."""
    keys: list[str] = []
    for entry in spec.get("params", []) or []:
        if isinstance(entry, str):
            keys.append(entry)
        elif isinstance(entry, Mapping):
            for file, file_keys in entry.items():
                if file != PARAMS_FILE:
                    continue
                if not file_keys:
                    return None
                keys.extend(file_keys)
    return keys


def _lookup(tree: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(tree, Mapping) or part not in tree:
            return _MISSING
        tree = tree[part]
    return tree


def _params(root: Path, keys: list[str] | None) -> dict[str, Any] | None:
    """The declared values (None: the file is not readable)."""
    try:
        document = read_yaml(root / PARAMS_FILE)
    except UserError:
        return None
    if keys is None:
        return {PARAMS_FILE: document}
    return {key: _lookup(document, key) for key in keys}


def _files(root: Path, deps: list[str]) -> Iterator[str]:
    for dep in deps:
        path = root / dep
        if path.is_dir():
            for folder, _, names in os.walk(path):
                yield from (Path(folder, n).relative_to(root).as_posix() for n in sorted(names))
        else:
            yield dep


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (info.st_size, info.st_mtime_ns)


@dataclass(frozen=True)
class Snapshot:
    """What a stage's declared inputs were when it started."""

    stage: str
    root: Path
    keys: list[str] | None
    deps: list[str]
    params: dict[str, Any] | None
    files: dict[str, tuple[int, int] | None]

    @classmethod
    def take(cls, stage: str, root: Path = Path()) -> Snapshot | None:
        """The inputs dvc.yaml in ``root`` declares for ``stage`` as they are now; None when dvc.yaml
        does not declare the stage (nothing to hold it to)."""
        try:
            spec = _stage_spec(stage, root)
        except UserError:
            return None  # an unreadable dvc.yaml: DVC itself would not have started the stage
        if spec is None:
            return None
        keys, deps = declared_params(spec), [str(d) for d in spec.get("deps", []) or []]
        files = {f: _stat(root / f) for f in _files(root, deps)}
        return cls(stage, root, keys, deps, _params(root, keys), files)

    def changes(self) -> list[str]:
        """Each declared input that differs now from when the snapshot was taken, described."""
        before, now = self.params, _params(self.root, self.keys)
        if before is None or now is None:
            changed = [] if before is now else [f"{PARAMS_FILE} (now {'not ' if now is None else ''}valid YAML)"]
        else:
            changed = [
                f"{key}: {_show(before.get(key, _MISSING))} -> {_show(now.get(key, _MISSING))}"
                for key in sorted(set(before) | set(now))
                if before.get(key, _MISSING) != now.get(key, _MISSING)
            ]
        files = {f: _stat(self.root / f) for f in _files(self.root, self.deps)}
        changed += [
            f"{f} (modified)" for f in sorted(set(self.files) | set(files)) if self.files.get(f) != files.get(f)
        ]
        return changed

    def check(self) -> None:
        """Raise a UserError naming what changed, if anything did."""
        changed = self.changes()
        if changed:
            raise UserError(
                f"inputs of {self.stage} changed while it ran ({'; '.join(changed)}): its results were made with "
                "the old ones, so they are not recorded; run `dvc repro` again (to run several experiments at once, "
                "queue them: `dvc exp run --queue ...`, then `dvc queue start`)"
            )


def _show(value: Any) -> str:
    text = value if value is _MISSING else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
