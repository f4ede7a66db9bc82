"""Bring a public file to disk, from the network or from a local mirror folder.

Network downloads survive a flaky connection: a timeout on every read, a few retries with
exponential backoff (each from the first byte: the files are a few megabytes), a length check
against Content-Length, and a refusal of HTML pages served in place of data. Every failure ends in
one line that says what happened and what to do.
"""

from __future__ import annotations

import hashlib
import http.client
import shutil
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from dlpipe.core.errors import UserError

MIRROR_HINT = (
    "to work offline, set FETCH_MIRROR to an absolute folder holding the same files "
    "(e.g. export FETCH_MIRROR=/path/to/folder)"
)
_CHUNK = 1 << 20
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<?xml")


class _Retryable(Exception):
    """A failure worth another attempt (timeout, reset, 5xx, truncated body)."""


def file_name(url: str) -> str:
    """The file name a URL points at (what a mirror folder must hold)."""
    return Path(urlparse(url).path).name


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _looks_like_html(first_bytes: bytes) -> bool:
    return first_bytes.lstrip().lower().startswith(_HTML_STARTS)


def _attempt(url: str, dest: Path, timeout: float, progress: Callable[[int, int | None], None] | None) -> None:
    """One try, writing ``dest`` from the first byte."""
    request = urllib.request.Request(url, headers={"User-Agent": "dlpipe-fetch", "Accept-Encoding": "identity"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code in (408, 429):
            raise _Retryable(f"HTTP {exc.code} {exc.reason}") from None
        hint = "check the URL in params.yaml" if exc.code in (401, 403, 404, 410) else MIRROR_HINT
        raise UserError(f"download of {url} failed: HTTP {exc.code} {exc.reason}; {hint}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, socket.gaierror):
            raise UserError(
                f"download of {url} failed: cannot resolve host {urlparse(url).hostname} (DNS: no network?); "
                f"{MIRROR_HINT}"
            ) from None
        if isinstance(reason, ConnectionRefusedError):
            raise UserError(
                f"download of {url} failed: connection refused by {urlparse(url).netloc}; {MIRROR_HINT}"
            ) from None
        raise _Retryable(str(reason)) from None
    except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, TLS errors
        raise _Retryable(f"{type(exc).__name__}: {exc}") from None

    with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        got = 0
        with dest.open("wb") as out:
            first = True
            while chunk := _read(response, got):
                if first and _looks_like_html(chunk[:512]):
                    raise UserError(
                        f"download of {url} failed: the server sent an HTML page, not the data file "
                        f"(a login, error or moved page?); check the URL in params.yaml or {MIRROR_HINT}"
                    )
                first = False
                out.write(chunk)  # a full disk here is not a network failure: not retried
                got += len(chunk)
                if progress:
                    progress(got, total)
    if total is not None and got < total:
        raise _Retryable(f"truncated body: {got} of {total} bytes")


def _read(response: http.client.HTTPResponse, got: int) -> bytes:
    """The next chunk of the body; a cut connection (timeout, reset, TLS error) is worth a retry."""
    try:
        return response.read(_CHUNK)
    except (OSError, http.client.HTTPException) as exc:
        raise _Retryable(f"transfer cut after {got} bytes ({type(exc).__name__}: {exc})") from None


def http_download(
    url: str,
    dest: Path,
    *,
    timeout: float = 30.0,
    retries: int = 4,
    backoff: float = 1.0,
    progress: Callable[[int, int | None], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Download ``url`` to ``dest`` with retries; raise UserError when it cannot be done.

    ``dest`` should be a temporary path: on failure it may hold a partial file.
    """
    last = ""
    for attempt in range(retries + 1):
        try:
            _attempt(url, dest, timeout, progress)
            return
        except _Retryable as exc:
            last = str(exc)
            if attempt < retries:
                sleep(backoff * 2**attempt)
    raise UserError(f"download of {url} failed after {retries + 1} attempts: {last}; {MIRROR_HINT}")


def fetch_to(
    url: str,
    dest: Path,
    mirror: Path | None = None,
    *,
    progress: Callable[[int, int | None], None] | None = None,
) -> None:
    """Write the file at ``url`` (or ``mirror/<its name>``) to ``dest``."""
    if mirror is not None:
        source = mirror / file_name(url)
        if not source.is_file():
            raise UserError(f"{source} not found in FETCH_MIRROR={mirror}; it must hold {file_name(url)}")
        shutil.copyfile(source, dest)
        return
    http_download(url, dest, progress=progress)
