"""Run one point of a sweep on this machine and share it: the worker of a sweep spread over many machines.

    python -m dlpipe.sweep.worker --sweep NAME -S dropout=0.3 [-S 'seeds=[0,1,2]'] [--remote origin]
    python -m dlpipe.sweep.worker --sweep NAME --grid 'dropout=0.0,0.1,0.2' [--seeds 0,1,2] --index 2

In a clone whose git remote (``--remote``, default ``origin``) and default DVC remote are reachable: the
point's experiment (named from the sweep and the point, see :mod:`dlpipe.sweep.grid`) is run with
``dvc exp run --pull --allow-missing`` (the data stages' outputs come from the DVC remote, not
recomputed), then shared with
``dvc exp push REMOTE NAME --run-cache`` (git refs to the git remote, outputs and run-cache to the DVC
remote). A point already on the git remote is not run again. A bad point fails in about a second, with
one line, before any work. ``--index`` picks a point of ``--grid``: a scheduler's array index.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from dlpipe.core.dvc_cli import experiment_refs, git, run_dvc, stream_dvc
from dlpipe.core.errors import UserError, run_cli
from dlpipe.core.params import load_params
from dlpipe.sweep.grid import check_sweep_name, expand, experiment_name, parse_point, seeds_override, strip_file


def check_point(overrides: Sequence[str], params_file: Path) -> None:
    """Refuse a point our params schema rejects, before any work: params.yaml as `dvc exp run -S` would
    write it (DVC's own code, on a copy), checked as every stage checks it."""
    from dvc.exceptions import InvalidArgumentError
    from dvc.utils.hydra import apply_overrides

    shown = " ".join(_flags(overrides))
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "params.yaml"
        shutil.copyfile(params_file, copy)
        try:
            apply_overrides(copy, list(overrides))
        except InvalidArgumentError as exc:
            reason = str(exc.__cause__ or exc).splitlines()[0]
            if reason.startswith("Could not override"):
                reason += " It is not a param in params.yaml (a typo?)."
            raise UserError(f"{shown}: {reason}") from None
        try:
            load_params(copy)
        except UserError as exc:
            # One line: the schema's problems, one after the other.
            problems = [line.strip() for line in str(exc).splitlines()[1:]] or [str(exc)]
            raise UserError(f"{shown} is not a valid point: {'; '.join(problems)}") from None


def _check_remotes(remote: str, cwd: Path) -> None:
    try:
        git("remote", "get-url", remote, cwd=cwd)
    except UserError:
        raise UserError(f"no git remote {remote!r} in this clone (`git remote -v`); pass --remote") from None
    try:
        default = run_dvc("remote", "default", cwd=cwd).strip()
    except UserError:  # DVC says "No default remote set" and exits 1
        default = ""
    if not default:
        raise UserError("no default DVC remote: `dvc remote add -d NAME URL` and commit .dvc/config")


def run_point(sweep: str, overrides: Sequence[str], remote: str = "origin", cwd: Path = Path()) -> str:
    """Run and push the experiment of one point unless ``remote`` has it already; return its name."""
    overrides = [strip_file(o) for o in overrides]
    name = experiment_name(check_sweep_name(sweep), parse_point(overrides))
    check_point(overrides, cwd / "params.yaml")
    _check_remotes(remote, cwd)
    head = git("rev-parse", "--short", "HEAD", cwd=cwd).strip()
    if name in (shared := experiment_refs(remote, cwd)):
        print(f"{name}: already on {remote} (experiment {shared[name][:7]} of commit {head}); nothing to run")
        return name
    if name not in experiment_refs(None, cwd):  # else: run here before, its push failed: push it now
        changed = [line[3:] for line in git("status", "--porcelain", "--untracked-files=no", cwd=cwd).splitlines()]
        if changed:
            # An experiment named after its point must hold that point and nothing else.
            raise UserError(
                f"uncommitted changes to {', '.join(changed[:3])}: a point runs on a commit; commit them or `git stash`"
            )
        print(f"{name}: running {' '.join(_flags(overrides))} on commit {head}", flush=True)
        stream_dvc("exp", "run", "--pull", "--allow-missing", "--name", name, *_flags(overrides), cwd=cwd)
    stream_dvc("exp", "push", remote, name, "--run-cache", cwd=cwd)
    print(f"{name}: pushed to {remote} (experiment {experiment_refs(None, cwd)[name][:7]} of commit {head})")
    return name


def _flags(overrides: Sequence[str]) -> list[str]:
    """The point as `dvc exp run` arguments: ``["-S", "dropout=0.1", ...]``."""
    return [arg for o in overrides for arg in ("-S", o)]


def point_of(args: argparse.Namespace) -> list[str]:
    """The point the command line asks for: its -S overrides, or point --index of --grid (with --seeds)."""
    by_grid = args.grid is not None or args.index is not None
    if by_grid == bool(args.set) or (by_grid and None in (args.grid, args.index)):
        raise UserError("give either -S KEY=VALUE ... or --grid with --index")
    if not by_grid:
        return [*args.set, *seeds_override(args.seeds)]
    points = expand(args.grid, args.seeds)
    if not 0 <= args.index < len(points):
        raise UserError(f"--index {args.index}: the grid has {len(points)} points (0 to {len(points) - 1})")
    return points[args.index]


def main(argv: list[str] | None = None) -> None:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m dlpipe.sweep.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", required=True, help="the sweep's name (letters, digits, _)")
    parser.add_argument("-S", "--set-param", dest="set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--grid", help="the whole grid, DVC sweep syntax: 'dropout=0.0,0.1,0.2'")
    parser.add_argument("--index", type=int, help="which point of --grid (0-based: a scheduler's array index)")
    parser.add_argument("--seeds", default="", help="seeds of the point, e.g. 0,1,2 (default: params.yaml's)")
    parser.add_argument("--remote", default="origin", help="git remote to share through (default: origin)")
    args = parser.parse_args(argv)
    run_point(args.sweep, point_of(args), args.remote)


if __name__ == "__main__":
    run_cli("sweep_worker", main)
