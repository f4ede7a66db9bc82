"""Post the review report on a pull request as ONE comment, created once and then edited in place.

    python -m dlpipe.report.pr_comment --report review/report.md --pr NUMBER [--repo OWNER/NAME] [--figures-url URL]

Talks to GitHub through the `gh` CLI (present on every GitHub-hosted runner; authenticated by
``GH_TOKEN``): it asks whose token that is, lists the pull request's comments (every page), finds the
one that starts with the hidden marker line ``<!-- dlpipe-review -->`` AND was written by that account,
and edits it, or creates it if there is none, so each push updates the same comment instead of adding
one. A comment anyone else wrote is never edited, marker or not. The body goes to `gh` on stdin, never
in argv (reports are long).

The comment is the report's text (params, metrics, the notebook's answers). Its figures are PNG
files beside the report that a comment cannot show without uploading them somewhere: they stay in
the workflow run's ``review`` artifact, and each image of the report becomes a line naming its file
there, with a link to the run's artifacts (``--figures-url``; by default the current run's, from
GitHub Actions' ``GITHUB_SERVER_URL``, ``GITHUB_REPOSITORY`` and ``GITHUB_RUN_ID``).
``--repo`` defaults to ``GITHUB_REPOSITORY``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, NoReturn

from dlpipe.core.errors import UserError, run_cli

MARKER = "<!-- dlpipe-review -->"
ARTIFACT = "review"
# GitHub refuses comment bodies longer than this (characters).
MAX_BODY = 65536
GH_TIMEOUT = 120  # seconds for one `gh api` call; the REST API answers in well under that
# A Markdown image: ![alt](target) or ![alt](target "title").
IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
# GraphQL, as a `gh api graphql -f` field: the token's own account.
VIEWER_QUERY = "query={ viewer { login } }"


# ---------------------------------------------------------------- the comment's text


def rewrite_images(report: str, figures_url: str | None) -> str:
    """Replace each image of a local file by a line naming that file in the run's artifact.

    A comment cannot show a PNG that lies next to the report on the runner: left as it is, it would
    be a broken image. Images that already point to the web are kept.
    """
    where = f"[`{ARTIFACT}` artifact]({figures_url})" if figures_url else f"`{ARTIFACT}` artifact of the workflow run"

    def replace(match: re.Match[str]) -> str:
        if match["target"].startswith(("https://", "http://")):
            return match[0]
        alt = match["alt"] or "figure"
        return f"*Figure: {alt}* (`{match['target']}` in the {where})"

    return IMAGE.sub(replace, report)


def comment_body(report: str, figures_url: str | None) -> str:
    """The whole comment: marker, a line on where the figures are, the report; within GitHub's limit."""
    where = f"[this run's artifacts]({figures_url})" if figures_url else "the workflow run's artifacts"
    head = [
        MARKER,
        f"> Updated on every push. The figures (loss curves, PNG) are in the `{ARTIFACT}` artifact of {where}.",
        "",
    ]
    body = "\n".join(head) + rewrite_images(report, figures_url)
    if len(body) <= MAX_BODY:
        return body
    # Cut at a line end, leaving room for the note; the artifact keeps the whole report.
    note = f"\n\n… (cut here: GitHub takes {MAX_BODY} characters; the whole report.md is in the artifact)\n"
    cut = body.rfind("\n", 0, MAX_BODY - len(note))
    return body[:cut] + note


# ---------------------------------------------------------------- GitHub through gh


