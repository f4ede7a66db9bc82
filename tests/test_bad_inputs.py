"""Every bad input ends in one clear line: the table of cases (input → expected message fragment).

Adding a case is one line. Params cases edit a copy of the repository's params.yaml; data cases
edit a small mirror with the real schemas; network cases ask a misbehaving server on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from dlpipe.core.errors import UserError
from dlpipe.core.params import Sources, load_params, load_sources, validate_params, validate_sources
from dlpipe.data.download import http_download
from dlpipe.data.raw_tables import CONCRETE_COLUMNS, read_concrete, read_spotify
from dlpipe.data.sources import fetch_sources, resolve_mirror
from dlpipe.data.split import group_split, random_split
from tests.conftest import make_concrete, make_spotify
from tests.helpers.http_faults import serving

ROOT = Path(__file__).resolve().parents[1]


def setp(path: str, value):
    """A params edit: set the dotted key ``path`` (None value with ``...`` deletes it)."""

    def edit(p: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            p = p[key]
        if value is ...:
            del p[last]
        else:
            p[last] = value

    return edit


PARAMS_CASES = [
    (setp("dropout", 1.0), "dropout: 1.0 is not allowed"),
    (setp("dropout", -0.1), "dropout: -0.1 is not allowed"),
    (setp("dropout", "abc"), "dropout: 'abc' is not allowed: Input should be a valid number"),
    (setp("dropout", "0.5"), "dropout: '0.5' is not allowed"),
    (setp("dropuot", 0.5), "dropuot: unknown key (did you mean dropout?)"),
    (setp("train_dropout.learning_rate", 0), "train_dropout.learning_rate: 0 is not allowed"),
    (
        setp("train_dropout.optimizer", "adamm"),
        "train_dropout.optimizer: 'adamm' is not allowed: Input should be 'adam'",
    ),
    (setp("train_batchnorm.loss", "maee"), "train_batchnorm.loss: 'maee' is not allowed"),
    (setp("train_batchnorm.epochs", 0), "train_batchnorm.epochs: 0 is not allowed"),
    (setp("train_dropout.batch_size", 0), "train_dropout.batch_size: 0 is not allowed"),
    (setp("train_batchnorm.units", []), "train_batchnorm.units: [] is not allowed"),
    (setp("train_batchnorm.units", [512, -1]), "train_batchnorm.units.1: -1 is not allowed"),
    (setp("train_dropout.activation", "rleu"), "train_dropout.activation: 'rleu' is not allowed"),
    (setp("group_split.spotify_train_size", 1.0), "group_split.spotify_train_size: 1.0 is not allowed"),
    (setp("group_split.concrete_train_size", 0), "group_split.concrete_train_size: 0 is not allowed"),
    (setp("group_split.seed", 1.5), "group_split.seed: 1.5 is not allowed: Input should be a valid integer"),
    (setp("group_split.seed", "zero"), "group_split.seed: 'zero' is not allowed"),
    (setp("seed", 0), "seed: unknown key (did you mean seeds?)"),
    (setp("keras_backend", "torch"), "keras_backend: 'torch' is not allowed: Input should be 'jax' or 'tensorflow'"),
    (setp("preprocess.standardize_concrete", "yes"), "preprocess.standardize_concrete: 'yes' is not allowed"),
    (setp("train_batchnorm.batchnorm", ...), "train_batchnorm.batchnorm: missing"),
    (setp("train_dropout.steps_per_execution", 0), "train_dropout.steps_per_execution: 0 is not allowed"),
]


@pytest.mark.parametrize(("edit", "fragment"), PARAMS_CASES)
def test_bad_params(edit, fragment):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    edit(params)
    with pytest.raises(UserError) as info:
        validate_params(params)
    assert fragment in str(info.value)


SOURCES_CASES = [
    (setp("spotify.sha256", "abc"), "spotify.sha256: 'abc' is not allowed"),
    (setp("concrete.url", "concrete.xls"), "concrete.url: 'concrete.xls' is not allowed"),
    (setp("spotify.rows", 0), "spotify.rows: 0 is not allowed"),
    (setp("spotify.sha256", ...), "spotify: needs `sha256` to check the file against, or `verify: false`"),
    (setp("concrete.fingerprint", None), "concrete: needs `fingerprint` to check the file against"),
    (setp("concrete.verify", "no"), "concrete.verify: 'no' is not allowed"),
    (setp("spotify.fingerprint", "0" * 64), "spotify.fingerprint: unknown key"),
]


@pytest.mark.parametrize(("edit", "fragment"), SOURCES_CASES)
def test_bad_sources(edit, fragment):
    sources = yaml.safe_load((ROOT / "sources.yaml").read_text())
    edit(sources)
    with pytest.raises(UserError) as info:
        validate_sources(sources)
    assert fragment in str(info.value)


# Whole files that are not a params mapping: (file, its bytes, expected message fragment).
FILE_CASES = [
    ("params.yaml", b"- 0.3\n- 0.5\n", "invalid params.yaml: the file is a list, not a mapping of keys to values"),
    ("params.yaml", b"", "invalid params.yaml: the file is empty"),
    ("params.yaml", b"# all commented out\n", "invalid params.yaml: the file is empty"),
    ("params.yaml", b"dropout: 0.3\n", "invalid params.yaml:\n  seeds: missing"),
    ("params.yaml", b"dropout: [0.3\n", "params.yaml is not valid YAML"),
    ("params.yaml", b"dropout: 0.3 \xe9\n", "params.yaml is not UTF-8 text"),
    ("sources.yaml", b"just text\n", "invalid sources.yaml: the file is a str, not a mapping of keys to values"),
    ("sources.yaml", b"", "invalid sources.yaml: the file is empty"),
]


@pytest.mark.parametrize(("name", "content", "fragment"), FILE_CASES)
def test_params_and_sources_files_that_are_not_a_mapping(tmp_path, monkeypatch, name, content, fragment):
    (tmp_path / name).write_bytes(content)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as info:
        load_params() if name == "params.yaml" else load_sources()
    assert fragment in str(info.value)


def spotify_edit(fn):
    return ("spotify_songs.csv", fn)


def concrete_edit(fn, name: str = "concrete.csv"):
    return (name, fn)


def cell(column: str, value, row: int = 0):
    def edit(df: pd.DataFrame) -> pd.DataFrame:
        df[column] = df[column].astype(object)
        df.loc[row, column] = value
        return df

    return edit


DATA_CASES = [
    (spotify_edit(lambda df: df.drop(columns="energy")), "spotify_songs.csv: missing column(s) energy"),
    (spotify_edit(cell("tempo", "fast", 4)), "spotify_songs.csv: column tempo, data row 5: 'fast' is not a number"),
    (spotify_edit(cell("danceability", 1.5, 2)), "column danceability, data row 3: 1.5 is outside [0.0, 1.0]"),
    (spotify_edit(cell("track_popularity", 101)), "column track_popularity, data row 1: 101 is outside [0, 100]"),
    (spotify_edit(cell("mode", 2, 9)), "column mode, data row 10: 2 is outside [0, 1]"),
    (spotify_edit(lambda df: df.iloc[:0]), "spotify_songs.csv: the table has no data rows"),
    (spotify_edit(lambda df: df.iloc[:-1]), "spotify_songs.csv: 299 data rows, expected 300"),
    (spotify_edit(lambda df: None), "spotify_songs.csv: the file is empty"),
    (spotify_edit(lambda df: b"track_id\n\xe9\xff\n"), "spotify_songs.csv: not a readable UTF-8 CSV"),
    (concrete_edit(cell("Water", -1.0)), "concrete.csv: column Water, data row 1: -1.0 is outside [0.0, 10000.0]"),
    (concrete_edit(cell("Age", 0, 3)), "concrete.csv: column Age, data row 4: 0 is outside [1, 365]"),
    (concrete_edit(cell("Age", 2.5, 3)), "concrete.csv: column Age, data row 4: 2.5 is not a whole number of days"),
    (concrete_edit(cell("Cement", None, 7)), "concrete.csv: column Cement, data row 8 is empty"),
    (concrete_edit(cell("FlyAsh", "unknown", 1)), "concrete.csv: column FlyAsh, data row 2: 'unknown' is not a number"),
    (concrete_edit(cell("FlyAsh", "n/a", 1)), "concrete.csv: column FlyAsh, data row 2 is empty"),
    (concrete_edit(lambda df: df.rename(columns={"Water": "H2O"})), "are neither the Kaggle names"),
    (concrete_edit(lambda df: df.iloc[:10]), "concrete.csv: 10 data rows, expected 120"),
    (concrete_edit(lambda df: df.to_csv(index=False).encode("utf-16")), "concrete.csv: not a readable table ('utf-8'"),
    (
        concrete_edit(lambda df: df.to_csv(index=False).encode(), "Concrete_Data.xls"),
        "Concrete_Data.xls: not a readable Excel workbook (Cannot detect file format); fetch it again",
    ),
    ("sha256", "sha256 "),
    ("fingerprint", "content fingerprint"),
    ("missing", "spotify_songs.csv not found in FETCH_MIRROR"),
]


def write_case(mirror: Path, case) -> Sources:
    mirror.mkdir()
    spotify, concrete = make_spotify(), make_concrete()
    # Unverified, except in the checksum cases: the data checks must catch these on their own.
    fetch = {
        "spotify": {"url": "https://example.org/spotify_songs.csv", "rows": 300, "verify": False},
        "concrete": {"url": "https://example.org/concrete.csv", "rows": 120, "verify": False},
    }
    if case == "sha256":
        fetch["spotify"] = {**fetch["spotify"], "sha256": "0" * 64, "verify": True}
    elif case == "fingerprint":
        fetch["concrete"] = {**fetch["concrete"], "fingerprint": "0" * 64, "verify": True}
    elif case != "missing":
        name, edit = case
        frame = spotify if name == "spotify_songs.csv" else concrete
        if name not in ("spotify_songs.csv", "concrete.csv"):  # the concrete table under another name
            fetch["concrete"]["url"] = f"https://example.org/{name}"
        edited = edit(frame.copy())
        if edited is None:
            (mirror / name).write_bytes(b"")
        elif isinstance(edited, bytes):
            (mirror / name).write_bytes(edited)
        else:
            edited.to_csv(mirror / name, index=False)
    for name, frame in (("spotify_songs.csv", spotify), ("concrete.csv", concrete)):
        if not (mirror / name).exists() and not (case == "missing" and name == "spotify_songs.csv"):
            frame.to_csv(mirror / name, index=False)
    return Sources.model_validate(fetch)


@pytest.mark.parametrize(("case", "fragment"), DATA_CASES)
def test_bad_data(tmp_path, case, fragment):
    params = write_case(tmp_path / "mirror", case)
    with pytest.raises(UserError) as info:
        fetch_sources(params, tmp_path / "raw", tmp_path / "mirror", stream=io.StringIO())
    assert fragment in str(info.value)
    assert str(tmp_path / "mirror") in str(info.value) and ".tmp" not in str(info.value)
    assert not (tmp_path / "raw").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mirror"]


# Train sizes the params allow (a fraction) that leave a part of this table's split empty: the stage's
# call (table, train size) and the line it ends with.
SPLIT_CASES = [
    (
        ("spotify", 0.00005),
        "group_split.spotify_train_size: 5e-05 of this table's 40 track_artist values is less than one, so the "
        "training part would be empty; use a value from 1/40 (≈0.025) to below 1",
    ),
    (
        ("concrete", 0.001),
        "group_split.concrete_train_size: 0.001 of this table's 120 rows leaves the training part empty; "
        "use a value from 1/120 (≈0.00834) to 119/120 (≈0.991)",
    ),
    (("concrete", 0.999), "group_split.concrete_train_size: 0.999 of this table's 120 rows leaves the validation"),
]


def split_as_the_stage_does(table: str, train_size: float):
    if table == "spotify":
        return group_split(make_spotify(n_artists=40), "track_artist", train_size, seed=0)
    return random_split(make_concrete(n_rows=120), train_size, seed=0)


@pytest.mark.parametrize(("case", "fragment"), SPLIT_CASES)
def test_a_train_size_that_leaves_a_part_empty(case, fragment):
    with pytest.raises(UserError) as info:
        split_as_the_stage_does(*case)
    assert str(info.value).startswith(fragment) and "\n" not in str(info.value)


@pytest.mark.parametrize(("table", "train_size"), [("spotify", 0.025), ("concrete", 0.00834), ("concrete", 0.991)])
def test_the_train_sizes_the_split_errors_suggest_leave_both_parts_non_empty(table, train_size):
    train, valid = split_as_the_stage_does(table, train_size)
    assert len(train) > 0 and len(valid) > 0


def test_fetch_mirror_pointing_at_a_file(tmp_path):
    (tmp_path / "spotify_songs.csv").write_text("x")
    with pytest.raises(UserError) as info:
        resolve_mirror(str(tmp_path / "spotify_songs.csv"))
    assert str(info.value) == (
        f"FETCH_MIRROR={tmp_path / 'spotify_songs.csv'} is not a folder; point it at the folder holding the raw files"
    )


DAMAGED_ARRAYS = {
    "truncated": lambda b: b[: len(b) // 2],
    "overwritten": lambda b: b"x" * 200 + b[200:],
    "empty": lambda b: b"",
    "text": lambda b: b"spotify.npz\n",
}


@pytest.mark.parametrize("damage", DAMAGED_ARRAYS)
def test_a_damaged_arrays_file_is_one_line_saying_how_to_rebuild_it(tmp_path, damage):
    from dlpipe.data.arrays import Arrays

    path = tmp_path / "spotify.npz"
    x, y = np.zeros((4, 3), np.float32), np.zeros((4, 1), np.float32)
    Arrays(x, y, x, y).save(path)
    path.write_bytes(DAMAGED_ARRAYS[damage](path.read_bytes()))
    with pytest.raises(UserError) as info:
        Arrays.load(path)
    assert str(info.value).startswith(f"{path} is damaged (") and "\n" not in str(info.value)
    assert str(info.value).endswith("; rebuild it with `dvc repro` (it reruns preprocess)")


# Arrays files that are whole but have no rows on one side (x, y of each part), and the part named.
ROWLESS_ARRAYS = [((0, 8), "training"), ((8, 0), "validation")]


def write_arrays(path: Path, train_rows: int, valid_rows: int) -> None:
    from dlpipe.data.arrays import Arrays

    def part(n: int) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros((n, 12), np.float32), np.zeros((n, 1), np.float32)

    path.parent.mkdir(parents=True, exist_ok=True)
    Arrays(*part(train_rows), *part(valid_rows)).save(path)


def run_train_dropout(
    folder: Path, rows: tuple[int, int] = (64, 16), env: dict[str, str] | None = None, **train
) -> subprocess.CompletedProcess[str]:
    """Run the train_dropout stage in ``folder`` on ``rows`` (training, validation) of zeros, with the
    repository's params and ``train`` set in train_dropout, in its own process (DLPIPE_WORKERS=1), in
    this process's environment or ``env``."""
    import resource

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["train_dropout"] |= train
    params["seeds"] = [0]  # one model per run: these tests are about the stage, not the seeds
    (folder / "params.yaml").write_text(yaml.safe_dump(params))
    write_arrays(folder / "data/processed/spotify.npz", *rows)
    # The stage's address space: a model too large for the memory fails to allocate without taking the machine's.
    cap = 3 * 2**30
    return subprocess.run(
        [sys.executable, str(ROOT / "stages" / "train_dropout.py")],
        cwd=folder,
        env={**(os.environ if env is None else env), "DLPIPE_WORKERS": "1", "DLPIPE_PROGRESS": "lines"},
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (cap, cap)),
    )


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize(("rows", "part"), ROWLESS_ARRAYS)
def test_an_arrays_file_without_rows_is_one_line_saying_how_to_rebuild_it(tmp_path, rows, part):
    from dlpipe.data.arrays import Arrays

    path = tmp_path / "spotify.npz"
    write_arrays(path, *rows)
    with pytest.raises(UserError) as info:
        Arrays.load(path)
    assert str(info.value) == (
        f"{path} has no {part} rows; rebuild it with `dvc repro preprocess`, and check that group_split's "
        "train sizes in params.yaml leave rows on both sides"
    )


