"""What a script imports from the project, found by reading its code (no import is executed)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "dlpipe"
# What is only shown, never part of a result (dlpipe/display/__init__.py says why): not a stage dependency.
SHOWN_ONLY = ("dlpipe", "display")


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_names(path: Path, package: str | None = None) -> set[str]:
    """Dotted names of every module ``path`` imports, at top level or inside functions (a lazy
    import still runs when that code runs), but not under ``if TYPE_CHECKING:``.

    ``from a import b`` yields both ``a`` and ``a.b`` (``b`` may be a module); callers keep the
    names that are modules. ``package`` is the dotted package of ``path``, for relative imports.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            skipped.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = (package or "").split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def module_file(name: str, src: Path) -> Path | None:
    """The file of project module ``name`` under ``src`` (a package's ``__init__.py``), or None."""
    if name != PACKAGE and not name.startswith(f"{PACKAGE}."):
        return None
    base = src.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _with_parents(name: str, src: Path) -> set[Path]:
    # Importing a.b.c runs a/__init__.py and a/b/__init__.py first.
    parts = name.split(".")
    found = set()
    for i in range(1, len(parts) + 1):
        file = module_file(".".join(parts[:i]), src)
        if file is not None:
            found.add(file)
    return found


def shown_only(file: Path, src: Path) -> bool:
    """Whether ``file`` is in the display package: shown to a person, never part of a result."""
    return file.relative_to(src).parts[: len(SHOWN_ONLY)] == SHOWN_ONLY


def project_imports(script: Path, src: Path, results_only: bool = False) -> set[Path]:
    """Every project file that running ``script`` can import, directly or through other project
    modules: the transitive closure over ``src``'s package. ``results_only``: without the display
    package (and what only it imports), which can change no result."""
    seen: set[Path] = set()
    todo = [(script, None)]
    while todo:
        path, package = todo.pop()
        for name in imported_names(path, package):
            for file in _with_parents(name, src):
                if results_only and shown_only(file, src):
                    continue
                if file not in seen:
                    seen.add(file)
                    rel = file.relative_to(src).with_suffix("")
                    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
                    pkg = ".".join(parts if rel.name == "__init__" else parts[:-1])
                    todo.append((file, pkg))
    return seen
