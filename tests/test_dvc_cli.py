"""Running dvc and git from our commands: output shown as it comes, failures as one line, experiment refs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dlpipe.core.dvc_cli import experiment_refs, stream_dvc
from dlpipe.core.errors import UserError


def test_stream_dvc_shows_and_returns_the_output_and_fails_with_dvcs_last_error(tmp_path, capsys):
    out = stream_dvc("--version", cwd=tmp_path)
    assert out.strip() and capsys.readouterr().out == out
    with pytest.raises(UserError, match=r"^`dvc status` failed: you are not inside of a DVC repository") as info:
        stream_dvc("status", cwd=tmp_path)
    assert "\n" not in str(info.value)


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def test_experiment_refs_of_heads_commit_here_and_in_a_remote(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    for message in ("one", "two"):
        _git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "--allow-empty", "-m", message)
    head, older = _git(repo, "rev-parse", "HEAD"), _git(repo, "rev-parse", "HEAD~1")
    # DVC's layout: refs/exps/<baseline[:2]>/<baseline[2:]>/<name>, pointing at the experiment's commit.
    _git(repo, "update-ref", f"refs/exps/{head[:2]}/{head[2:]}/s-dropout-0.1", older)
    _git(repo, "update-ref", f"refs/exps/{older[:2]}/{older[2:]}/s-dropout-0.2", head)  # another baseline
    assert experiment_refs(None, repo) == {"s-dropout-0.1": older}
    _git(tmp_path, "init", "-q", "--bare", "origin.git")
    _git(repo, "push", "-q", str(tmp_path / "origin.git"), "refs/exps/*:refs/exps/*", "main")
    assert experiment_refs(str(tmp_path / "origin.git"), repo) == {"s-dropout-0.1": older}
    with pytest.raises(UserError, match=r"^`git ls-remote nowhere"):
        experiment_refs("nowhere", repo)
