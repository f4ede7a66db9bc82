"""A sweep on many machines (docs/team.md, "Scaling out"): worker clones share one bare git remote and one SSH DVC
remote and run two at a time; a collector in another clone reports what they pushed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dlpipe.core import layout
from dlpipe.core.registry import DATA_STAGES
from dlpipe.display import render
from dlpipe.train.summary import run_major
from tests.e2e.conftest import Clone
from tests.helpers.readme import page_text

pytestmark = pytest.mark.e2e
SWEEP = "wide"
# Point 0 is rejected by the params schema: its worker fails at once, the others carry on. Three
# workers on two slots, as on a team's two machines: the third waits for the first's slot, so the two
# good points train side by side and push while the other trains.
GRID = "dropout=1.5,0.1,0.4"
GOOD = (0.1, 0.4)
PNG = b"\x89PNG\r\n\x1a\n"


def ssh_env(env: dict[str, str], home: Path, known_hosts: Path) -> dict[str, str]:
    """``env`` with a HOME that trusts the test's sshd (dvc-ssh reads ~/.ssh/known_hosts); the JAX
    compile cache stays where it was, so the workers do not compile from scratch."""
    (home / ".ssh").mkdir(parents=True)
    shutil.copy(known_hosts, home / ".ssh" / "known_hosts")
    return {**env, "HOME": str(home), "DLPIPE_JAX_CACHE": str(layout.jax_cache_dir(env))}


def clone_of(origin: Path, dest: Path, env: dict[str, str], key: Path | None = None) -> Clone:
    """A fresh `git clone` of ``origin``; with ``key``, the SSH key of the DVC remote (kept out of git)."""
    subprocess.run(["git", "clone", "-q", str(origin), str(dest)], env=env, check=True)
    repo = Clone(dest, env)
    if key is not None:
        repo.dvc("remote", "modify", "--local", "team", "keyfile", str(key))
    return repo


@pytest.fixture
def team(built_clone: Clone, tmp_path: Path, sshd) -> tuple[Path, dict[str, str], Path]:
    """One clone ran the pipeline (data stages and training) and shared it: commits on a bare git
    remote, data, models and run-cache on an SSH DVC remote. Yields (git remote, env, SSH key)."""
    port, key, known_hosts = sshd
    base = built_clone
    base.env = ssh_env(base.env, tmp_path / "home", known_hosts)
    origin = tmp_path / "origin.git"
    base.run("git", "init", "-q", "--bare", "-b", "main", str(origin))
    base.run("git", "remote", "add", "origin", str(origin))
    base.dvc("remote", "add", "-d", "team", f"ssh://root@127.0.0.1:{port}{tmp_path / 'store'}")
    base.dvc("remote", "modify", "--local", "team", "keyfile", str(key))
    base.run("git", "commit", "-qam", "the team's DVC remote")
    base.run("git", "push", "-q", "origin", "main")
    base.dvc("push", "--run-cache")
    return origin, base.env, key


def work(repo: Clone, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run the worker in ``repo``; return its result and how long it took."""
    start = time.monotonic()
    proc = repo.run(sys.executable, "-m", "dlpipe.sweep.worker", "--sweep", SWEEP, *args, check=False)
    return proc, time.monotonic() - start


def test_three_workers_two_at_a_time_then_a_collector(team, tmp_path):
    origin, env, key = team
    stored = set((tmp_path / "store").rglob("*"))
    workers = [clone_of(origin, tmp_path / f"worker{i}", env, key) for i in range(len(GOOD) + 1)]
    with ThreadPoolExecutor(max_workers=2) as pool:  # two machines at a time
        results = list(pool.map(lambda i: work(workers[i], "--grid", GRID, "--index", str(i)), range(len(workers))))
    print("worker seconds:", [round(s, 1) for _, s in results])

    bad = results[0][0]
    assert bad.returncode == 1 and bad.stdout.count("\n") == 1, bad.stdout
    assert bad.stdout.startswith("sweep_worker: error: -S dropout=1.5 is not a valid point: dropout: 1.5 is not")
    own = {}
    for value, (proc, _), repo in zip(GOOD, results[1:], workers[1:], strict=True):
        out = proc.stdout
        assert proc.returncode == 0, out
        assert "Running stage 'train_dropout'" in out, out
        for stage in DATA_STAGES:  # their outputs come from the DVC remote, only those training needs
            assert f"Running stage '{stage}'" not in out and f"Stage '{stage}' didn't change, skipping" in out
        assert not (repo.path / "data/raw").exists()
        assert out.splitlines()[-1].startswith(f"{SWEEP}-dropout-{value}: pushed to origin (experiment ")
        own[value] = run_major(repo.summary())
    # Models and run-cache records arrived on the SSH remote; the commits on the git remote.
    assert len(set((tmp_path / "store").rglob("*")) - stored) >= 2 * len(GOOD)
    names = Clone(origin, env).run("git", "for-each-ref", "--format=%(refname:lstrip=4)", "refs/exps").stdout
    assert sorted(names.split()) == [f"{SWEEP}-dropout-{v}" for v in GOOD]

    # The same point again is a no-op that names the experiment already shared.
    again, seconds = work(workers[1], "-S", "dropout=0.1")
    assert again.returncode == 0 and "Running stage" not in again.stdout
    assert re.fullmatch(
        rf"{SWEEP}-dropout-0\.1: already on origin \(experiment \w{{7}} of commit \w{{7}}\); nothing to run\n",
        again.stdout,
    ), again.stdout
    print(f"no-op rerun: {seconds:.1f} s")

    # The collector needs the git remote only: the metrics and curves are in git.
    collector = clone_of(origin, tmp_path / "collector", env)
    start = time.monotonic()
    out = collector.run(sys.executable, "-m", "dlpipe.sweep.collect", "--sweep", SWEEP, "--grid", GRID).stdout
    print(f"collector: {time.monotonic() - start:.1f} s")
    assert out.splitlines()[-1] == "review/report.md" and "Running stage" not in out
    assert not (collector.path / "data").exists()
    data = json.loads((collector.path / "review/sweep.json").read_text())
    assert [p["value"] for p in data["points"]] == list(GOOD)
    for point in data["points"]:
        assert point["names"] == [f"{SWEEP}-dropout-{point['value']}"]
        assert point["summary"] == own[point["value"]]  # the workers' own metrics, exactly
    assert data["missing"] == {f"{SWEEP}-dropout-1.5": "dropout=1.5"}
    report = (collector.path / "review/report.md").read_text()
    rows = report.splitlines()
    for value in GOOD:
        d = own[value]["dropout"]
        row = f"| {value:g} | {SWEEP}-dropout-{value} | {render.loss(d, 'min_val_loss')} | "
        row += f"{render.loss(d, 'overfitting_gap')} |"
        assert any(line.startswith(row) for line in rows), report
    assert f"- `dropout=1.5`: no experiment `{SWEEP}-dropout-1.5` (its worker failed or has not pushed yet)" in rows
    assert "](sweep-dropout.png)" in report
    assert (collector.path / "review/sweep-dropout.png").read_bytes().startswith(PNG)


def test_the_docs_tell_what_this_test_does():
    page = page_text("team.md")
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
    points = len(GRID.split("=", 1)[1].split(","))
    assert (
        f"{words[points]} worker clones two at a time in parallel processes ({words[len(GOOD)]} points and one "
        f"the schema rejects), a rerun, and a collector clone whose report lists the {words[len(GOOD)]} points"
    ) in page
