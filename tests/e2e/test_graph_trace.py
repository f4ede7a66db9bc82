"""Each stage, run under a tracer, reads exactly the data files and params dvc.yaml lists for it,
and writes only what dvc.yaml declares as its outputs (through atomic renames).

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


def in_staging_folder(path: str) -> bool:
    """Inside one of the temporary ``.<name>.<random>.tmp`` folders of dlpipe.core.atomic."""
    return any(part.startswith(".") and part.endswith(".tmp") for part in path.split("/")[:-1])


def is_write_probe(path: str) -> bool:
    """One of the probe files a training stage writes and removes in each output folder (atomic.check_writable)."""
    name = path.rsplit("/", 1)[-1]
    return name.startswith(".write-probe.") and name.endswith(".tmp")


def check(stage: str, spec: dict, params: dict, trace: dict) -> list[str]:
    """Every mismatch between what the stage did and what dvc.yaml declares, one line each."""
    problems = []
    data_deps = [d for d in spec.get("deps", []) if not d.endswith(".py")]
    outputs = declared_outputs(spec)
    # An old output renamed aside into a staging folder, to be deleted once the new one is in, is
    # not a write.
    renames = [(src, dst) for src, dst in trace["renames"] if not in_staging_folder(dst)]
    staged = [src for src, _ in renames]
    # Reads of files the stage wrote itself (in its staging folders) are not inputs.
    reads = [
        r
        for r in trace["reads"]
        if not r.endswith(".py") and r not in NOT_DATA and not any(under(r, s) for s in staged)
    ]
    for r in reads:
        if not any(under(r, d) for d in data_deps):
            problems.append(f"{stage} reads {r} but dvc.yaml does not list it in deps")
    for d in data_deps:
        if not any(under(r, d) for r in reads):
            problems.append(f"{stage} lists {d} in deps but never reads it")
    for w in trace["writes"]:
        if is_write_probe(w):  # created and removed before training, to find an unwritable folder at once
            continue
        if not any(under(w, s) for s in staged):
            problems.append(f"{stage} writes {w} in place (not through a temporary file renamed onto it)")
    for _, dst in renames:
        if not any(under(dst, o) for o in outputs):
            problems.append(f"{stage} writes {dst} but dvc.yaml does not declare it among its outputs")
    for o in outputs:
        if not any(under(dst, o) for _, dst in renames):
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
        assert found["renames"] or not declared_outputs(spec), f"{stage}: the tracer saw no output written"
        problems += check(stage, spec, params, found)
    assert not problems, "\n".join(problems)


def test_the_check_names_an_undeclared_input_and_param():
    spec = {"deps": ["stages/x.py"], "params": ["a"], "outs": ["out"]}
    params = {"a": 1, "b": {"c": 2, "d": 3}}
    found = {
        "reads": ["data/in.csv", "stages/x.py", ".out.x.tmp/out/part", "params.yaml"],
        "writes": [".out.x.tmp/out/part", "stray.txt"],
        "renames": [["out", ".out.x.tmp/out.old"], [".out.x.tmp/out", "out"]],
        "params": ["b.c"],
    }
    assert check("x", spec, params, found) == [
        "x reads data/in.csv but dvc.yaml does not list it in deps",
        "x writes stray.txt in place (not through a temporary file renamed onto it)",
        "x reads param b.c but dvc.yaml does not list it under params",
        "x lists param a (through dvc.yaml params) but never reads it",
    ]
