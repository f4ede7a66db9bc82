"""A temporary clone of this repository in which tests run the real `dvc`."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from dvc.utils.serialize import modify_yaml
from filelock import FileLock

from dlpipe.data.raw_tables import concrete_fingerprint, read_concrete
from dlpipe.train.backend import compile_cache_environment
from tests.conftest import make_concrete, make_spotify

ROOT = Path(__file__).resolve().parents[2]
# Set in this process by the unit tests' backend (tests/conftest.py), never by a user: a stage sets its own.
BACKEND_SETTINGS = frozenset(compile_cache_environment(Path())) | {
    "PJRT_NPROC",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
}
TINY_EPOCHS = {"train_dropout": 3, "train_batchnorm": 4}


@dataclass
class Clone:
    path: Path
    env: dict[str, str]
    # What built it, for a session's built template: the output of its `dvc repro` (not copied).
    repro_output: str = ""

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a command in the clone; return its output (stdout and stderr together)."""
        proc = subprocess.run(
            args,
            cwd=self.path,
            env=self.env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=600,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stdout}")
        return proc

    def dvc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(sys.executable, "-m", "dvc", *args, check=check)

    def params(self) -> dict:
        return yaml.safe_load((self.path / "params.yaml").read_text())

    def write_params(self, params: dict) -> None:
        """Write ``params`` into params.yaml the way `dvc exp run -S` does (comments and layout kept)."""
        with modify_yaml(self.path / "params.yaml") as document:
            _merge(document, params)

    def summary(self, rev: str | None = None) -> dict:
        """metrics/summary.json of the work tree, or of a revision."""
        if rev is None:
            return json.loads((self.path / "metrics/summary.json").read_text())
        return json.loads(self.run("git", "show", f"{rev}:metrics/summary.json").stdout)


def _merge(document: dict, new: dict) -> None:
    for key in [k for k in document if k not in new]:
        del document[key]
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(document.get(key), dict):
            _merge(document[key], value)
        elif document.get(key) != value:
            document[key] = value


def write_small_mirror(folder: Path) -> dict:
    """Write small tables with the real schemas; return the sources.yaml content that accepts them."""
    folder.mkdir(parents=True, exist_ok=True)
    spotify, concrete = make_spotify(n_rows=400, n_artists=60), make_concrete(n_rows=150)
    spotify.to_csv(folder / "spotify_songs.csv", index=False)
    concrete.to_csv(folder / "concrete.csv", index=False)
    return {
        "spotify": {
            "url": "https://example.org/tidytuesday/spotify_songs.csv",
            "sha256": hashlib.sha256((folder / "spotify_songs.csv").read_bytes()).hexdigest(),
            "rows": len(spotify),
        },
        "concrete": {
            "url": "https://example.org/uci/concrete.csv",
            "fingerprint": concrete_fingerprint(read_concrete(folder / "concrete.csv")),
            "rows": len(concrete),
        },
    }


def copy_worktree(dest: Path) -> None:
    """Copy the files git knows (committed or not, ignoring ignored ones): the work tree as a
    fresh clone of it would hold them."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _environment(root: Path) -> dict[str, str]:
    # Not the compile-cache and thread settings the unit tests' backend set in this process: a stage
    # finds its cache and sets its threads itself, as on a user's machine.
    inherited = {k: v for k, v in os.environ.items() if k not in BACKEND_SETTINGS}
    return {
        **inherited,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "FETCH_MIRROR": str(root / "mirror"),
        "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": str(root / "dvc-site-cache"),
        # One training process per stage: the suite already keeps both cores busy (pytest-xdist),
        # and a worker process would only add a Keras import. Tests that want workers say so.
        "DLPIPE_WORKERS": "1",
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@example.org",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@example.org",
    }


def copy_clone(source: Clone, root: Path) -> Clone:
    """A copy of ``source`` (its git history, DVC cache, work tree and mirror) under ``root``:
    as independent as a new clone, without rebuilding anything."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source.path, root / "repo", symlinks=True, ignore=_skip_dvc_tmp)
    shutil.copytree(Path(source.env["FETCH_MIRROR"]), root / "mirror")
    return Clone(root / "repo", _environment(root))


def _skip_dvc_tmp(folder: str, names: list[str]) -> list[str]:
    # .dvc/tmp holds DVC's locks and state database of one working copy: never shared.
    return ["tmp"] if Path(folder).name == ".dvc" else []


