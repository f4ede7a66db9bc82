"""The sweep worker's checks before any work: the point, the command line, the remotes (one line each)."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlpipe.core.errors import UserError
from dlpipe.sweep.worker import check_point, point_of, run_point

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def params(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    return tmp_path / "params.yaml"


def test_a_valid_point_passes_and_params_yaml_is_untouched(params):
    before = params.read_bytes()
    check_point(["dropout=0.5", "seeds=[0,1,2]", "train_dropout.learning_rate=1e-3"], params)
    assert params.read_bytes() == before


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["dropout=1.5"], "-S dropout=1.5 is not a valid point: dropout: 1.5 is not allowed: Input should be less"),
        (["dropuot=0.1"], "-S dropuot=0.1: Could not override 'dropuot'. It is not a param in params.yaml"),
        (
            ["seeds=[0,0]", "train_dropout.optimizer=adamm"],
            "seeds must be distinct; train_dropout.optimizer: 'adamm' is not allowed",
        ),
    ],
)
def test_a_point_the_schema_rejects_is_one_line(params, overrides, message):
    with pytest.raises(UserError, match=re.escape(message)) as info:
        check_point(overrides, params)
    assert "\n" not in str(info.value)


def _args(**kw: object) -> argparse.Namespace:
    return argparse.Namespace(**{"set": [], "grid": None, "index": None, "seeds": "", **kw})


def test_the_point_comes_from_s_or_from_the_grid_by_index():
    assert point_of(_args(set=["dropout=0.1"], seeds="0,1")) == ["dropout=0.1", "seeds=[0,1]"]
    assert point_of(_args(grid="dropout=0.1,0.2,0.4", index=2, seeds="3")) == ["dropout=0.4", "seeds=[3]"]
    for bad in (_args(), _args(grid="dropout=0.1"), _args(index=0), _args(set=["dropout=0.1"], grid="a=1", index=0)):
        with pytest.raises(UserError, match="give either -S KEY=VALUE"):
            point_of(bad)
    with pytest.raises(UserError, match=r"--index 3: the grid has 3 points \(0 to 2\)"):
        point_of(_args(grid="dropout=0.1,0.2,0.4", index=3))


def test_without_a_git_remote_nothing_runs(params):
    with pytest.raises(UserError, match="no git remote 'origin' in this clone"):
        run_point("s", ["dropout=0.1"], cwd=params.parent)


def test_the_command_fails_with_one_line_and_no_traceback(params):
    proc = subprocess.run(
        [sys.executable, "-m", "dlpipe.sweep.worker", "--sweep", "s", "-S", "dropout=1.5"],
        cwd=params.parent,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and proc.stdout == ""
    assert (
        proc.stderr.startswith("sweep_worker: error: -S dropout=1.5 is not a valid point")
        and proc.stderr.count("\n") == 1
    )


def test_without_a_default_dvc_remote_nothing_runs(params):
    cwd = params.parent
    for args in (["init", "-q", "-b", "main"], ["remote", "add", "origin", str(cwd / "origin.git")]):
        subprocess.run(["git", *args], cwd=cwd, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=cwd, check=True)
    with pytest.raises(UserError, match=r"^no default DVC remote: `dvc remote add -d NAME URL`"):
        run_point("s", ["dropout=0.1"], cwd=cwd)
