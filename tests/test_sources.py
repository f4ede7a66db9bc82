import functools
import hashlib
import http.server
import io
import socket
import threading

import pandas as pd
import pytest

from dlpipe.core.errors import UserError
from dlpipe.core.params import Sources
from dlpipe.data.raw_tables import concrete_fingerprint, read_concrete
from dlpipe.data.sources import fetch_sources, resolve_mirror


def write_mirror(folder, spotify_df, concrete_df):
    folder.mkdir(exist_ok=True)
    spotify_df.to_csv(folder / "spotify_songs.csv", index=False)
    concrete_df.to_csv(folder / "concrete.csv", index=False)
    sha = hashlib.sha256((folder / "spotify_songs.csv").read_bytes()).hexdigest()
    fingerprint = concrete_fingerprint(read_concrete(folder / "concrete.csv"))
    return Sources.model_validate(
        {
            "spotify": {"url": "https://example.org/data/spotify_songs.csv", "sha256": sha, "rows": len(spotify_df)},
            "concrete": {
                "url": "https://example.org/data/concrete.csv",
                "fingerprint": fingerprint,
                "rows": len(concrete_df),
            },
        }
    )


def nudge_first_cement(path):
    df = pd.read_csv(path)
    df.loc[0, "Cement"] += 0.5
    df.to_csv(path, index=False)


def fetch(params, out, mirror):
    fetch_sources(params, out, mirror, stream=io.StringIO())


def test_fetch_from_a_mirror_writes_verified_tables(tmp_path, spotify_df, concrete_df):
    params = write_mirror(tmp_path / "mirror", spotify_df, concrete_df)
    fetch(params, tmp_path / "raw", tmp_path / "mirror")
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == ["concrete.csv", "spotify_songs.csv"]
    assert (tmp_path / "raw/spotify_songs.csv").read_bytes() == (tmp_path / "mirror/spotify_songs.csv").read_bytes()
    raw = read_concrete(tmp_path / "raw/concrete.csv")
    assert concrete_fingerprint(raw) == params.concrete.fingerprint


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda m: (m / "spotify_songs.csv").unlink(), "spotify_songs.csv not found in FETCH_MIRROR"),
        (lambda m: (m / "spotify_songs.csv").write_text("x\n1\n"), "sha256"),
        (
            lambda m: nudge_first_cement(m / "concrete.csv"),
            "content fingerprint",
        ),
    ],
)
def test_fetch_failures_leave_nothing_behind(tmp_path, spotify_df, concrete_df, edit, fragment):
    params = write_mirror(tmp_path / "mirror", spotify_df, concrete_df)
    edit(tmp_path / "mirror")
    with pytest.raises(UserError, match=fragment):
        fetch(params, tmp_path / "raw", tmp_path / "mirror")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mirror"]


def test_offline_without_mirror_says_how_to_use_one(tmp_path, spotify_df, concrete_df):
    params = write_mirror(tmp_path / "mirror", spotify_df, concrete_df)
    with socket.socket() as s:  # a port with nothing listening: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    local = params.model_copy(
        update={"spotify": params.spotify.model_copy(update={"url": f"http://127.0.0.1:{port}/spotify_songs.csv"})}
    )
    with pytest.raises(UserError) as info:
        fetch(local, tmp_path / "raw", None)
    assert "download of http://127.0.0.1" in str(info.value) and "FETCH_MIRROR" in str(info.value)
    assert not (tmp_path / "raw").exists()


def test_mirror_must_be_a_folder(tmp_path):
    assert resolve_mirror(None) is None and resolve_mirror("") is None
    assert resolve_mirror(str(tmp_path)) == tmp_path.resolve()
    with pytest.raises(UserError, match="is not a folder"):
        resolve_mirror(str(tmp_path / "nope"))


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_network_downloads_show_a_byte_bar_on_a_terminal_only():
    from dlpipe.data.sources import _download_bar

    screen = _Terminal()
    with _download_bar(screen, "spotify_songs.csv") as update:
        update(4096, 8192)
        update(8192, 8192)
    assert "spotify_songs.csv: 100%" in screen.getvalue() and "8.00k/8.00k" in screen.getvalue()
    with _download_bar(io.StringIO(), "x") as update:
        assert update is None


def test_an_unverified_source_is_fetched_with_a_warning_each_time(tmp_path, spotify_df, concrete_df):
    params = write_mirror(tmp_path / "mirror", spotify_df, concrete_df)
    unverified = params.model_copy(
        update={"spotify": params.spotify.model_copy(update={"sha256": None, "verify": False})}
    )
    (tmp_path / "mirror/spotify_songs.csv").write_bytes(
        (tmp_path / "mirror/spotify_songs.csv").read_bytes() + b"\n"
    )  # other bytes, same table: a sha256 would have refused it
    for attempt in range(2):
        shown = io.StringIO()
        fetch_sources(unverified, tmp_path / f"raw{attempt}", tmp_path / "mirror", stream=shown)
        assert "fetch: warning: sources.yaml sets `verify: false` for spotify" in shown.getvalue()
        assert "for concrete" not in shown.getvalue()


@pytest.fixture
def served_sources(tmp_path, spotify_df, concrete_df):
    """The mirror's files served over HTTP on 127.0.0.1, and sources.yaml pointing at them."""
    params = write_mirror(tmp_path / "mirror", spotify_df, concrete_df)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path / "mirror"))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        yield params.model_copy(
            update={
                name: getattr(params, name).model_copy(update={"url": f"{base}/{file}"})
                for name, file in (("spotify", "spotify_songs.csv"), ("concrete", "concrete.csv"))
            }
        )
        httpd.shutdown()


@pytest.mark.parametrize(
    ("mode", "terminal", "lines", "bar"),
    [
        ("auto", True, True, True),
        ("auto", False, True, False),
        ("bar", False, True, True),
        ("lines", True, True, False),
        ("off", True, False, False),
    ],
)
def test_fetch_honours_dlpipe_progress(served_sources, tmp_path, mode, terminal, lines, bar):
    shown = _Terminal() if terminal else io.StringIO()
    fetch_sources(served_sources, tmp_path / "raw", None, stream=shown, progress=mode)
    assert ("fetch: spotify from the network" in shown.getvalue()) == lines
    assert ("spotify_songs.csv: 100%" in shown.getvalue()) == bar
    if mode == "off":
        assert shown.getvalue() == ""