def test_a_training_stage_on_arrays_without_rows_stops_in_one_line_before_training(tmp_path):
    # Before: Keras's bare StopIteration after the workers had started, shown as a bug.
    proc = run_train_dropout(tmp_path, rows=(0, 8))
    assert proc.returncode == 1
    assert proc.stderr.startswith("train_dropout: error: data/processed/spotify.npz has no training rows; ")
    assert proc.stderr.count("\n") == 1
    assert files_in(tmp_path) == ["data", "data/processed", "data/processed/spotify.npz", "params.yaml"]


def test_a_model_too_large_for_the_memory_is_one_line_naming_the_params_to_lower(tmp_path):
    # Small weights (1.2 million), but a batch of 100,000 rows through 100,000 units: XLA's buffers for one
    # step take hundreds of gigabytes (470 MB resident at most, under the cap).
    proc = run_train_dropout(tmp_path, rows=(100_000, 8), units=[100_000], batch_size=100_000)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("train_dropout: error: out of memory (XLA could not allocate ")
    assert proc.stderr.endswith(
        "; close other programs, or make the model or its batches smaller (a training stage's "
        "units or batch_size in params.yaml), then run again\n"
    )
    assert not (tmp_path / "plots").exists() and not list((tmp_path / "data/models").glob("*"))


