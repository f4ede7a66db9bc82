"""Downloads against a real HTTP server on 127.0.0.1 that misbehaves on purpose."""

from __future__ import annotations

import socket

import pytest

from dlpipe.download import http_download
from dlpipe.errors import UserError
from tests.helpers.http_faults import BODY, Handler, serving


@pytest.fixture(scope="module")
def server():
    with serving() as url:
        yield url


@pytest.fixture(autouse=True)
def fresh_counts():
    Handler.hits.clear()
    Handler.ranges.clear()


def download(url, dest, **kw):
    http_download(url, dest, sleep=lambda s: None, **{"timeout": 5.0, "retries": 3, **kw})


@pytest.mark.parametrize("name", ["ok", "cut_then_resume", "cut_then_ignore_range", "error503_once"])
def test_flaky_servers_still_give_the_exact_bytes(server, tmp_path, name):
    dest = tmp_path / "f.csv"
    download(f"{server}/{name}.csv", dest)
    assert dest.read_bytes() == BODY


def test_resumption_asks_only_for_the_missing_bytes(server, tmp_path):
    seen = []
    download(f"{server}/cut_then_resume.csv", tmp_path / "f.csv", progress=lambda got, total: seen.append(got))
    assert seen[-1] == len(BODY)
    assert Handler.hits["cut_then_resume"] == 2
    assert Handler.ranges == ["", f"bytes={len(BODY) // 2}-"]


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("missing.csv", "HTTP 404 Not Found; check the URL in params.yaml"),
        ("error500.csv", "failed after 4 attempts: HTTP 500"),
        ("always_cut.csv", "failed after 4 attempts: truncated body: 1000 of"),
        ("html.csv", "the server sent an HTML page, not the data file"),
    ],
)
def test_failures_are_one_clear_line(server, tmp_path, path, fragment):
    with pytest.raises(UserError) as info:
        download(f"{server}/{path}", tmp_path / "f.csv")
    message = str(info.value)
    assert fragment in message and "\n" not in message


def test_timeouts_are_retried_then_reported(server, tmp_path):
    with pytest.raises(UserError, match=r"failed after 2 attempts: .*timed out"):
        download(f"{server}/slow.csv", tmp_path / "f.csv", timeout=0.2, retries=1)


def test_refused_connection_and_unknown_host(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(UserError, match=r"connection refused by 127\.0\.0\.1"):
        download(f"http://127.0.0.1:{port}/x.csv", tmp_path / "f.csv")
    with pytest.raises(UserError, match=r"cannot resolve host nonexistent\.invalid \(DNS"):
        download("http://nonexistent.invalid/x.csv", tmp_path / "f.csv")
