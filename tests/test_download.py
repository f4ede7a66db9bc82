"""Downloads against a real HTTP server on 127.0.0.1 that misbehaves on purpose."""

from __future__ import annotations

import errno
import socket
import ssl
from pathlib import Path

import pytest

from dlpipe.core.errors import UserError
from dlpipe.data.download import _read, _Retryable, http_download
from tests.helpers.http_faults import BODY, Handler, serving


@pytest.fixture(scope="module")
def server():
    with serving() as url:
        yield url


@pytest.fixture(autouse=True)
def fresh_counts():
    Handler.hits.clear()


def download(url, dest, **kw):
    http_download(url, dest, sleep=lambda s: None, **{"timeout": 5.0, "retries": 3, **kw})


@pytest.mark.parametrize(("name", "tries"), [("ok", 1), ("cut_once", 2), ("error503_once", 2), ("reset_once", 2)])
def test_flaky_servers_still_give_the_exact_bytes(server, tmp_path, name, tries):
    dest = tmp_path / "f.csv"
    download(f"{server}/{name}.csv", dest)
    assert dest.read_bytes() == BODY and Handler.hits[name] == tries


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


def test_a_full_disk_is_not_retried_as_a_network_failure(server, tmp_path, monkeypatch):
    import builtins

    real_open = builtins.open

    def full_disk(path, mode="r", *args, **kwargs):
        if "w" in mode or "a" in mode:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", lambda self, mode="r", *a, **k: full_disk(self, mode, *a, **k))
    with pytest.raises(OSError) as info:
        download(f"{server}/ok.csv", tmp_path / "f.csv")
    assert info.value.errno == errno.ENOSPC and Handler.hits["ok"] == 1


def test_a_tls_error_mid_body_is_retried():
    class Broken:
        def read(self, size: int) -> bytes:
            raise ssl.SSLError(1, "[SSL: DECRYPTION_FAILED_OR_BAD_RECORD_MAC] decryption failed or bad record mac")

    with pytest.raises(_Retryable, match=r"transfer cut after 10 bytes \(SSLError: .*BAD_RECORD_MAC"):
        _read(Broken(), 10)


def test_retries_back_off_exponentially(server, tmp_path):
    waits = []
    with pytest.raises(UserError, match="failed after 4 attempts: HTTP 500"):
        http_download(f"{server}/error500.csv", tmp_path / "f.csv", retries=3, backoff=0.5, sleep=waits.append)
    assert waits == [0.5, 1.0, 2.0]