@pytest.fixture(scope="session")
def shared_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder shared by every pytest-xdist worker of this session (its own base folder without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def built_once(folder: Path) -> Iterator[bool]:
    """Build ``folder`` once per test session, whichever xdist worker asks first: yields True to the
    one that must build it (the others wait for it, then get False). A build that fails is retried by
    the next worker that asks, so its error reaches that worker's test too."""
    with FileLock(f"{folder}.lock"):
        done = folder / ".built"
        if done.exists():
            yield False
            return
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        yield True
        done.touch()


@pytest.fixture(scope="session")
def template_clone(shared_tmp: Path) -> Clone:
    """Built once per test session: a git repository holding this project, with tiny epochs, one seed
    and a small mirror committed, nothing run yet. Tests get copies (``clone``), never this one."""
    root = shared_tmp / "template"
    path = root / "repo"
    repo = Clone(path, _environment(root))
    with built_once(root) as build:
        if build:
            path.mkdir()
            copy_worktree(path)
            (path / "sources.yaml").write_text(yaml.safe_dump(write_small_mirror(root / "mirror"), sort_keys=False))
            params = repo.params()
            for stage, epochs in TINY_EPOCHS.items():
                params[stage]["epochs"] = epochs
            # One seed: the tests that need several ask for them (`-S 'seeds=[0,1,2]'`), against this one.
            params["seeds"] = [0]
            repo.write_params(params)
            repo.run("git", "init", "-q", "-b", "main")
            repo.run("git", "add", "-A")
            repo.run("git", "commit", "-q", "-m", "project with tiny epochs")
    return repo


@pytest.fixture(scope="session")
def built_template(template_clone: Clone, shared_tmp: Path) -> Clone:
    """Built once per test session: the template after a full `dvc repro`, its results committed."""
    root = shared_tmp / "built"
    output = root / "repro-output.txt"
    with built_once(root) as build:
        if build:
            repo = copy_clone(template_clone, root)
            # A fresh clone's first `dvc repro`: tests check its output instead of running another one.
            output.write_text(repo.dvc("repro").stdout)
            repo.run("git", "add", "-A")
            repo.run("git", "commit", "-q", "-m", "pipeline run")
    return Clone(root / "repo", _environment(root), repro_output=output.read_text())


@dataclass
class Experiment:
    """A copy of the built template after `dvc exp run -S <change>`. Tests only read it (others share
    it); a test that changes it works on ``copy_clone(experiment.clone, tmp_path)``."""

    clone: Clone
    output: str  # of its `dvc exp run`

    @property
    def name(self) -> str:
        """The experiment's name, as DVC reported it."""
        found = re.search(r"Ran experiment\(s\): (\S+)", self.output)
        assert found, self.output
        return found.group(1)


@pytest.fixture(scope="session")
def experiment(built_template: Clone, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Experiment]:
    """``experiment(change)``: `dvc exp run -S change` on the built template, run once per change and
    test worker, for every test about that change. Such tests share an xdist group (``shares_experiment``),
    so that one worker runs them all."""
    done: dict[str, Experiment] = {}

    def run(change: str) -> Experiment:
        if change not in done:
            repo = copy_clone(built_template, tmp_path_factory.mktemp("experiment"))
            done[change] = Experiment(repo, repo.dvc("exp", "run", "-S", change).stdout)
        return done[change]

    return run


# The experiment most tests compare with the built template (its dropout is 0.3).
DROPOUT_05 = "dropout=0.5"


def shares_experiment(change: str) -> pytest.MarkDecorator:
    """The mark of the tests that use ``experiment(change)``."""
    # xdist reads the group after the last "@" of a test's id, only if no "]" follows it: no brackets.
    return pytest.mark.xdist_group("exp-" + re.sub(r"\W+", "_", change))


@pytest.fixture
def clone(template_clone: Clone, tmp_path: Path) -> Clone:
    """A fresh clone of the project (tiny epochs, small mirror), nothing run yet."""
    return copy_clone(template_clone, tmp_path)


@pytest.fixture
def built_clone(built_template: Clone, tmp_path: Path) -> Clone:
    """A clone in which `dvc repro` has run and its results are committed (HEAD = that run)."""
    return copy_clone(built_template, tmp_path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sshd(tmp_path):
    """OpenSSH's sshd on 127.0.0.1 with throwaway keys; yields (port, client key, known_hosts)."""
    binary = shutil.which("sshd") or "/usr/sbin/sshd"
    if not os.path.exists(binary) or not shutil.which("ssh-keygen"):
        pytest.skip("OpenSSH server not installed (Debian: apt-get install -y openssh-server)")
    if os.geteuid() != 0:
        pytest.skip("sshd with privilege separation needs root here")
    d = tmp_path / "ssh"
    d.mkdir()
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True)
    shutil.copy(d / "client_key.pub", d / "authorized_keys")
    port = _free_port()
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host_key'}\n"
        f"AuthorizedKeysFile {d / 'authorized_keys'}\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin yes\n"
        f"StrictModes no\nUsePAM no\nPidFile {d / 'sshd.pid'}\nSubsystem sftp internal-sftp\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)
    proc = subprocess.Popen([binary, "-D", "-e", "-f", str(d / "sshd_config")], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"sshd did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
                time.sleep(0.1)
        host_pub = (d / "host_key.pub").read_text().split()[:2]
        (d / "known_hosts").write_text(f"[127.0.0.1]:{port} {' '.join(host_pub)}\n")
        yield port, d / "client_key", d / "known_hosts"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
