"""Progress while training: a live bar on a terminal, plain lines elsewhere, a summary table at the end."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from dlpipe.core.errors import UserError
from dlpipe.core.progress_mode import MODES, progress_mode
from dlpipe.display.progress import BarProgress, LineProgress, Progress, make_progress, summary_table
from tests.helpers.streams import Writes

ROOT = Path(__file__).resolve().parents[1]

# A tiny stage: two runs of a small network through the same code the training stages use.
SCRIPT = r"""
import sys
from pathlib import Path
from dlpipe.train.backend import configure_backend
configure_backend("jax", training_process=True)
from dlpipe.train.experiment import Outputs, run_experiment
from dlpipe.core.params import TrainParams
from dlpipe.display.progress import make_progress
from tests.test_training import linear_arrays
out = Path(sys.argv[1])
train = TrainParams(units=[8], activation="relu", optimizer="adam", learning_rate=0.01, loss="mae",
                    batch_size=32, epochs=12, steps_per_execution=1)
run_experiment({"dropout": {"dropout": 0.2}, "no_dropout": {}}, linear_arrays(), train,
               Outputs(out / "m", out / "p"),
               title="tiny", seeds=[0], progress=make_progress("auto"), report=sys.stderr)
"""


def run_script(tmp_path: Path, terminal: bool) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120"}
    cmd = [sys.executable, "-c", SCRIPT, str(tmp_path)]
    if not terminal:
        return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120).stderr
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))  # a 120-column terminal
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=secondary, stdout=secondary, stderr=secondary)
    os.close(secondary)
    chunks = []
    while True:
        ready, _, _ = select.select([primary], [], [], 120)
        if not ready:
            proc.kill()
            pytest.fail("no output from the terminal run")
        try:
            data = os.read(primary, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=30) == 0, b"".join(chunks).decode(errors="replace")
    os.close(primary)
    return b"".join(chunks).decode(errors="replace")


def test_on_a_terminal_each_run_gets_a_live_bar_and_the_stage_ends_with_a_table(tmp_path):
    screen = run_script(tmp_path, terminal=True)
    assert "\r" in screen  # redrawn in place
    for run in ("dropout", "no_dropout"):
        assert f"{run}: 100%" in screen and "12/12" in screen
    assert "loss=" in screen and "val_loss=" in screen
    assert "epoch/s" in screen or "s/epoch" in screen
    assert "run         min val_loss (epoch)" in screen and "overfitting gap" in screen


def test_without_a_terminal_it_prints_plain_lines(tmp_path):
    log = run_script(tmp_path, terminal=False)
    assert "\r" not in log
    assert "[dropout] epoch 10/12: loss " in log and "[no_dropout] epoch 12/12:" in log
    assert "[dropout] epoch 3/12" not in log  # not every epoch: one line every 10
    assert "run         min val_loss (epoch)" in log


def test_line_progress_reports_divergence_at_once():
    out = io.StringIO()
    p = LineProgress(out, every=10)
    p.start("no_dropout", 100)
    p.epoch(1, float("nan"), float("nan"), diverged=True)
    shown = out.getvalue()
    assert shown.startswith("[no_dropout] epoch 1/100: loss nan, val_loss nan") and "diverged" in shown


def test_each_progress_line_is_written_whole_in_one_call():
    # Two workers write their lines to the stage's stderr, unbuffered under PYTHONUNBUFFERED or -u: a line
    # written in two pieces (print's text, then its newline) could be cut by the other worker's.
    out = Writes()
    p = LineProgress(out, every=1)
    p.start("dropout", 2)
    p.epoch(1, 0.5, 0.6, diverged=False)
    p.epoch(2, 0.4, 0.5, diverged=False)
    assert len(out.calls) == 2
    for call in out.calls:
        assert call.startswith("[dropout] epoch ") and call.count("\n") == 1 and call.endswith("\n"), call


def test_bar_progress_shows_losses():
    out = io.StringIO()
    p = BarProgress(out)
    p.start("dropout", 3)
    for e in (1, 2, 3):
        p.epoch(e, 0.5 / e, 0.6 / e, diverged=False)
    p.close()
    assert "dropout: 100%" in out.getvalue() and "3/3" in out.getvalue() and "val_loss=0.2000" in out.getvalue()


def test_modes():
    assert type(make_progress("off")) is Progress
    assert isinstance(make_progress("auto", io.StringIO()), LineProgress)
    assert isinstance(make_progress("bar", io.StringIO()), BarProgress)
    with pytest.raises(ValueError, match="not one of auto, bar, lines, off"):
        make_progress("loud")


def test_dlpipe_progress_is_checked_and_lists_the_allowed_values():
    assert progress_mode({}) == "auto" and progress_mode({"DLPIPE_PROGRESS": ""}) == "auto"
    assert [progress_mode({"DLPIPE_PROGRESS": m}) for m in MODES] == list(MODES)
    with pytest.raises(UserError) as info:
        progress_mode({"DLPIPE_PROGRESS": "quiet"})
    assert str(info.value) == (
        "DLPIPE_PROGRESS=quiet is not a progress mode; set it to one of auto, bar, lines, off, or unset it"
    )


def test_summary_table_rows():
    table = summary_table(
        {
            "batchnorm": {
                "min_val_loss": 4.0282,
                "min_val_loss_epoch": 91,
                "overfitting_gap": 0.855,
                "diverged": False,
            },
            "no_batchnorm": {"diverged": True, "diverged_at_epoch": 1},
        }
    ).splitlines()
    assert table[0].split()[:3] == ["run", "min", "val_loss"]
    assert table[2].split() == ["batchnorm", "4.0282", "(91)", "0.8550", "no", "1"]
    assert table[3].split() == ["no_batchnorm", "–", "–", "yes,", "epoch", "1", "1"]


def test_summary_table_of_several_seeds_shows_spread_range_and_divergence():
    table = summary_table(
        {
            "dropout": {
                "min_val_loss": 0.19,
                "min_val_loss_std": 0.002,
                "overfitting_gap": 0.001,
                "overfitting_gap_std": 0.0005,
                "min_val_loss_epoch_min": 41,
                "min_val_loss_epoch_max": 46,
                "diverged": True,
                "diverged_seeds": 2,
                "diverged_at_epoch": 4,
                "seeds": 3,
            }
        }
    ).splitlines()
    assert "0.1900 ± 0.0020 (41–46)" in table[2] and "0.0010 ± 0.0005" in table[2]
    assert "2 of 3 seeds, first at epoch 4" in table[2] and table[2].rstrip().endswith("3")
