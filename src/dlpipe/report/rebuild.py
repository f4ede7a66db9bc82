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
from pathlib import Path

from dlpipe.core.dvc_cli import git, resolve, run_dvc, stream_dvc
from dlpipe.core.environment import PACKAGES, describe_here

REF_PREFIX = "refs/dlpipe/rebuilt"
# The commit's author: the tool, not the user (nothing of the user's identity or settings is needed).
IDENTITY = ("-c", "user.name=dlpipe review", "-c", "user.email=review@dlpipe.invalid", "-c", "commit.gpgsign=false")
# Neither the user's hooks (a DVC post-checkout hook would run before the cache is shared) nor their signing.
NO_HOOKS = ("-c", "core.hooksPath=/dev/null")


def environment_key() -> str:
    """What a rebuild here depends on besides the revision: this machine's environment for every backend."""
    here = {backend: describe_here(backend) for backend in PACKAGES}
    return hashlib.sha256(json.dumps({"environment": here}, sort_keys=True).encode()).hexdigest()[:16]


def rebuild(rev: str, cwd: Path = Path()) -> str:
    """The commit holding ``rev``'s results rebuilt on this machine: reused if this machine made it before
    in the same environment."""
    commit = resolve(rev, cwd)
    ref = f"{REF_PREFIX}/{commit}/{environment_key()}"
    if found := git("for-each-ref", "--format=%(objectname)", ref, cwd=cwd).strip():
        print(f"{rev}: reusing its rebuild on this machine ({found[:12]})", file=sys.stderr, flush=True)
        return found
    cache = Path(run_dvc("cache", "dir", cwd=cwd).strip()).resolve()
    folder = Path(tempfile.mkdtemp(prefix="dlpipe-rebuild-"))
    worktree = folder / "repo"
    try:
        git(*NO_HOOKS, "worktree", "add", "--detach", str(worktree), commit, cwd=cwd)
        # This clone's cache, outputs and run-cache alike (config.local is the worktree's own).
        run_dvc("config", "--local", "cache.dir", str(cache), cwd=worktree)
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