def plots_under_a_file(folder: Path) -> None:
    (folder / "plots").write_text("a file where the plots folder should be")


def read_only_plots(folder: Path) -> None:
    (folder / "plots").mkdir(mode=0o555)


# Output folders a training stage cannot write: how to make one, the line the stage ends with.
UNWRITABLE_OUTPUTS = [
    pytest.param(
        plots_under_a_file,
        "Not a directory: plots/train_dropout; a file is where that path needs a folder: move or rename the file",
        id="a file where plots/ should be",
    ),
    pytest.param(
        read_only_plots,
        "Permission denied: plots/train_dropout; check the permissions of that path",
        id="a read-only plots/",
        marks=pytest.mark.skipif(
            os.geteuid() == 0,
            reason="a read-only plots/, as root (who may write there anyway): tests/e2e checks it on a read-only mount",
        ),
    ),
]


@pytest.mark.parametrize(("unwritable", "message"), UNWRITABLE_OUTPUTS)
def test_a_training_stage_that_cannot_write_its_outputs_stops_in_one_line_before_training(
    tmp_path, unwritable, message
):
    unwritable(tmp_path)
    before = files_in(tmp_path)
    proc = run_train_dropout(tmp_path, epochs=2, units=[8])
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"train_dropout: error: {message}") and proc.stderr.count("\n") == 1, proc.stderr
    # Before any training: no model written, and the folders the check made for its probe are gone.
    assert files_in(tmp_path) == sorted(
        [*before, "params.yaml", "data", "data/processed", "data/processed/spotify.npz"]
    )


