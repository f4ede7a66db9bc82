"""Every name the benchmarks import from the project exists: their imports are lazy (inside functions), so
a rename in src/ would otherwise break a benchmark only when someone runs it."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "benchmarks").rglob("*.py"))


def project_imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) for each ``from dlpipe... import name`` anywhere in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "dlpipe"
        for alias in node.names
    ]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_name_a_benchmark_imports_from_the_project_exists(script):
    missing = []
    for module, name in project_imports(script):
        found = importlib.import_module(module)
        if not hasattr(found, name) and importlib.util.find_spec(f"{module}.{name}") is None:
            missing.append(f"{module}.{name}")
    assert not missing, f"{script.name} imports what the project no longer has: {missing}"
