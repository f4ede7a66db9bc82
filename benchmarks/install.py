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
Then what the bytecode buys: `dvc repro` of the whole pipeline (real data from ``--mirror``, a JAX
compile cache warmed first, so that only the bytecode differs) in the README's clone and in the one
without bytecode, where Python may not write bytecode (PYTHONDONTWRITEBYTECODE=1, as in
many container images: every run compiles what it imports) and where it may (the first run writes it).
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
from run import mirror_argument, mirror_folder  # noqa: E402  (this folder's shared benchmark options)

from dlpipe.core.errors import UserError, run_cli  # noqa: E402
from tests.helpers.readme import readme_commands  # noqa: E402  (the README is the one source of the commands)

TARGET_UV_SECONDS = 20.0
PIP_INSTALL = "python3 -m venv .venv && .venv/bin/pip install -q -r requirements.lock"
PIP = "pip: requirements.lock"
README_UV = "uv: README's pipeline command"
NO_BYTECODE = "uv: README's pipeline command without bytecode (information)"


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


def timed_install(name: str, command: str, clone: Path) -> tuple[float, int, int]:
    """Clone into ``clone``, then run ``command`` there; return its wall seconds, packages and .pyc files in .venv."""
    clone.parent.mkdir()
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    print(f"-- {name}: {command}", flush=True)
    start = time.perf_counter()
    proc = subprocess.run(
        ["bash", "-c", command], cwd=clone, env=clean_env(clone.parent), capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["no output"]
        raise UserError(f"{name} failed (exit {proc.returncode}): {tail[0]}")
    check = subprocess.run(
        [str(clone / ".venv/bin/python"), "-c", "import dlpipe, dvc, keras, jax"],
        cwd=clone,
        # Writing no bytecode: the install without it must stay without it.
        env={**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        raise UserError(f"{name} installed, but dlpipe, dvc, keras or jax does not import")
    packages = sum(1 for _ in (clone / ".venv").glob("lib/python*/site-packages/*.dist-info"))
    pyc = sum(1 for _ in (clone / ".venv").rglob("*.pyc"))
    print(f"   {seconds:.1f} s, {packages} packages, {pyc} bytecode files", flush=True)
    return seconds, packages, pyc


def timed_repro(clone: Path, mirror: Path, scratch: Path, may_write_bytecode: bool) -> float:
    """Rebuild every stage in ``clone`` from nothing (no outputs, empty DVC cache); return the wall seconds."""
    for built in ("data", ".dvc/cache", ".dvc/tmp"):
        shutil.rmtree(clone / built, ignore_errors=True)
    # Nothing of this process's Python, JAX, Keras or pipeline settings: a PYTHONPYCACHEPREFIX would hide
    # the installed bytecode, a PYTHONPATH could bring in another copy of the code.
    dropped = ("PYTHON", "JAX_", "XLA_", "KERAS_", "DLPIPE_", "VIRTUAL_ENV", "TF_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(
        PATH=f"{clone / '.venv/bin'}{os.pathsep}{env['PATH']}",
        FETCH_MIRROR=str(mirror),
        DLPIPE_JAX_CACHE=str(scratch / "jax-cache"),
        DVC_SITE_CACHE_DIR=str(scratch / "dvc-site"),
        DVC_NO_ANALYTICS="1",
    )
    if not may_write_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    start = time.perf_counter()
    # --force: summarize too, whose inputs come out the same bytes and whose output is in git.
    proc = subprocess.run(["dvc", "repro", "--force", "-q"], cwd=clone, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["no output"]
        raise UserError(f"dvc repro failed in {clone} (exit {proc.returncode}): {tail[0]}")
    return seconds


def timed_repros(compiled: Path, plain: Path, mirror: Path, scratch: Path) -> dict[str, float]:
    """``dvc repro`` after an install with bytecode (``compiled``) and one without (``plain``)."""
    for clone in (compiled, plain):  # warms the JAX compile cache, and both clones' files alike
        timed_repro(clone, mirror, scratch, may_write_bytecode=False)
    cases = [
        (REPRO_COMPILED, compiled, False),
        ("without bytecode, Python may not write it: every run", plain, False),
        (REPRO_FIRST, plain, True),
        ("without bytecode, Python may write it: later runs", plain, True),
    ]
    times = {}
    for name, clone, may_write in cases:
        print(f"-- dvc repro, {name}", flush=True)
        times[name] = timed_repro(clone, mirror, scratch, may_write)
        print(f"   {times[name]:.1f} s", flush=True)
    return times


REPRO_COMPILED = "bytecode compiled at install (README), any run"
REPRO_FIRST = "without bytecode, Python may write it: first run"


def main() -> None:
    """Run the four installs, then the `dvc repro` runs; print both tables."""
    parser = argparse.ArgumentParser(prog="python benchmarks/install.py", description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="python3", help="the interpreter the installs use (default: python3)")
    mirror_argument(parser, "the folder of the two tables, for the `dvc repro` part")
    args = parser.parse_args()
    if shutil.which(args.python) is None:
        raise UserError(f"--python {args.python} is not an interpreter on PATH; give a name or path of one")
    mirror = mirror_folder(args.mirror)
    pipeline, tests = readme_install(0), readme_install(1)
    if args.python != "python3":
        pipeline, tests = (c.replace("python3", args.python) for c in (pipeline, tests))
    runs = {
        PIP: PIP_INSTALL.replace("python3", args.python),
        README_UV: pipeline,
        "uv: the same packages as pip (README's test command)": tests,
        NO_BYTECODE: f"{pipeline} --no-compile-bytecode",
    }
    with tempfile.TemporaryDirectory(prefix="dlpipe-install-") as tmp:
        clones = {name: Path(tmp) / str(i) / "repo" for i, name in enumerate(runs)}
        results = {name: timed_install(name, cmd, clones[name]) for name, cmd in runs.items()}
        repros = timed_repros(clones[README_UV], clones[NO_BYTECODE], mirror, Path(tmp))
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
    print("\n| `dvc repro` of everything, real data, warm JAX compile cache | seconds | vs bytecode at install |")
    print("|---|---|---|")
    for name, seconds in repros.items():
        print(f"| {name} | {seconds:.1f} | {seconds / repros[REPRO_COMPILED]:.2f}× |")
    plain = results[NO_BYTECODE][0]
    with_bytecode, without = uv_seconds + repros[REPRO_COMPILED], plain + repros[REPRO_FIRST]
    print(
        f"\nTime to the first result (install, then the first `dvc repro`): {with_bytecode:.1f} s with bytecode "
        f"at install, {without:.1f} s without it where Python may write it."
    )


if __name__ == "__main__":
    run_cli("install_benchmark", main)
