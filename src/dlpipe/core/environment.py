"""Where results were computed: what can change their bits.

The same code, params and seeds give bit-identical results on one machine (and on Python 3.11 to 3.13),
but not across CPU models: XLA compiles for the host's microarchitecture and vector instructions, so an
AMD EPYC with AVX-512 and one with AVX2 only, or an Intel Xeon, round differently, and a min validation
loss moves in its third decimal. Library versions change bits too. Each training stage writes this
description beside its results (:func:`write`), with nothing that changes from one run to the next (no
time, no host name), so a rerun on the same machine changes no byte; a review compares two results only
when their environments are equal (:func:`differences`).
"""

from __future__ import annotations

import json
import platform
import re
from importlib import metadata
from pathlib import Path
from typing import Any

Environment = dict[str, Any]

# The packages whose versions can change a training result, per Keras backend (the first installed name
# of each alternative: tensorflow-cpu on Linux and Windows, tensorflow on macOS).
PACKAGES: dict[str, tuple[tuple[str, ...], ...]] = {
    "jax": (("keras",), ("jax",), ("jaxlib",), ("numpy",)),
    "tensorflow": (("keras",), ("tensorflow-cpu", "tensorflow"), ("numpy",)),
}
# x86 vector extensions that change what XLA emits; on Arm every listed feature is kept.
_X86_VECTOR = re.compile(r"^(sse4_[12]|ssse3|avx|avx2|fma|f16c|avx512\w*|avx_vnni\w*|amx\w*)$")
_CPUINFO = Path("/proc/cpuinfo")


def _first_processor(text: str) -> dict[str, str]:
    block = re.split(r"\n\s*\n", text.strip(), maxsplit=1)[0]  # processors are separated by blank lines
    fields: dict[str, str] = {}
    for key, _, value in (line.partition(":") for line in block.splitlines()):
        fields.setdefault(key.strip(), value.strip())
    return fields


def cpu(cpuinfo: str | None = None) -> dict[str, Any]:
    """The CPU as results depend on it: vendor, model (name, family and model number) and vector ISA.

    ``cpuinfo`` is the text of /proc/cpuinfo (read when None, on Linux); elsewhere only what
    :mod:`platform` knows.
    """
    if cpuinfo is None and _CPUINFO.is_file():
        cpuinfo = _CPUINFO.read_text(encoding="utf-8", errors="replace")
    if not cpuinfo:
        return {"model": platform.processor() or platform.machine() or "unknown"}
    fields = _first_processor(cpuinfo)
    flags = fields.get("flags", "").split()
    isa = sorted(f for f in flags if _X86_VECTOR.match(f)) if flags else sorted(fields.get("Features", "").split())
    found = {
        "vendor": fields.get("vendor_id") or fields.get("CPU implementer"),
        "model": fields.get("model name") or fields.get("CPU part") or platform.processor() or "unknown",
        "family": fields.get("cpu family") or fields.get("CPU architecture"),
        "model_number": fields.get("model") or fields.get("CPU variant"),
        "isa": isa,
    }
    return {k: v for k, v in found.items() if v not in (None, "")}


def _version(names: tuple[str, ...]) -> tuple[str, str | None]:
    for name in names:
        try:
            return name, metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return names[0], None


def describe_here(backend: str, cpuinfo: str | None = None) -> Environment:
    """This machine and interpreter, for results trained on the Keras ``backend``."""
    packages = dict(_version(names) for names in PACKAGES[backend])
    return {
        "cpu": cpu(cpuinfo),
        "machine": platform.machine(),
        "system": platform.system(),
        "backend": backend,
        "packages": packages,
    }


def write(path: Path, environment: Environment) -> None:
    """``environment`` as JSON, keys sorted: the same environment gives the same bytes."""
    path.write_text(json.dumps(environment, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def parse(text: str | None) -> Environment | None:
    """An environment written by :func:`write` (None for a revision that recorded none)."""
    if not text:
        return None
    try:
        found = json.loads(text)
    except json.JSONDecodeError:
        return None
    return found if isinstance(found, dict) else None


def _isa_level(isa: list[str]) -> str:
    for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"), ("sve", "SVE"), ("asimd", "NEON")):
        if flag in isa:
            return name
    return "no vector ISA recorded"


def chip(cpu: dict[str, Any]) -> str:
    """A CPU in a few words: ``AMD EPYC (family 25 model 17, AVX-512)``."""
    where = " ".join(f"{k.removesuffix('_number')} {cpu[k]}" for k in ("family", "model_number") if k in cpu)
    return f"{cpu.get('model', 'unknown CPU')} ({where + ', ' if where else ''}{_isa_level(cpu.get('isa', []))})"


def summary(environment: Environment | None) -> str:
    """One line for a report: ``AMD EPYC (family 25 model 17, AVX-512), x86_64; Keras on jax: keras 3.12.0, ...``."""
    if not environment:
        return "not recorded"
    chip_text = chip(environment.get("cpu", {}))
    versions = ", ".join(f"{name} {v}" for name, v in environment.get("packages", {}).items() if v)
    return f"{chip_text}, {environment.get('machine', '?')}; Keras on {environment.get('backend', '?')}: {versions}"


def differences(old: Environment | None, new: Environment | None) -> list[str]:
    """What differs between two environments, one phrase each; empty when results are comparable.
    An environment that was not recorded differs from any other (nothing says where it was computed)."""
    if old is None or new is None:
        return ["where a side was computed is not recorded"]
    found = []
    old_cpu, new_cpu = old.get("cpu", {}), new.get("cpu", {})
    if old_cpu != new_cpu:
        found.append(f"CPU {chip(old_cpu)} vs {chip(new_cpu)}")
    for key in ("machine", "system", "backend"):
        if old.get(key) != new.get(key):
            found.append(f"{key} {old.get(key)} vs {new.get(key)}")
    old_packages, new_packages = old.get("packages", {}), new.get("packages", {})
    for name in sorted(set(old_packages) | set(new_packages)):
        if old_packages.get(name) != new_packages.get(name):
            found.append(f"{name} {old_packages.get(name)} vs {new_packages.get(name)}")
    return found
