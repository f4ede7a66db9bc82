"""The pull-request comment: created once, then edited in place, never someone else's; figures point to the
artifact; errors are one line.

GitHub is played by a stand-in `gh` on PATH that records every call (arguments and stdin) and
answers from a small JSON state, the way `gh api` would: the token belongs to ``state["viewer"]``
(GraphQL's viewer), a comment it creates has that author, and, as GitHub does, it refuses to edit a
comment someone else wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlpipe.report.pr_comment import MARKER, MAX_BODY, comment_body, parse_args

FAKE_GH = """\
#!{python}
import json, os, sys

state_path = os.environ["FAKE_GH_STATE"]
with open(state_path) as f:
    state = json.load(f)
args = sys.argv[1:]
stdin = sys.stdin.read() if "--input" in args else None
state["calls"].append({{"args": args, "stdin": stdin}})


def save():
    with open(state_path, "w") as f:
        json.dump(state, f)


def refuse():
    save()
    print("gh: Resource not accessible by integration (HTTP 403)", file=sys.stderr)
    sys.exit(1)


if state.get("fail") and state["fail"] in " ".join(args):
    refuse()
if args[1] == "graphql":
    print(json.dumps({{"data": {{"viewer": {{"login": state["viewer"]}} if state["viewer"] else None}}}}))
    save()
    sys.exit(0)
method = args[args.index("-X") + 1] if "-X" in args else "GET"
endpoint = next(a for a in args if a.startswith("repos/"))
if method == "GET":
    # Two pages, printed one after the other as `gh api --paginate` does.
    half = len(state["comments"]) // 2
    sys.stdout.write(json.dumps(state["comments"][:half]) + json.dumps(state["comments"][half:]))
elif method == "POST":
    new = {{"id": state["next_id"], "user": {{"login": state["viewer"]}}, "body": json.loads(stdin)["body"]}}
    new["html_url"] = "https://github.com/octo/repo/pull/7#issuecomment-%d" % new["id"]
    state["next_id"] += 1
    state["comments"].append(new)
    print(json.dumps(new))
elif method == "PATCH":
    wanted = int(endpoint.rsplit("/", 1)[1])
    for comment in state["comments"]:
        if comment["id"] == wanted:
            if comment["user"]["login"] != state["viewer"]:
                refuse()
            comment["body"] = json.loads(stdin)["body"]
            print(json.dumps(comment))
save()
"""

REPORT = """\
# Review: `origin/main` → `workspace`

| stage | run | metric | origin/main | workspace | change | verdict |
|---|---|---|---|---|---|---|
| train_dropout | dropout | min_val_loss | 0.1918 | 0.1901 | -0.0017 | better |

