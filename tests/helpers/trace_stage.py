"""Run one stage's ``main()`` and record what it touches: params keys, files read, files written, and which
of those written (in place or by a rename) are still there when it ends (not a probe or a temporary download).

    python tests/helpers/trace_stage.py stages/<stage>.py OUT.json

Run from the repository root (the stage's working directory under DVC). Files are recorded through
Python's audit hooks (``open``, ``os.rename``, which ``os.replace`` raises too), relative to the
working directory; anything outside it (the venv, the JAX cache, the mirror) is left out. Params are
recorded by handing the stage a read-recording view of the validated params. Only the tests use this.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

ROOT = Path.cwd().resolve()
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

reads: set[str] = set()
writes: set[str] = set()
renames: list[tuple[str, str]] = []
params_read: set[str] = set()


def _relative(path: Any) -> str | None:
    if isinstance(path, int) or path is None:
        return None  # an open file descriptor: its path was recorded when it was opened
    try:
        absolute = Path(os.path.abspath(os.fsdecode(path)))
        return absolute.relative_to(ROOT).as_posix()
    except (TypeError, ValueError):
        return None


def _hook(event: str, args: tuple) -> None:
    if event == "open":
        path, mode, flags = args
        rel = _relative(path)
        if rel is None or os.path.isdir(path):
            return  # a folder opened to list or delete it is not a file read
        writing = any(c in mode for c in "wax+") if isinstance(mode, str) else bool((flags or 0) & _WRITE_FLAGS)
        if writing:
            writes.add(rel)
        elif isinstance(mode, str):
            # Files are read through open(); a bare os.open() for reading is shutil.rmtree walking
            # a folder, with a path relative to a folder descriptor the event does not carry.
            reads.add(rel)
    elif event == "os.rename":
        src, dst = _relative(args[0]), _relative(args[1])
        if src is not None and dst is not None:
            renames.append((src, dst))


class Recorder:
    """A read-only view of a pydantic model that records every key read, as dotted paths."""

    def __init__(self, model: BaseModel, prefix: str = "") -> None:
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_prefix", prefix)

    def __getattr__(self, name: str) -> Any:
        model, prefix = object.__getattribute__(self, "_model"), object.__getattribute__(self, "_prefix")
        value = getattr(model, name)
        if name.startswith("model_"):  # model_dump() and friends read the whole section
            params_read.add(prefix)
            return value
        key = f"{prefix}.{name}" if prefix else name
        if isinstance(value, BaseModel):
            return Recorder(value, key)
        params_read.add(key)
        return value


def main() -> None:
    script, out = sys.argv[1], Path(sys.argv[2]).resolve()
    import dlpipe.core.params

    real_load, real_check = dlpipe.core.params.load_params, dlpipe.core.params.check_params_file
    dlpipe.core.params.load_params = lambda *a, **k: Recorder(real_load(*a, **k))  # type: ignore[assignment]

    def check_whole_file(*args: Any, **kwargs: Any) -> None:
        params_read.add("")  # every key: the check's outcome depends on all of them
        real_check(*args, **kwargs)

    dlpipe.core.params.check_params_file = check_whole_file  # type: ignore[assignment]
    sys.addaudithook(_hook)
    # Not as __main__: the stage's own entry point ends the process early (fast exit) and would
    # skip the report below; its main() is the whole of the stage's work.
    namespace = runpy.run_path(script, run_name="traced_stage")
    namespace["main"]()
    result = {
        "reads": sorted(reads),
        "writes": sorted(writes),
        "renames": renames,
        "left": sorted(path for path in {*writes, *(dst for _, dst in renames)} if os.path.isfile(path)),
        "params": sorted(params_read),
    }
    out.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
