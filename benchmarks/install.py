"""The install benchmark: the README's set-up with uv against pip, from a fresh clone, with empty caches.

    python benchmarks/install.py

In one run on this machine, each in its own fresh clone of this repository (its committed state),
with new empty package caches (uv's and pip's cache folders point to new temporary folders, so
every package is downloaded):
  - pip, the README's way without uv: `python3 -m venv .venv`, then `pip install -r requirements.lock`
    (pip compiles bytecode at install by default);
  - uv, the README's way: the set-up part of its first command (uv bootstrapped into .venv-uv with
    pip, then `uv sync --frozen`, bytecode compiled as pyproject.toml asks). It installs what the
    pipeline needs, fewer packages than requirements.lock, which also pins the test tools;
  - uv with the same packages as requirements.lock (the set-up part of the README's test command,
    all extras): the like-for-like comparison with pip;
  - for information, the README's uv set-up without bytecode compilation, to show what that costs.
Prints each time with its ratio to pip's, measured in the same run, and the packages and bytecode
files each install left (the installs are comparable only if both compiled). pip runs without
this machine's pip configuration (extra local indexes, constraints), so both installers fetch from
PyPI alone. A script for people, not a test: its numbers depend on the machine and the network.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from dlpipe.core.errors import UserError, run_cli  # noqa: E402
from tests.helpers.readme import readme_commands  # noqa: E402  (the README is the one source of the commands)

TARGET_UV_SECONDS = 20.0
PIP_INSTALL = "python3 -m venv .venv && .venv/bin/pip install -q -r requirements.lock"
PIP = "pip: requirements.lock"
README_UV = "uv: README's pipeline command"


def readme_install(which: int) -> str:
    """The set-up part of the README's command ``which`` (0: pipeline, 1: tests): all but its `uv run`."""
    steps = readme_commands()[which].split(" && ")
    assert steps[-1].startswith(".venv-uv/bin/uv run "), steps[-1]
    return " && ".join(steps[:-1])


def clean_env(scratch: Path) -> dict[str, str]:
    """This process's environment, with new empty caches and without local package sources."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_")) and k != "VIRTUAL_ENV"}
    env.update(
        UV_CACHE_DIR=str(scratch / "uv-cache"),
        PIP_CACHE_DIR=str(scratch / "pip-cache"),
        # Only PyPI, as for uv (which reads no pip configuration): no local index, no constraints.
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    for name in ("PIP_CERT", "PIP_DEFAULT_TIMEOUT"):  # how to reach PyPI from here, not what to install
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def timed_install(name: str, command: str, scratch: Path) -> tuple[float, int, int]:
    """Clone, then run ``command`` in the clone; return its wall seconds, packages and .pyc files in .venv."""
    scratch.mkdir()
    clone = scratch / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    print(f"-- {name}: {command}", flush=True)
    start = time.perf_counter()
    proc = subprocess.run(["bash", "-c", command], cwd=clone, env=clean_env(scratch), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["no output"]
        raise UserError(f"{name} failed (exit {proc.returncode}): {tail[0]}")
    check = subprocess.run(
        [str(clone / ".venv/bin/python"), "-c", "import dlpipe, dvc, keras, jax"],
        cwd=clone,
        env={**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        raise UserError(f"{name} installed, but dlpipe, dvc, keras or jax does not import")
    packages = sum(1 for _ in (clone / ".venv").glob("lib/python*/site-packages/*.dist-info"))
    pyc = sum(1 for _ in (clone / ".venv").rglob("*.pyc"))
    print(f"   {seconds:.1f} s, {packages} packages, {pyc} bytecode files", flush=True)
    return seconds, packages, pyc


def main() -> None:
    """Run the four installs and print the table."""
    parser = argparse.ArgumentParser(prog="python benchmarks/install.py", description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="python3", help="the interpreter the installs use (default: python3)")
    args = parser.parse_args()
    if shutil.which(args.python) is None:
        raise UserError(f"--python {args.python} is not an interpreter on PATH; give a name or path of one")
    pipeline, tests = readme_install(0), readme_install(1)
    if args.python != "python3":
        pipeline, tests = (c.replace("python3", args.python) for c in (pipeline, tests))
    runs = [
        (PIP, PIP_INSTALL.replace("python3", args.python)),
        (README_UV, pipeline),
        ("uv: the same packages as pip (README's test command)", tests),
        ("uv: README's pipeline command without bytecode (information)", f"{pipeline} --no-compile-bytecode"),
    ]
    with tempfile.TemporaryDirectory(prefix="dlpipe-install-") as tmp:
        results = {name: timed_install(name, cmd, Path(tmp) / str(i)) for i, (name, cmd) in enumerate(runs)}
    base = results[PIP][0]
    print(
        f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        "fresh clone, empty uv and pip caches, packages from PyPI.\n"
    )
    print("| install | seconds | vs pip | packages | bytecode files |")
    print("|---|---|---|---|---|")
    for name, (seconds, packages, pyc) in results.items():
        ratio = "1 (baseline)" if name == PIP else f"{seconds / base:.2f}×"
        print(f"| {name} | {seconds:.1f} | {ratio} | {packages} | {pyc} |")
    uv_seconds = results[README_UV][0]
    verdict = "met" if uv_seconds <= TARGET_UV_SECONDS else "not met"
    print(f"\nTarget: uv ≤ {TARGET_UV_SECONDS:g} s with empty caches: {verdict} ({uv_seconds:.1f} s).")


if __name__ == "__main__":
    run_cli("install_benchmark", main)
