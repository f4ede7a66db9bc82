"""A sweep's points: the grid as text, each point's overrides and the name of its experiment.

Every worker and the collector derive them the same way, so they agree on what each point is called.

    python -m dlpipe.sweep.grid --grid 'dropout=0.0,0.1,0.2' [--seeds 0,1,2]   # the points as a JSON matrix

A grid is DVC's own sweep syntax for `dvc exp run -S` (``dropout=0.0,0.1,0.2``; several params give
every combination); ``--seeds 0,1,2`` adds ``seeds=[0,1,2]`` to every point, so each point is the mean
of those seeds. Parsing is DVC's (Hydra's override grammar): a point means here exactly what it means
to `dvc exp run -S`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from dlpipe.core.errors import UserError, run_cli

# No "-": it separates the sweep's name from the point's in the experiment name, so that the
# experiments of sweep "a" never look like those of a sweep "a-b".
SWEEP_NAME = re.compile(r"[A-Za-z0-9_]{1,40}")
SEEDS = re.compile(r"\d+(,\d+)*")
# Experiment names become git refs (refs/exps/.../NAME): keep to characters every git accepts.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")
MAX_NAME = 80
PARAMS_FILE = "params.yaml"


def check_sweep_name(sweep: str) -> str:
    """``sweep`` if it is a valid sweep name, else a UserError saying what is allowed."""
    if not SWEEP_NAME.fullmatch(sweep):
        raise UserError(f"sweep name {sweep!r}: use 1 to 40 letters, digits or '_' (no '-', no spaces)")
    return sweep


def _hydra() -> Any:
    # DVC's own parser of `-S` (imported late: it loads Hydra).
    from dvc.utils import hydra

    return hydra


def strip_file(override: str) -> str:
    """``dropout=0.1`` from ``params.yaml:dropout=0.1``; other files are not ours to sweep."""
    key = override.split("=", 1)[0]
    if ":" in key:
        file, _, rest = override.partition(":")
        if file != PARAMS_FILE:
            raise UserError(f"-S {override}: only {PARAMS_FILE} params can be swept")
        return rest
    return override


def seeds_override(seeds: str) -> list[str]:
    """``["seeds=[0,1,2]"]`` from ``0,1,2``; nothing from an empty text (the point keeps params.yaml's)."""
    seeds = seeds.replace(" ", "")
    if not seeds:
        return []
    if not SEEDS.fullmatch(seeds):
        raise UserError(f"seeds {seeds!r}: give them as numbers separated by commas, e.g. 0,1,2")
    return [f"seeds=[{seeds}]"]


def expand(grid: str, seeds: str = "") -> list[list[str]]:
    """Every point of ``grid`` (DVC's sweep syntax, items separated by spaces) as its `-S` overrides,
    each with ``seeds=[...]`` added when ``seeds`` (``0,1,2``) is given. In DVC's order."""
    try:
        items = [strip_file(item) for item in shlex.split(grid)]
    except ValueError as exc:
        raise UserError(f"grid {grid!r}: {exc}") from None
    if not items:
        raise UserError("the grid is empty; give it as KEY=V1,V2,... (e.g. dropout=0.1,0.2)")
    items += seeds_override(seeds)
    try:
        combos = _hydra().get_hydra_sweeps({PARAMS_FILE: items})
    except Exception as exc:  # Hydra's parse errors have no common base class
        raise UserError(f"grid {grid!r}: {str(exc).splitlines()[0]}") from None
    # A value written twice (0.1,0.1 or 0,0.0) is one point: one job, one experiment.
    unique: dict[str, list[str]] = {}
    for combo in combos:
        unique.setdefault(_key(parse_point(combo[PARAMS_FILE])), combo[PARAMS_FILE])
    return list(unique.values())


def parse_point(overrides: Sequence[str]) -> dict[str, Any]:
    """The values one point sets, by param (sorted), parsed as `dvc exp run -S` parses them. A point
    changes existing params only: no sweep (``a=1,2``), no ``+key`` or ``~key``, each key once."""
    if not overrides:
        raise UserError("a point needs at least one -S KEY=VALUE")
    from hydra.core.override_parser.types import OverrideType

    values: dict[str, Any] = {}
    for override in overrides:
        text = strip_file(override)
        try:
            (parsed,) = _hydra().to_hydra_overrides([text])
        except Exception as exc:
            raise UserError(f"-S {override}: {str(exc).splitlines()[0]}") from None
        if parsed.is_sweep_override():
            raise UserError(f"-S {override} is a sweep; a worker runs one point (one value per param)")
        if parsed.type != OverrideType.CHANGE:
            raise UserError(f"-S {override}: a point can only change existing params (no '+' or '~')")
        if parsed.key_or_group in values:
            raise UserError(f"-S {override}: {parsed.key_or_group} is set twice")
        value = parsed.value()
        if value == "":  # `dropout=` (or `dropout=''`): DVC would write an empty string into params.yaml
            raise UserError(
                f"{override}: {parsed.key_or_group} has an empty value; give it one: {parsed.key_or_group}=VALUE"
            )
        values[parsed.key_or_group] = value
    return dict(sorted(values.items()))


def _slug(value: Any, in_list: bool = False) -> str | None:
    """A value as it reads in an experiment name, or None when it has no short unambiguous form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # The shortest text that gives the float back; 0 and 0.0 are the same point.
        return repr(value).removesuffix(".0")
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9]+" if in_list else r"[A-Za-z0-9_]+", value):
        return value
    if isinstance(value, list) and value and not in_list:
        parts = [_slug(v, in_list=True) for v in value]
        return None if None in parts else "_".join(parts)  # type: ignore[arg-type]
    return None


def _key(value: Any) -> str:
    """``value`` as text with every number a float: the same values of a point (0 or 0.0) give the same text."""

    def canonical(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {key: canonical(v) for key, v in value.items()}
        if isinstance(value, list):
            return [canonical(v) for v in value]
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value

    return json.dumps(canonical(value), sort_keys=True)


def experiment_name(sweep: str, values: Mapping[str, Any]) -> str:
    """The experiment of one point: ``SWEEP-dropout-0.3-seeds-0_1_2`` (params sorted). When a value has
    no short form or the name is long, the readable start and a hash of the values:
    ``SWEEP-train_dropout.units-3f2a9c1d``. The same values always give the same name."""
    slugs = {key: _slug(value) for key, value in sorted(values.items())}
    name = "-".join([check_sweep_name(sweep), *(f"{k}-{s}" for k, s in slugs.items())])
    if None not in slugs.values() and len(name) <= MAX_NAME and SAFE_NAME.fullmatch(name) and ".." not in name:
        return name
    digest = hashlib.sha256(_key(values).encode()).hexdigest()[:8]
    readable = "-".join([sweep, *sorted(values)])
    readable = re.sub(r"[^A-Za-z0-9_.-]", "", readable)[: MAX_NAME - 9].replace("..", ".").rstrip(".-")
    return f"{readable}-{digest}"


def swept_params(points: Sequence[Sequence[str]]) -> list[str]:
    """The params that take more than one value over ``points``, in the order of the first point."""
    seen: dict[str, set[str]] = {}
    for point in points:
        for key, value in parse_point(point).items():
            seen.setdefault(key, set()).add(_key(value))
    return [key for key, values in seen.items() if len(values) > 1]


def matrix(points: Sequence[Sequence[str]]) -> dict[str, list[dict[str, Any]]]:
    """A GitHub Actions matrix: one job per point, by its index in the grid, labelled by its overrides."""
    return {"include": [{"index": i, "point": " ".join(point)} for i, point in enumerate(points)]}


def main(argv: list[str] | None = None) -> None:
    """The command line: print the grid's points as a JSON matrix on one line."""
    parser = argparse.ArgumentParser(prog="python -m dlpipe.sweep.grid", description=__doc__.splitlines()[0])
    parser.add_argument("--grid", required=True, help="DVC sweep syntax, e.g. 'dropout=0.0,0.1,0.2'")
    parser.add_argument("--seeds", default="", help="seeds of every point, e.g. 0,1,2 (default: params.yaml's)")
    args = parser.parse_args(argv)
    print(json.dumps(matrix(expand(args.grid, args.seeds))))


if __name__ == "__main__":
    run_cli("sweep_grid", main)
