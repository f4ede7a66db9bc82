"""Sharing through DVC remotes: a colleague's clone gets data, models and results without retraining."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import Clone
from tests.helpers.stages import STAGES

pytestmark = pytest.mark.e2e
OUTPUTS = ("data/raw/spotify_songs.csv", "data/processed/spotify.npz", "data/models/train_dropout/dropout.keras")


def ran(output: str) -> set[str]:
    return {s for s in STAGES if f"Running stage '{s}'" in output}


def build_and_push(a: Clone, remote_url: str, *config: tuple[str, ...]) -> None:
    """Clone A (the pipeline already run): configure the remote, commit, push data and run-cache."""
    assert "Data and pipelines are up to date" in a.dvc("status").stdout
    a.dvc("remote", "add", "-d", "team", remote_url)
    for option in config:
        a.dvc("remote", "modify", "--local", "team", *option)
    a.run("git", "add", "-A")
    a.run("git", "commit", "-q", "-m", "results and remote")
    a.dvc("push", "--run-cache")


def fresh_clone(a: Clone, dest: Path, *config: tuple[str, ...]) -> Clone:
    a.run("git", "clone", "-q", str(a.path), str(dest))
    b = Clone(dest, a.env)
    for option in config:
        b.dvc("remote", "modify", "--local", "team", *option)
    return b


def assert_same_results(a: Clone, b: Clone) -> None:
    for rel in ("metrics/summary.json", "plots/train_dropout/seeds.csv", "dvc.lock", *OUTPUTS):
        assert (b.path / rel).read_bytes() == (a.path / rel).read_bytes(), rel


def test_round_trip_through_a_folder_remote(built_clone, tmp_path):
    clone = built_clone
    build_and_push(clone, str(tmp_path / "store"))
    b = fresh_clone(clone, tmp_path / "b")
    assert not (b.path / "data").exists()
    b.dvc("pull")
    assert "Data and pipelines are up to date" in b.dvc("status").stdout
    out = b.dvc("repro").stdout
    assert ran(out) == set() and "Data and pipelines are up to date" in out
    assert_same_results(clone, b)

    # `dvc repro --pull` fetches only what it needs and still trains nothing.
    c = fresh_clone(clone, tmp_path / "c")
    out = c.dvc("repro", "--pull").stdout
    assert ran(out) == set()
    assert_same_results(clone, c)


def test_experiment_travels_through_git_and_dvc_remotes(built_clone, tmp_path):
    clone = built_clone
    build_and_push(clone, str(tmp_path / "store"))
    origin = tmp_path / "origin.git"
    clone.run("git", "init", "-q", "--bare", "-b", "main", str(origin))
    clone.run("git", "remote", "add", "origin", str(origin))
    clone.run("git", "push", "-q", "origin", "main")
    clone.dvc("exp", "run", "-S", "dropout=0.5", "--name", "dropout-05")
    exp_metrics = (clone.path / "metrics/summary.json").read_bytes()
    clone.dvc("exp", "push", "origin", "dropout-05")

    b = Clone(tmp_path / "b", clone.env)
    clone.run("git", "clone", "-q", str(origin), str(b.path))
    b.dvc("exp", "pull", "origin", "dropout-05")
    assert "dropout-05" in b.dvc("exp", "list", "--all-commits").stdout
    b.dvc("exp", "apply", "dropout-05")
    assert (b.path / "metrics/summary.json").read_bytes() == exp_metrics
    assert "dropout: 0.5" in (b.path / "params.yaml").read_text()


def test_large_outputs_stay_out_of_git(built_clone):
    clone = built_clone
    tracked = clone.run("git", "ls-files").stdout.split()
    assert not [t for t in tracked if t.startswith("data/")]
    assert not [t for t in tracked if t.endswith((".keras", ".npz", ".joblib", ".xls"))]
    assert {"metrics/summary.json", "plots/train_dropout/dropout.csv", "plots/train_dropout/seeds.csv"} <= set(tracked)
    ignored = clone.run("git", "check-ignore", *OUTPUTS).stdout.split()
    assert ignored == list(OUTPUTS)


def test_round_trip_through_an_ssh_remote(built_clone, tmp_path, sshd):
    clone = built_clone
    port, key, known_hosts = sshd
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    shutil.copy(known_hosts, home / ".ssh" / "known_hosts")
    clone.env["HOME"] = str(home)
    url = f"ssh://root@127.0.0.1:{port}{tmp_path / 'ssh-store'}"
    build_and_push(clone, url, ("keyfile", str(key)))
    assert any((tmp_path / "ssh-store").rglob("*")), "nothing arrived on the SSH server"

    b = fresh_clone(clone, tmp_path / "b", ("keyfile", str(key)))
    b.dvc("pull")
    assert "Data and pipelines are up to date" in b.dvc("status").stdout
    assert ran(b.dvc("repro").stdout) == set()
    assert_same_results(clone, b)