def test_a_compile_cache_that_cannot_be_written_is_a_warning_and_the_stage_trains_without_it(tmp_path):
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    # Not the compile cache the unit tests' backend set in this process: the stage chooses its own.
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_")}
    proc = run_train_dropout(tmp_path, env={**env, "DLPIPE_JAX_CACHE": "cache/jax"}, epochs=2, units=[8])
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if ": warning: " in line]
    assert warnings == [
        "train_dropout: warning: cannot write the JAX compile cache cache/jax (Not a directory); compiling without "
        "it (same results, only slower to start); set DLPIPE_JAX_CACHE to a writable folder to keep the compiled "
        "programs"
    ]
    assert sorted(p.name for p in (tmp_path / "data/models/train_dropout").iterdir()) == [
        "dropout.keras",
        "no_dropout.keras",
    ]


@pytest.mark.parametrize(("content", "fragment"), [(b"- 1\n- 2\n", "is a list"), (b"", "is empty")])
def test_a_stage_with_a_params_file_that_is_not_a_mapping_says_so_in_one_line(tmp_path, content, fragment):
    (tmp_path / "params.yaml").write_bytes(content)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "stages" / "group_split.py")], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"group_split: error: invalid params.yaml: the file {fragment}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]


@pytest.fixture(scope="module")
def server():
    with serving() as url:
        yield url


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/spotify_songs.csv"


