"""A revision's results rebuilt on this machine, so that a review compares like with like.

Results differ in their last bits from one CPU model to another (dlpipe.core.environment): a review of
a pull request against the base branch's *committed* results, made on another machine, would blame the
machine's differences on the change. :func:`rebuild` checks the revision out in a temporary git worktree,
runs its whole pipeline there (`dvc repro --force`: the revision's dvc.lock matches its committed
results, wherever they were made) with this clone's DVC cache, and commits what changed (params, dvc.lock,
metrics, plots) on top of the revision, a commit no branch holds, kept under
``refs/dlpipe/rebuilt/<commit>/<environment>``: a second review on the same machine and environment
reuses it. The review then compares that commit, as it would any other.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from dlpipe.core.dvc_cli import git, resolve, run_dvc, stream_dvc
from dlpipe.core.environment import PACKAGES, describe_here

REF_PREFIX = "refs/dlpipe/rebuilt"
# The commit's author: the tool, not the user (nothing of the user's identity or settings is needed).
IDENTITY = ("-c", "user.name=dlpipe review", "-c", "user.email=review@dlpipe.invalid", "-c", "commit.gpgsign=false")
# Neither the user's hooks (a DVC post-checkout hook would run before the cache is shared) nor their signing.
NO_HOOKS = ("-c", "core.hooksPath=/dev/null")


def environment_key(seeds: Sequence[int] | None = None) -> str:
    """What a rebuild here depends on besides the revision: this machine's environment for every
    backend, and the seeds asked for (None: the revision's own)."""
    here = {backend: describe_here(backend) for backend in PACKAGES}
    text = json.dumps({"environment": here, "seeds": list(seeds) if seeds is not None else None}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _existing(ref: str, cwd: Path) -> str | None:
    out = git("for-each-ref", "--format=%(objectname)", ref, cwd=cwd).strip()
    return out or None


def _set_seeds(worktree: Path, seeds: Sequence[int]) -> None:
    # As `dvc exp run -S` writes it: DVC's own YAML writer keeps every comment of the revision's file.
    from dvc.utils.serialize import modify_yaml

    with modify_yaml(worktree / "params.yaml") as params:
        params["seeds"] = list(seeds)


def rebuild(rev: str, cwd: Path = Path(), seeds: Sequence[int] | None = None) -> str:
    """The commit holding ``rev``'s results rebuilt on this machine (with ``seeds`` instead of the
    revision's own, if given): reused if this machine made it before in the same environment."""
    commit = resolve(rev, cwd)
    ref = f"{REF_PREFIX}/{commit}/{environment_key(seeds)}"
    if found := _existing(ref, cwd):
        print(f"{rev}: reusing its rebuild on this machine ({found[:12]})", file=sys.stderr, flush=True)
        return found
    cache = Path(run_dvc("cache", "dir", cwd=cwd).strip()).resolve()
    folder = Path(tempfile.mkdtemp(prefix="dlpipe-rebuild-"))
    worktree = folder / "repo"
    try:
        git(*NO_HOOKS, "worktree", "add", "--detach", str(worktree), commit, cwd=cwd)
        # This clone's cache, outputs and run-cache alike (config.local is the worktree's own).
        run_dvc("config", "--local", "cache.dir", str(cache), cwd=worktree)
        if seeds is not None:
            _set_seeds(worktree, seeds)
        print(f"{rev}: rebuilding its pipeline on this machine, in {worktree}", file=sys.stderr, flush=True)
        # --force: a revision's dvc.lock may well match its committed results, made on another machine.
        # The revision's own package first on the path: the project is installed editable, pointing at this
        # clone's src/. Stages put their own src/ first themselves, but older revisions' stages do not.
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(worktree / "src"), os.environ.get("PYTHONPATH")])),
        }
        stream_dvc("repro", "--force", cwd=worktree, to=sys.stderr, env=env)
        git("add", "--all", cwd=worktree)
        message = f"{rev} ({commit[:12]}) rebuilt on this machine for a review"
        git(*IDENTITY, *NO_HOOKS, "commit", "--quiet", "--allow-empty", "--no-verify", "-m", message, cwd=worktree)
        rebuilt = git("rev-parse", "HEAD", cwd=worktree).strip()
        git("update-ref", ref, rebuilt, cwd=cwd)
        return rebuilt
    finally:
        # Only what this function made: the worktree (and git's record of it) and its folder.
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=cwd, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=cwd, capture_output=True)
