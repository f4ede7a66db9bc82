"""The package's layers point one way: core <- display <- data <- train <- sweep <- report. Derived from the code
(every import, at top level or inside a function), so a new import that points up fails here, naming it.
The display layer only shows: it writes no file, so no result can depend on it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers.imports import imported_names

SRC = Path(__file__).resolve().parents[1] / "src"
LAYERS = ("core", "display", "data", "train", "sweep", "report")  # each may import the ones before it


def modules() -> list[Path]:
    return sorted(p for p in (SRC / "dlpipe").rglob("*.py"))


def layer_of(dotted: str) -> str | None:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "dlpipe" and parts[1] in LAYERS else None


def upward_imports(path: Path) -> list[str]:
    """The dlpipe modules ``path`` imports from a layer above its own."""
    rel = path.relative_to(SRC).with_suffix("")
    package = ".".join(rel.parts[:-1])
    own = layer_of(".".join(rel.parts)) if len(rel.parts) > 2 else None
    if own is None:  # dlpipe/__init__.py: documentation only
        return sorted(n for n in imported_names(path, package) if n.startswith("dlpipe"))
    allowed = LAYERS[: LAYERS.index(own) + 1]
    return sorted(
        n for n in imported_names(path, package) if (layer := layer_of(n)) is not None and layer not in allowed
    )


def test_every_module_lives_in_a_layer():
    loose = [p.relative_to(SRC).as_posix() for p in modules() if p.parent == SRC / "dlpipe" and p.name != "__init__.py"]
    assert not loose, f"modules outside the layers: {loose}"
    assert {p.parent.name for p in modules() if p.parent != SRC / "dlpipe"} == set(LAYERS)


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(SRC).as_posix())
def test_no_module_imports_from_a_layer_above_its_own(path):
    assert upward_imports(path) == [], f"{path.relative_to(SRC)} imports from a layer above its own"


def test_each_layer_says_what_it_owns_and_may_import():
    for layer in LAYERS:
        doc = (SRC / "dlpipe" / layer / "__init__.py").read_text()
        assert doc.startswith('"""') and "import" in doc.lower() and len(doc) > 200, layer


def test_an_upward_import_is_caught(tmp_path):
    pkg = tmp_path / "dlpipe" / "data"
    pkg.mkdir(parents=True)
    module = pkg / "bad.py"
    module.write_text("def f():\n    from dlpipe.report.review import main\n")
    global SRC
    real, SRC = SRC, tmp_path
    try:
        assert "dlpipe.report.review" in upward_imports(module)
    finally:
        SRC = real


def test_no_module_is_much_over_250_lines():
    long = {p.relative_to(SRC).as_posix(): n for p in modules() if (n := len(p.read_text().splitlines())) > 260}
    assert not long, f"split these: {long}"


# Calls that write files, or draw figures into them: none in the display layer.
WRITES = {"open", "write_text", "write_bytes", "to_csv", "to_json", "savefig", "replace", "rename", "mkdir", "dump"}


def file_writes(path: Path) -> list[str]:
    """The calls in ``path`` that could write a file (by name: open(), Path.write_text(), df.to_csv(), ...)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in WRITES:
                found.append(f"{name}() at line {node.lineno}")
    return found


@pytest.mark.parametrize("path", sorted((SRC / "dlpipe" / "display").glob("*.py")), ids=lambda p: p.name)
def test_the_display_layer_writes_no_file(path):
    # What lets the stages leave it out of their dependencies (tests/test_graph.py): it cannot shape a result.
    assert file_writes(path) == []


def test_a_file_write_in_the_display_layer_would_be_caught(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from pathlib import Path\ndef f(t):\n    Path('x').write_text(t)\n    open('y', 'w')\n")
    assert file_writes(module) == ["write_text() at line 3", "open() at line 4"]