def gh_api(args: list[str], payload: dict[str, Any] | None = None) -> str:
    """Run `gh api ARGS` (payload as JSON on stdin) and return its stdout; any failure is one UserError."""
    command = ["gh", "api", *args]
    shown = " ".join(["gh", "api", *[a for a in args if a != "--input" and a != "-"]])
    try:
        proc = subprocess.run(
            command,
            input=None if payload is None else json.dumps(payload),
            capture_output=True,
            text=True,
            timeout=GH_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise UserError("`gh` (GitHub CLI) not found on PATH; it is on every GitHub-hosted runner") from None
    except subprocess.TimeoutExpired:
        raise UserError(f"`{shown}` did not answer within {GH_TIMEOUT} s") from None
    if proc.returncode != 0:
        lines = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
        raise UserError(f"`{shown}` failed (exit {proc.returncode}): {lines[-1] if lines else 'no message'}")
    return proc.stdout


def _json_values(text: str, what: str) -> list[Any]:
    # `gh api --paginate` prints one JSON array per page, one after the other (`[...][...]`), unless
    # it joins them itself: read every value in the stream either way.
    decoder = json.JSONDecoder()
    values, at = [], 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at == len(text):
            return values
        try:
            value, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError as exc:
            raise UserError(f"{what}: gh did not answer JSON ({exc.msg} at character {exc.pos})") from None
        values.append(value)


def token_login() -> str:
    """The login of the account ``GH_TOKEN`` belongs to: the author of the comments this tool writes.

    Asked through GraphQL's ``viewer``, not REST's ``GET /user``: GitHub Actions' ``GITHUB_TOKEN`` is a
    GitHub App installation token, which ``GET /user`` refuses (HTTP 403, "Resource not accessible by
    integration"), while ``viewer`` answers with the app's bot account, ``github-actions[bot]``, the
    login the REST API gives as its comments' author. A personal token answers with its user's login.
    """
    values = _json_values(gh_api(["graphql", "-f", VIEWER_QUERY]), "the token's account")
    try:  # the answer is {"data": {"viewer": {"login": ...}}}
        login = values[0]["data"]["viewer"]["login"]
    except (IndexError, KeyError, TypeError):
        login = None
    if not isinstance(login, str) or not login:
        raise UserError("gh did not say whose token GH_TOKEN is (no login in GraphQL's viewer); check the token")
    return login


def find_comment(repo: str, pr: int, author: str) -> int | None:
    """The id of our earlier comment on the pull request: the first one that starts with MARKER and
    was written by ``author``. Anyone can post the marker; only our own comment is ours to edit."""
    what = f"comments of {repo}#{pr}"
    out = gh_api(["--paginate", f"repos/{repo}/issues/{pr}/comments?per_page=100"])
    for page in _json_values(out, what):
        if not isinstance(page, list):
            raise UserError(f"{what}: expected a list of comments from gh, got {type(page).__name__}")
        for comment in page:
            user = comment.get("user") or {}
            if str(comment.get("body", "")).startswith(MARKER) and user.get("login") == author:
                return int(comment["id"])
    return None


def post_or_update(repo: str, pr: int, body: str) -> tuple[str, str]:
    """Edit our comment if it exists, else create it; return ("created" or "updated", its URL)."""
    existing = find_comment(repo, pr, token_login())
    if existing is None:
        action, args = "created", ["-X", "POST", f"repos/{repo}/issues/{pr}/comments"]
    else:
        action, args = "updated", ["-X", "PATCH", f"repos/{repo}/issues/comments/{existing}"]
    answer = _json_values(gh_api([*args, "--input", "-"], {"body": body}), f"comment on {repo}#{pr}")
    url = answer[0].get("html_url", "") if answer and isinstance(answer[0], dict) else ""
    return action, url


# ---------------------------------------------------------------- command line


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, like every other error of this tool, instead of argparse's usage block.
        self.exit(2, f"pr_comment: error: {message} (see --help)\n")


def default_figures_url() -> str | None:
    """The current GitHub Actions run's page, where its artifacts are listed; None outside Actions."""
    server, repo, run = (os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    return f"{server}/{repo}/actions/runs/{run}#artifacts" if server and repo and run else None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(prog="python -m dlpipe.report.pr_comment", description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, required=True, help="the report (review/report.md)")
    parser.add_argument("--pr", type=int, required=True, help="pull request number")
    parser.add_argument("--repo", default=os.environ.get("GITHUB_REPOSITORY"), help="OWNER/NAME")
    parser.add_argument("--figures-url", default=default_figures_url(), help="where the review artifact is")
    args = parser.parse_args(argv)
    if args.pr <= 0:
        parser.error(f"--pr must be a pull request number, not {args.pr}")
    if not args.repo:
        parser.error("--repo OWNER/NAME is needed outside GitHub Actions (GITHUB_REPOSITORY is not set)")
    if not REPO.match(args.repo):
        parser.error(f"--repo must be OWNER/NAME, not {args.repo!r}")
    return args


def main(argv: list[str] | None = None) -> None:
    """Entry point: print "created URL" or "updated URL"; one error line and exit 1 when anything fails."""
    args = parse_args(argv)

    def work() -> None:
        try:
            report = args.report.read_text(encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot read the report {args.report}: {exc.strerror}") from None
        action, url = post_or_update(args.repo, args.pr, comment_body(report, args.figures_url))
        print(f"{action} {url}".rstrip())

    run_cli("pr_comment", work)


if __name__ == "__main__":
    main(sys.argv[1:])
