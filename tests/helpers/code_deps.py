"""Bring dvc.yaml's code dependencies in line with what each stage script imports.

    python tests/helpers/code_deps.py          # print what would change
    python tests/helpers/code_deps.py --write  # rewrite the .py entries of each stage's deps

For a maintainer after moving or adding an import: tests/test_graph.py names each missing or extra
entry, this writes them. Data dependencies (every entry that is not a .py file) are left as they are.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.helpers.imports import project_imports  # noqa: E402


def expected(stage: str, cmd: str) -> list[str]:
    """The stage's script, then every project module it can import, as dvc.yaml paths."""
    script = ROOT / next(w for w in shlex.split(cmd) if w.endswith(".py"))
    modules = sorted(p.relative_to(ROOT).as_posix() for p in project_imports(script, ROOT / "src", results_only=True))
    return [script.relative_to(ROOT).as_posix(), *modules]


def rewrite(text: str) -> str:
    """``text`` (dvc.yaml) with each stage's .py deps replaced by :func:`expected`, in place."""
    stages = yaml.safe_load(text)["stages"]
    for stage, spec in stages.items():
        block = re.search(rf"(?m)^  {re.escape(stage)}:\n(?:    .*\n|\s*\n)*?    deps:\n((?:      - .*\n)+)", text)
        if block is None:
            continue
        entries = [line.removeprefix("      - ") for line in block.group(1).splitlines()]
        data = [e for e in entries if not e.endswith(".py")]
        lines = "".join(f"      - {e}\n" for e in [*data, *expected(stage, spec["cmd"])])
        text = text[: block.start(1)] + lines + text[block.end(1) :]
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite dvc.yaml")
    args = parser.parse_args()
    path = ROOT / "dvc.yaml"
    old = path.read_text(encoding="utf-8")
    new = rewrite(old)
    if args.write:
        path.write_text(new, encoding="utf-8")
    elif new != old:
        import difflib

        sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True), "dvc.yaml", "dvc.yaml"))


if __name__ == "__main__":
    main()
