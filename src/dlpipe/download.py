"""Bring a public file to disk, from the network or from a local mirror folder."""

from __future__ import annotations

import hashlib
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from dlpipe.errors import UserError

MIRROR_HINT = (
    "to work offline, set FETCH_MIRROR to an absolute folder holding the same files "
    "(e.g. FETCH_MIRROR=$PWD/../shared/data)"
)
_CHUNK = 1 << 20


def file_name(url: str) -> str:
    """The file name a URL points at (what a mirror folder must hold)."""
    return Path(urlparse(url).path).name


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_to(url: str, dest: Path, mirror: Path | None = None, timeout: float = 60.0) -> None:
    """Write the file at ``url`` (or ``mirror/<its name>``) to ``dest``.

    ``dest`` should be a temporary path: on failure it may hold a partial file that the caller
    throws away with the rest of its staging folder.
    """
    if mirror is not None:
        source = mirror / file_name(url)
        if not source.is_file():
            raise UserError(f"{source} not found in FETCH_MIRROR={mirror}; it must hold {file_name(url)}")
        shutil.copyfile(source, dest)
        return
    request = urllib.request.Request(url, headers={"User-Agent": "dlpipe-fetch"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, dest.open("wb") as out:
            shutil.copyfileobj(response, out, _CHUNK)
    except urllib.error.HTTPError as exc:
        raise UserError(f"download of {url} failed: HTTP {exc.code} {exc.reason}; {MIRROR_HINT}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UserError(f"download of {url} failed: {reason}; {MIRROR_HINT}") from None