NETWORK_CASES = [
    ("/missing.csv", "HTTP 404 Not Found; check the URL in params.yaml"),
    ("/error500.csv", "failed after 3 attempts: HTTP 500"),
    ("/always_cut.csv", "failed after 3 attempts: truncated body: 1000 of"),
    ("/html.csv", "the server sent an HTML page, not the data file"),
    ("refused", "connection refused by 127.0.0.1"),
    ("http://nonexistent.invalid/spotify_songs.csv", "cannot resolve host nonexistent.invalid (DNS: no network?)"),
    ("/always_reset.csv", "failed after 3 attempts: transfer cut after 0 bytes (ConnectionResetError: [Errno 104]"),
    ("https", "failed after 3 attempts: [SSL: WRONG_VERSION_NUMBER]"),  # TLS to a server that does not speak it
]


@pytest.mark.parametrize(("where", "fragment"), NETWORK_CASES)
def test_bad_network(server, tmp_path, where, fragment):
    if where == "refused":
        url = _closed_port_url()
    elif where == "https":
        url = server.replace("http://", "https://") + "/ok.csv"
    else:
        url = where if where.startswith("http") else server + where
    with pytest.raises(UserError) as info:
        http_download(url, tmp_path / "f.csv", timeout=5, retries=2, sleep=lambda s: None)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_there_are_at_least_30_cases():
    assert len(PARAMS_CASES) + len(FILE_CASES) + len(DATA_CASES) + len(SPLIT_CASES) + len(NETWORK_CASES) >= 30


