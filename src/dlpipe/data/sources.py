"""The fetch step: bring both raw tables, check they are the expected ones, normalise them."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from dlpipe.core.errors import UserError
from dlpipe.core.params import Sources
from dlpipe.core.progress_mode import Mode
from dlpipe.data.download import fetch_to, file_name, sha256_of
from dlpipe.data.raw_tables import concrete_fingerprint, read_concrete, read_spotify


def resolve_mirror(value: str | None) -> Path | None:
    """The FETCH_MIRROR folder as an absolute path, or None to use the network."""
    if not value:
        return None
    mirror = Path(value).expanduser().resolve()
    if not mirror.is_dir():
        raise UserError(f"FETCH_MIRROR={value} is not a folder; point it at the folder holding the raw files")
    return mirror


def _origin(url: str, mirror: Path | None) -> str:
    """How messages name a source file: its mirror path, or its URL."""
    return str(mirror / file_name(url)) if mirror else url


@contextmanager
def _download_bar(
    stream: TextIO | None, name: str, always: bool = False
) -> Iterator[Callable[[int, int | None], None] | None]:
    """A byte-count bar for a network download, on a terminal only (logs get the start line) unless
    ``always``."""
    if stream is None or not (always or stream.isatty()):
        yield None
        return
    with tqdm(desc=name, unit="B", unit_scale=True, unit_divisor=1024, file=stream, leave=True) as bar:

        def update(got: int, total: int | None) -> None:
            bar.total = total
            bar.update(got - bar.n)

        yield update


def _warn_unverified(name: str, stream: TextIO | None) -> None:
    print(
        f"fetch: warning: sources.yaml sets `verify: false` for {name}: the file is not checked, so the "
        "pipeline may train on other data than the notebook's",
        file=stream or sys.stderr,
        flush=True,
    )


def fetch_sources(
    sources: Sources,
    out_dir: Path,
    mirror: Path | None,
    stream: TextIO | None = sys.stderr,
    progress: Mode = "auto",
) -> None:
    """Write ``out_dir/spotify_songs.csv`` (the verified bytes) and ``out_dir/concrete.csv``
    (the verified table with the Kaggle column names); nothing is written unless both are verified.

    ``stream`` gets one line per download and a byte bar while downloading; None is silent.
    ``progress`` (DLPIPE_PROGRESS) chooses: ``auto`` shows the bar on a terminal only, ``bar``
    always, ``lines`` never, and ``off`` prints nothing. Warnings about unverified sources are
    printed whatever ``stream`` and ``progress`` are.
    """
    if progress == "off":
        stream = None
    bar = None if progress == "lines" or mirror else stream
    spotify_src, concrete_src = sources.spotify, sources.concrete
    where = f"FETCH_MIRROR={mirror}" if mirror else "the network"
    # Both files are brought and checked beside out_dir, and moved in once both are verified: a file that
    # failed its check never sits under its name.
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent) as folder:
        spotify = Path(folder, "spotify_songs.csv")
        if stream:
            print(f"fetch: spotify from {where}", file=stream, flush=True)
        with _download_bar(bar, spotify.name, always=progress == "bar") as update:
            fetch_to(spotify_src.url, spotify, mirror, progress=update)
        if not spotify_src.verify:
            _warn_unverified("spotify", stream)
        elif (got := sha256_of(spotify)) != spotify_src.sha256:
            raise UserError(
                f"{_origin(spotify_src.url, mirror)}: sha256 {got} differs from spotify.sha256 "
                f"{spotify_src.sha256} in sources.yaml; the file changed or is not the expected one"
            )
        read_spotify(spotify, spotify_src.rows, _origin(spotify_src.url, mirror))

        # Kept apart from the outputs: the source may itself be called concrete.csv.
        download = Path(folder, "download", file_name(concrete_src.url))
        download.parent.mkdir()
        if stream:
            print(f"fetch: concrete from {where}", file=stream, flush=True)
        with _download_bar(bar, download.name, always=progress == "bar") as update:
            fetch_to(concrete_src.url, download, mirror, progress=update)
        table = read_concrete(download, concrete_src.rows, _origin(concrete_src.url, mirror))
        if not concrete_src.verify:
            _warn_unverified("concrete", stream)
        elif (got := concrete_fingerprint(table)) != concrete_src.fingerprint:
            raise UserError(
                f"{_origin(concrete_src.url, mirror)}: content fingerprint {got} differs from "
                f"concrete.fingerprint {concrete_src.fingerprint} in sources.yaml; "
                "the cells differ from the expected table"
            )
        table.to_csv(Path(folder, "concrete.csv"), index=False, lineterminator="\n", float_format="%.17g")
        out_dir.mkdir(exist_ok=True)
        for name in ("spotify_songs.csv", "concrete.csv"):
            os.replace(Path(folder, name), out_dir / name)
