"""The sweep workflow is valid GitHub Actions and runs the tested worker and collector the way they are tested;
its git steps, run here against a stand-in GitHub that demands the token, share every point and leave the token
nowhere."""

from __future__ import annotations

import base64
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import yaml

from dlpipe.sweep import grid as sweep_grid

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github/workflows/sweep.yml"


def _flow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


# Its schema and actionlint checks are tests/test_workflow.py's, run on every workflow.


def test_started_by_hand_with_a_grid_and_seeds_whose_defaults_expand():
    flow = _flow()
    inputs = flow.get("on", flow.get(True))["workflow_dispatch"]["inputs"]  # YAML 1.1 reads a bare `on` as True
    assert {"sweep", "grid", "seeds"} <= set(inputs)
    points = sweep_grid.expand(inputs["grid"]["default"], inputs["seeds"]["default"])
    assert len(points) == 6 and points[0] == ["dropout=0.0", "seeds=[0,1,2]"]
    sweep_grid.check_sweep_name(inputs["sweep"]["default"])
    # Inputs reach the scripts through the environment only (no template pasted into a shell script).
    assert "${{" not in "\n".join(_runs(job) for job in flow["jobs"].values())
    assert flow["env"]["GRID"] == "${{ inputs.grid }}" and flow["env"]["SEEDS"] == "${{ inputs.seeds }}"


def _step(job: dict, text: str) -> dict:
    """The one step of ``job`` whose script contains ``text``."""
    found = [step for step in job["steps"] if text in step.get("run", "")]
    assert len(found) == 1, f"{len(found)} steps run {text!r}"
    return found[0]