![dropout_loss](dropout_loss.png)
![batchnorm_loss: train and validation loss, origin/main vs workspace](batchnorm_loss.png)
![badge](https://img.shields.io/badge/dvc-3-blue)

### Does Dropout reduce overfitting here?

- `workspace`: **Yes.** Overfitting gap 0.0006 with Dropout vs 0.0068 without.
"""
FIGURES = "https://github.com/octo/repo/actions/runs/42#artifacts"
BOT = "github-actions[bot]"  # the author GITHUB_TOKEN's comments have, and GraphQL's viewer for that token
VIEWER_CALL = ["api", "graphql", "-f", "query={ viewer { login } }"]
LISTING_CALL = ["api", "--paginate", "repos/octo/repo/issues/7/comments?per_page=100"]


def comment(number: int, author: str, body: str) -> dict:
    """A pull-request comment as GitHub's REST API lists it (the fields this tool reads)."""
    url = f"https://github.com/octo/repo/pull/7#issuecomment-{number}"
    return {"id": number, "user": {"login": author}, "body": body, "html_url": url}


@pytest.fixture
def github(tmp_path: Path) -> dict:
    """A stand-in `gh` on PATH and its state: the token is the bot's; four comments by others, one quoting our
    marker and one, the last, starting with it as ours do."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(FAKE_GH.format(python=sys.executable))
    gh.chmod(0o755)
    state = tmp_path / "gh-state.json"
    others = [
        comment(11, "alice", "Looks good to me"),
        comment(12, "bob", f"Quoting the bot:\n> {MARKER}\n> old numbers"),
        comment(13, "alice", "Please rerun"),
        comment(14, "mallory", f"{MARKER}\nnot the bot's numbers"),
    ]
    state.write_text(json.dumps({"viewer": BOT, "comments": others, "next_id": 1000, "calls": []}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_"))}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env['PATH']}", FAKE_GH_STATE=str(state))
    return {"env": env, "state": state, "bin": bin_dir}


def pr_comment(env: dict, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dlpipe.report.pr_comment", *args], env=env, capture_output=True, text=True, timeout=60
    )


def state_of(github: dict) -> dict:
    return json.loads(github["state"].read_text())


def test_first_run_creates_the_comment_and_the_second_edits_the_same_one(github, tmp_path):
    # Comment 14 starts with the marker too, but mallory wrote it: the bot posts its own instead.
    report = tmp_path / "report.md"
    report.write_text(REPORT)
    args = ["--report", str(report), "--pr", "7", "--repo", "octo/repo", "--figures-url", FIGURES]

    first = pr_comment(github["env"], *args)
    assert (first.returncode, first.stderr) == (0, "")
    assert first.stdout == "created https://github.com/octo/repo/pull/7#issuecomment-1000\n"
    viewer, listing, create = state_of(github)["calls"]
    assert (viewer["args"], listing["args"]) == (VIEWER_CALL, LISTING_CALL)
    assert create["args"] == ["api", "-X", "POST", "repos/octo/repo/issues/7/comments", "--input", "-"]
    created = json.loads(create["stdin"])["body"]
    assert created.startswith(MARKER + "\n") and "| train_dropout | dropout | min_val_loss | 0.1918 |" in created

    report.write_text(REPORT.replace("0.1901", "0.1899"))
    second = pr_comment(github["env"], *args)
    assert (second.returncode, second.stderr) == (0, "")
    assert second.stdout == "updated https://github.com/octo/repo/pull/7#issuecomment-1000\n"
    state = state_of(github)
    viewer, listing, edit = state["calls"][3:]
    assert (viewer["args"], listing["args"]) == (VIEWER_CALL, LISTING_CALL)
    assert edit["args"] == ["api", "-X", "PATCH", "repos/octo/repo/issues/comments/1000", "--input", "-"]
    # Still one comment of ours, with the new numbers; the others untouched.
    ours = [c for c in state["comments"] if c["user"]["login"] == BOT]
    assert [c["id"] for c in ours] == [1000] and "| 0.1918 | 0.1899 |" in ours[0]["body"]
    assert [c["id"] for c in state["comments"]] == [11, 12, 13, 14, 1000]
    assert state["comments"][3]["body"] == f"{MARKER}\nnot the bot's numbers"
    # The body travels on stdin only: argv stays short whatever the report's length.
    assert all(len(" ".join(call["args"])) < 200 for call in state["calls"])


def test_the_bots_own_earlier_comment_is_edited_and_a_foreign_one_before_it_is_not(github, tmp_path):
    state = state_of(github)
    own = comment(15, BOT, f"{MARKER}\nlast push's numbers")
    github["state"].write_text(json.dumps({**state, "comments": [*state["comments"], own]}))
    report = tmp_path / "report.md"
    report.write_text(REPORT)

    proc = pr_comment(github["env"], "--report", str(report), "--pr", "7", "--repo", "octo/repo")
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == "updated https://github.com/octo/repo/pull/7#issuecomment-15\n"
    state = state_of(github)
    assert [call["args"][1:4] for call in state["calls"]][-1] == ["-X", "PATCH", "repos/octo/repo/issues/comments/15"]
    assert [c["id"] for c in state["comments"]] == [11, 12, 13, 14, 15]
    assert state["comments"][3]["body"] == f"{MARKER}\nnot the bot's numbers"
    assert "| train_dropout | dropout | min_val_loss | 0.1918 | 0.1901 |" in state["comments"][4]["body"]


def test_a_personal_token_finds_the_comment_its_user_wrote(github, tmp_path):
    # The author is whoever the token belongs to, not a fixed bot name: with mallory's token, mallory's
    # comment is the one to edit, and the bot's (first on the page) is not.
    state = state_of(github)
    bots = comment(10, BOT, f"{MARKER}\nthe bot's numbers")
    github["state"].write_text(json.dumps({**state, "viewer": "mallory", "comments": [bots, *state["comments"]]}))
    report = tmp_path / "report.md"
    report.write_text(REPORT)
    proc = pr_comment(github["env"], "--report", str(report), "--pr", "7", "--repo", "octo/repo")
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == "updated https://github.com/octo/repo/pull/7#issuecomment-14\n"


def test_local_images_become_lines_that_point_to_the_artifact():
    body = comment_body(REPORT, FIGURES)
    assert "](batchnorm_loss.png)" not in body and "](dropout_loss.png)" not in body
    assert (
        "*Figure: batchnorm_loss: train and validation loss, origin/main vs workspace* "
        f"(`batchnorm_loss.png` in the [`review` artifact]({FIGURES}))"
    ) in body
    assert f"*Figure: dropout_loss* (`dropout_loss.png` in the [`review` artifact]({FIGURES}))" in body
    assert "![badge](https://img.shields.io/badge/dvc-3-blue)" in body  # on the web already: kept
    assert f"The figures (loss curves, PNG) are in the `review` artifact of [this run's artifacts]({FIGURES})" in body
    assert "**Yes.** Overfitting gap 0.0006 with Dropout vs 0.0068 without." in body


def test_without_a_figures_url_the_artifact_is_still_named():
    body = comment_body(REPORT, None)
    assert "(`dropout_loss.png` in the `review` artifact of the workflow run)" in body
    assert "](dropout_loss.png)" not in body


def test_a_report_longer_than_github_allows_is_cut_at_a_line(tmp_path):
    row = "| train_dropout | dropout | min_val_loss | 0.1918 | 0.1901 | -0.0017 | better |\n"
    body = comment_body(REPORT + row * 2000, FIGURES)
    assert len(body) <= MAX_BODY
    assert body.endswith("the whole report.md is in the artifact)\n")
    assert body.split("\n\n… (cut here")[0].endswith(row.rstrip("\n"))


def test_defaults_come_from_github_actions(monkeypatch):
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo/repo")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    args = parse_args(["--report", "review/report.md", "--pr", "7"])
    assert (args.repo, args.figures_url) == ("octo/repo", FIGURES)


@pytest.mark.parametrize(
    ("failing", "shown"),
    [
        ("graphql", "gh api graphql -f query={ viewer { login } }"),
        ("comments?per_page", "gh api --paginate repos/octo/repo/issues/7/comments?per_page=100"),
    ],
)
def test_a_gh_failure_is_one_line_and_nothing_is_written(github, tmp_path, failing, shown):
    state = state_of(github)
    github["state"].write_text(json.dumps({**state, "fail": failing}))
    report = tmp_path / "report.md"
    report.write_text(REPORT)
    proc = pr_comment(github["env"], "--report", str(report), "--pr", "7", "--repo", "octo/repo")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == (
        f"pr_comment: error: `{shown}` failed (exit 1): gh: Resource not accessible by integration (HTTP 403)\n"
    )
    assert state_of(github)["comments"] == state["comments"]


def test_a_token_gh_cannot_name_is_one_line_and_nothing_is_written(github, tmp_path):
    state = state_of(github)
    github["state"].write_text(json.dumps({**state, "viewer": None}))
    report = tmp_path / "report.md"
    report.write_text(REPORT)
    proc = pr_comment(github["env"], "--report", str(report), "--pr", "7", "--repo", "octo/repo")
    assert proc.returncode == 1
    assert proc.stderr == (
        "pr_comment: error: gh did not say whose token GH_TOKEN is (no login in GraphQL's viewer); check the token\n"
    )
    assert [call["args"] for call in state_of(github)["calls"]] == [VIEWER_CALL]


def test_gh_missing_is_one_line(github, tmp_path):
    report = tmp_path / "report.md"
    report.write_text(REPORT)
    env = {**github["env"], "PATH": str(tmp_path / "empty")}
    proc = pr_comment(env, "--report", str(report), "--pr", "7", "--repo", "octo/repo")
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "pr_comment: error: `gh` (GitHub CLI) not found on PATH; it is on every GitHub-hosted runner"
    ]


def test_a_missing_report_is_one_line_and_calls_nothing(github, tmp_path):
    missing = tmp_path / "review/report.md"
    proc = pr_comment(github["env"], "--report", str(missing), "--pr", "7", "--repo", "octo/repo")
    assert proc.returncode == 1
    assert proc.stderr == f"pr_comment: error: cannot read the report {missing}: No such file or directory\n"
    assert state_of(github)["calls"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pr", "0", "--repo", "octo/repo"], "--pr must be a pull request number, not 0"),
        (["--pr", "7", "--repo", "not a repo"], "--repo must be OWNER/NAME, not 'not a repo'"),
        (["--pr", "7"], "--repo OWNER/NAME is needed outside GitHub Actions (GITHUB_REPOSITORY is not set)"),
        (["--pr", "seven", "--repo", "octo/repo"], "argument --pr: invalid int value: 'seven'"),
    ],
)
def test_bad_arguments_are_one_line(github, tmp_path, args, message):
    proc = pr_comment(github["env"], "--report", str(tmp_path / "report.md"), *args)
    assert proc.returncode == 2
    assert proc.stderr == f"pr_comment: error: {message} (see --help)\n"
    assert state_of(github)["calls"] == []