@pytest.mark.parametrize(
    "variant",
    [
        "crlf",
        "bom",
        "extra_and_reordered_columns",
    ],
)
def test_harmless_variants_are_accepted(tmp_path, variant):
    spotify, concrete = make_spotify(), make_concrete()
    s_path, c_path = tmp_path / "spotify_songs.csv", tmp_path / "concrete.csv"
    if variant == "extra_and_reordered_columns":
        spotify = spotify.assign(comment="x").iloc[:, ::-1]
        concrete = concrete.assign(source="lab").iloc[:, ::-1]
    text_s, text_c = spotify.to_csv(index=False), concrete.to_csv(index=False)
    if variant == "crlf":
        text_s, text_c = text_s.replace("\n", "\r\n"), text_c.replace("\n", "\r\n")
    encoding = "utf-8-sig" if variant == "bom" else "utf-8"
    s_path.write_text(text_s, encoding=encoding, newline="")
    c_path.write_text(text_c, encoding=encoding, newline="")
    s = read_spotify(s_path, 300)
    c = read_concrete(c_path, 120)
    assert list(c.columns) == list(CONCRETE_COLUMNS)
    assert s["track_popularity"].sum() == make_spotify()["track_popularity"].sum()
    assert c["Cement"].sum() == pytest.approx(make_concrete()["Cement"].sum())


def test_uci_excel_sheet_is_read(real_tables):
    df = read_concrete(real_tables / "Concrete_Data.xls", 1030)
    assert list(df.columns) == list(CONCRETE_COLUMNS)
    assert df["Age"].sum() == 47032 and df["Cement"].sum() == pytest.approx(289600.6)


@pytest.mark.parametrize(
    ("stage", "params_edit", "fragment"),
    [
        ("train_dropout", setp("dropout", 1.5), "dropout: 1.5 is not allowed"),
        ("group_split", setp("group_split.seed", "x"), "group_split.seed: 'x' is not allowed"),
    ],
)
def test_stage_cli_prints_one_line_without_traceback_and_imports_no_keras(tmp_path, stage, params_edit, fragment):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params_edit(params)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", str(ROOT / "stages" / f"{stage}.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    messages = [line for line in proc.stderr.splitlines() if not line.startswith("import time:")]
    assert proc.returncode == 1
    assert messages[0] == f"{stage}: error: invalid params.yaml:" and fragment in messages[1]
    assert "Traceback" not in proc.stderr
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert not {"keras", "tensorflow", "jax"} & imported
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]


def test_hash_helper_is_the_one_fetch_uses(tmp_path):
    # Guards the sha256 case above: the digest is of the bytes, not of parsed content.
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    from dlpipe.data.download import sha256_of

    assert sha256_of(path) == hashlib.sha256(b"abc").hexdigest()
