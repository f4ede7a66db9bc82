"""Each stage, run under a tracer, reads exactly the data files and params dvc.yaml lists for it,
and writes exactly what dvc.yaml declares as its outputs: every file it leaves (written in place or renamed
into place) is in one of them, and each of them gets a file.

The tracer (tests/helpers/trace_stage.py) records files through Python's audit hooks and params
through a read-recording view of params.yaml, so the lists come from what the code does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers.stages import STAGES

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
TRACER = ROOT / "tests/helpers/trace_stage.py"
NOT_DATA = ("params.yaml",)


def leaves(tree: object, prefix: str = "") -> set[str]:
    """Dotted keys of the leaves of a params mapping (a list is one leaf)."""
    if isinstance(tree, dict):
        return {leaf for key, value in tree.items() for leaf in leaves(value, f"{prefix}.{key}" if prefix else key)}
    return {prefix}


def under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(f"{folder}/")


def covers(key: str, leaf: str) -> bool:
    """A params entry ``key`` (a leaf, a whole section, or "" for the whole file) includes ``leaf``."""
    return key == "" or leaf == key or leaf.startswith(f"{key}.")


def declared_params(spec: dict) -> list[str]:
    """dvc.yaml's params entries of a stage as keys ("" for ``- params.yaml:``, the whole file)."""
    keys: list[str] = []
    for entry in spec.get("params", []):
        if isinstance(entry, dict):
            keys += [""] if entry == {"params.yaml": None} else entry["params.yaml"]
        else:
            keys.append(entry)
    return keys


def declared_outputs(spec: dict) -> list[str]:
    entries = [*spec.get("outs", []), *spec.get("metrics", []), *spec.get("plots", [])]
    return [next(iter(e)) if isinstance(e, dict) else e for e in entries]


def check(stage: str, spec: dict, params: dict, trace: dict) -> list[str]:
    """Every mismatch between what the stage did and what dvc.yaml declares, one line each."""
    problems = []
    data_deps = [d for d in spec.get("deps", []) if not d.endswith(".py")]
    outputs = declared_outputs(spec)
    # Reads of files the stage wrote itself (to check them, say) are not inputs.
    written = [*trace["writes"], *(src for src, _ in trace["renames"])]
    reads = [
        r
        for r in trace["reads"]
        if not r.endswith(".py") and r not in NOT_DATA and not any(under(r, w) for w in written)
    ]
    for r in reads:
        if not any(under(r, d) for d in data_deps):
            problems.append(f"{stage} reads {r} but dvc.yaml does not list it in deps")
    for d in data_deps:
        if not any(under(r, d) for r in reads):
            problems.append(f"{stage} lists {d} in deps but never reads it")
    # What it wrote and removed again (a probe, a temporary download) is not an output.
    for path in trace["left"]:
        if not any(under(path, o) for o in outputs):
            problems.append(f"{stage} writes {path} but dvc.yaml does not declare it among its outputs")
    for o in outputs:
        if not any(under(path, o) for path in trace["left"]):
            problems.append(f"{stage} declares output {o} but never writes it")

    existing = leaves(params)
    read_leaves = {leaf for leaf in existing if any(covers(k, leaf) for k in trace["params"])}
    declared = {leaf for leaf in existing if any(covers(p, leaf) for p in declared_params(spec))}
    for key in sorted(read_leaves - declared):
        problems.append(f"{stage} reads param {key} but dvc.yaml does not list it under params")
    for key in sorted(declared - read_leaves):
        problems.append(f"{stage} lists param {key} (through dvc.yaml params) but never reads it")
    return problems


def trace(clone, stage: str, tmp_path: Path) -> dict:
    out = tmp_path / f"{stage}.trace.json"
    clone.run(sys.executable, str(TRACER), f"stages/{stage}.py", str(out))
    return json.loads(out.read_text())


def test_every_stage_reads_and_writes_exactly_what_dvc_yaml_declares(built_clone, tmp_path):
    clone = built_clone
    clone.env["DLPIPE_PROGRESS"] = "off"
    dvc_yaml = yaml.safe_load((clone.path / "dvc.yaml").read_text())
    params = clone.params()
    problems = []
    for stage in STAGES:
        found = trace(clone, stage, tmp_path)
        spec = dvc_yaml["stages"][stage]
        assert found["left"] or not declared_outputs(spec), f"{stage}: the tracer saw no output written"
        problems += check(stage, spec, params, found)
    assert not problems, "\n".join(problems)


def test_the_check_names_an_undeclared_input_and_param():
    spec = {"deps": ["stages/x.py"], "params": ["a"], "outs": ["out", "plot.csv", "never"]}
    params = {"a": 1, "b": {"c": 2, "d": 3}}
    found = {
        "reads": ["data/in.csv", "stages/x.py", "out/part", ".probe.tmp", "params.yaml"],
        # out/part in place (and read back), plot.csv through a temporary name, stray.txt undeclared,
        # .probe.tmp written and removed
        "writes": ["out/part", ".plot.csv.x1y2.tmp/plot.csv", "stray.txt", ".probe.tmp"],
        "renames": [[".plot.csv.x1y2.tmp/plot.csv", "plot.csv"]],
        "left": ["out/part", "plot.csv", "stray.txt"],
        "params": ["b.c"],
    }
    assert check("x", spec, params, found) == [
        "x reads data/in.csv but dvc.yaml does not list it in deps",
        "x writes stray.txt but dvc.yaml does not declare it among its outputs",
        "x declares output never but never writes it",
        "x reads param b.c but dvc.yaml does not list it under params",
        "x lists param a (through dvc.yaml params) but never reads it",
    ]