def test_one_job_per_point_then_one_push_then_a_collector_that_runs_even_when_points_failed():
    jobs = _flow()["jobs"]
    grid = 'matrix=$(uv run --no-sync python -m dlpipe.sweep.grid --grid "$GRID" --seeds "$SEEDS")\n'
    assert grid in _runs(jobs["points"])
    assert jobs["points"]["outputs"]["matrix"] == "${{ steps.grid.outputs.matrix }}"
    point = jobs["point"]
    assert point["strategy"]["fail-fast"] is False
    assert point["strategy"]["matrix"] == "${{ fromJSON(needs.points.outputs.matrix) }}"
    # The worker and the collector as the e2e test runs them, sharing through a bare git remote: here
    # github-copy, the copy of this commit's experiments on GitHub.
    worker = _step(point, "python -m dlpipe.sweep.worker")
    assert worker["run"] == (
        'uv run --no-sync python -m dlpipe.sweep.worker --sweep "$SWEEP" --grid "$GRID" --seeds "$SEEDS" '
        '--index "$INDEX" --remote github-copy'
    )
    assert worker["env"]["INDEX"] == "${{ matrix.index }}"
    assert "git config --global user.name" in _runs(point)
    secrets = json.dumps(point["steps"])
    for name in ("DVC_SSH_KEY", "DVC_SSH_KNOWN_HOSTS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert f"${{{{ secrets.{name} }}}}" in secrets
    upload = point["steps"][-1]
    assert upload["uses"].startswith("actions/upload-artifact@")
    push = jobs["push"]
    assert push["needs"] == ["points", "point"] and "always()" in push["if"]
    download = next(step for step in push["steps"] if step.get("uses", "").startswith("actions/download-artifact@"))
    assert fnmatch.fnmatch(upload["with"]["name"].replace("${{ matrix.index }}", "3"), download["with"]["pattern"])
    collect = jobs["collect"]
    assert collect["needs"] == ["points", "push"] and "always()" in collect["if"]
    assert _step(collect, "python -m dlpipe.sweep.collect")["run"] == (
        'uv run --no-sync python -m dlpipe.sweep.collect --sweep "$SWEEP" --grid "$GRID" --seeds "$SEEDS" '
        "--remote github-copy --out review"
    )
    assert '>> "$GITHUB_STEP_SUMMARY"' in _runs(collect)
    upload = collect["steps"][-1]
    assert upload["uses"].startswith("actions/upload-artifact") and upload["with"]["path"] == "review/"


def test_every_job_that_runs_the_project_installs_uv_lock_with_uv_as_the_other_workflows_do():
    flow = _flow()
    review = yaml.safe_load((WORKFLOW.parent / "pr-review.yml").read_text())["jobs"]["review"]["steps"]
    setup_uv = next(step for step in review if step.get("uses", "").startswith("astral-sh/setup-uv@"))
    assert "pip install" not in WORKFLOW.read_text() and "requirements.lock" not in WORKFLOW.read_text()
    users = {name: job for name, job in flow["jobs"].items() if "python -m dlpipe" in _runs(job)}
    assert set(users) == {"points", "point", "collect"}
    for name, job in users.items():
        # uv at tools/uv/requirements.txt's version (setup-uv reads it), then exactly uv.lock.
        assert setup_uv in job["steps"], name
        syncs = [line for line in _runs(job).splitlines() if line.startswith("uv sync")]
        assert len(syncs) == 1 and syncs[0].startswith("uv sync --frozen --python python3 "), name
        dlpipe = [line for line in _runs(job).splitlines() if "python -m dlpipe" in line]
        assert all("uv run --no-sync python -m dlpipe." in line for line in dlpipe), dlpipe


def test_the_matrix_the_first_job_writes_is_what_github_expects():
    proc = subprocess.run(
        [sys.executable, "-m", "dlpipe.sweep.grid", "--grid", "dropout=0.0,0.5", "--seeds", "0,1"],
        capture_output=True,
        text=True,
        check=True,
    )
    line = proc.stdout.removesuffix("\n")
    assert "\n" not in line  # one line: `echo "matrix=..." >> $GITHUB_OUTPUT`
    assert json.loads(line) == {
        "include": [{"index": 0, "point": "dropout=0.0 seeds=[0,1]"}, {"index": 1, "point": "dropout=0.5 seeds=[0,1]"}]
    }


# ---------------------------------------------------------------- the git steps, against a stand-in GitHub

TOKEN = "ghs_stand1n"


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _git_over_http(root: Path, token: str):
    """A WSGI app serving the repositories under ``root`` with `git http-backend` (smart HTTP, push
    allowed), to clients that authenticate as GitHub wants a GITHUB_TOKEN: user x-access-token."""
    wanted = "Basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()

    def app(environ, start_response):
        if environ.get("HTTP_AUTHORIZATION") != wanted:
            start_response("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="github"'), ("Content-Length", "0")])
            return [b""]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        cgi = {"GIT_PROJECT_ROOT": str(root), "GIT_HTTP_EXPORT_ALL": "1", "REMOTE_USER": "x-access-token"}
        cgi |= {"PATH": os.environ["PATH"], "CONTENT_LENGTH": str(len(body))}
        for key in ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE", "HTTP_CONTENT_ENCODING"):
            if environ.get(key):
                cgi[key] = environ[key]
        out = subprocess.run(["git", "http-backend"], input=body, env=cgi, capture_output=True, check=True).stdout
        head, _, rest = out.partition(b"\r\n\r\n")
        headers = [tuple(line.split(": ", 1)) for line in head.decode().split("\r\n")]
        status = next((value for key, value in headers if key.lower() == "status"), "200 OK")
        start_response(status, [(key, value) for key, value in headers if key.lower() != "status"])
        return [rest]

    return app


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def github(tmp_path: Path) -> Iterator[dict]:
    """octo/repo on a stand-in GitHub over HTTP that wants the token: a commit on main, and one experiment of
    it already shared (``wide-old``). Yields the env the runner gives the steps (a HOME whose git config
    stores credentials), the commit and the bare repo."""
    if shutil.which("git") is None or subprocess.run(["git", "http-backend"], capture_output=True).returncode == 127:
        pytest.skip("git with its http-backend needed (Debian: apt-get install -y git)")
    home = tmp_path / "home"
    home.mkdir()
    # A helper that stores what it is given in ~/.git-credentials: the steps must not let git use it.
    (home / ".gitconfig").write_text("[credential]\n\thelper = store\n")
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}
    env |= {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    served = tmp_path / "github/octo/repo.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(served)], env=env, check=True)
    git(served, "config", "http.receivepack", "true")
    seed = tmp_path / "seed"
    subprocess.run(["git", "init", "-q", "-b", "main", str(seed)], env=env, check=True)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "the sweep's commit"], cwd=seed, env=env, check=True)
    head = git(seed, "rev-parse", "HEAD").strip()
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "wide-old"], cwd=seed, env=env, check=True)
    exps = f"refs/exps/{head[:2]}/{head[2:]}"
    subprocess.run(
        ["git", "push", "-q", str(served), f"{head}:refs/heads/main", f"HEAD:{exps}/wide-old"],
        cwd=seed,
        env=env,
        check=True,
    )
    server = make_server("127.0.0.1", 0, _git_over_http(tmp_path / "github", TOKEN), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    env |= {"GITHUB_SERVER_URL": f"http://127.0.0.1:{server.server_port}", "GITHUB_REPOSITORY": "octo/repo"}
    try:
        yield {"env": env, "head": head, "exps": exps, "served": served, "tmp": tmp_path}
    finally:
        server.shutdown()
        server.server_close()


def run_step(
    step: dict, cwd: Path, env: dict[str, str], runner_temp: Path, token: str = TOKEN
) -> subprocess.CompletedProcess[str]:
    """Run one step's script as GitHub's runner does (bash -e -o pipefail), with the workflow's env and the
    step's own, its expressions resolved (``github.token``: ``token``)."""
    expressions = {"${{ github.token }}": token, "${{ matrix.index }}": "0"}
    step_env = {key: expressions.get(value, value) for key, value in step.get("env", {}).items()}
    assert not any("${{" in value for value in step_env.values()), step_env
    helper = {"GIT_TOKEN_HELPER": _flow()["env"]["GIT_TOKEN_HELPER"], "RUNNER_TEMP": str(runner_temp)}
    runner_temp.mkdir(exist_ok=True)
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd,
        env={**env, **helper, **step_env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def checkout(github: dict, name: str, *depth: str) -> Path:
    """actions/checkout with persist-credentials: false: a clone on the commit, no token kept."""
    path = github["tmp"] / name
    subprocess.run(
        ["git", "clone", "-q", *depth, f"file://{github['served']}", str(path)], env=github["env"], check=True
    )
    git(path, "checkout", "-q", github["head"])
    return path


def refs_on_github(github: dict) -> dict[str, str]:
    out = git(github["served"], "for-each-ref", "--format=%(refname) %(objectname)")
    return dict(line.split() for line in out.splitlines())


def test_the_git_steps_share_each_point_through_github_and_leave_the_token_nowhere(github):
    jobs, env, exps = _flow()["jobs"], github["env"], github["exps"]
    before = refs_on_github(github)

    # A point job: the copy of GitHub's experiments, the worker's push into it, the bundle.
    point, temp = checkout(github, "point"), github["tmp"] / "point-temp"
    copy = run_step(_step(jobs["point"], "git init -q --bare"), point, env, temp)
    assert copy.returncode == 0, copy.stderr
    assert git(point, "ls-remote", "github-copy").split() == [before[f"{exps}/wide-old"], f"{exps}/wide-old"]
    # The worker (tests/e2e/test_sweep_workers.py runs it for real) ends with `dvc exp push github-copy NAME`:
    # a commit on HEAD, under this commit's refs/exps/, and HEAD left where it was.
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "wide-new"], cwd=point, env=env, check=True)
    git(point, "push", "-q", "github-copy", f"HEAD:{exps}/wide-new", env=env)
    new = git(point, "rev-parse", "HEAD").strip()
    git(point, "reset", "-q", "--hard", github["head"])
    bundle = run_step(_step(jobs["point"], "bundle create"), point, env, temp)
    assert bundle.returncode == 0, bundle.stderr
    # A point gone wrong hands on a bundle that also moves main: the push job must take experiments only.
    git(point, "branch", "-f", "main", new)
    git(point, "bundle", "create", "-q", str(temp / "point-1.bundle"), "main", "--not", github["head"], env=env)

    # The push job: the bundles the artifacts brought, pushed with the token of that one git command.
    pusher, push_temp = checkout(github, "push", "--depth", "1"), github["tmp"] / "push-temp"
    (push_temp / "bundles").mkdir(parents=True)
    for name in ("point-0.bundle", "point-1.bundle"):
        shutil.copy(temp / name, push_temp / "bundles")
    push_step = next(step for step in jobs["push"]["steps"] if "push" in step.get("run", ""))
    push = run_step(push_step, pusher, env, push_temp)
    assert push.returncode == 0, push.stderr
    assert refs_on_github(github) == {**before, f"{exps}/wide-new": new}  # main did not move
    # No point left a bundle (all failed): nothing to do, and no error.
    shutil.rmtree(push_temp / "bundles")
    idle = run_step(push_step, pusher, env, push_temp)
    assert (idle.returncode, idle.stdout) == (0, "No point left an experiment to push.\n")

    # The collect job's copy holds both experiments.
    collector = checkout(github, "collect")
    copied = run_step(_step(jobs["collect"], "git init -q --bare"), collector, env, github["tmp"] / "collect-temp")
    assert copied.returncode == 0, copied.stderr
    assert git(collector, "ls-remote", "github-copy").split()[1::2] == [f"{exps}/wide-new", f"{exps}/wide-old"]

    # The token was in those steps' environment only: no file the jobs leave behind holds it.
    assert [p for p in github["tmp"].rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()] == []
    # And it is what let them in: the stand-in refuses another.
    refused = run_step(
        _step(jobs["collect"], "git init -q --bare"),
        checkout(github, "refused"),
        env,
        github["tmp"] / "refused-temp",
        token="not-the-token",
    )
    assert refused.returncode != 0 and "Authentication failed" in refused.stderr, refused.stderr
