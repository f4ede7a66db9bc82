"""The progress display a run asks for (``DLPIPE_PROGRESS``), read and checked in one place, before any
slow import: the data stages (download bars) and the training stages (epoch bars) both honour it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from dlpipe.core.errors import UserError

Mode = Literal["auto", "bar", "lines", "off"]
MODES: tuple[Mode, ...] = ("auto", "bar", "lines", "off")
VARIABLE = "DLPIPE_PROGRESS"


def progress_mode(environ: Mapping[str, str]) -> Mode:
    """The display ``DLPIPE_PROGRESS`` asks for: ``auto`` when unset or empty; a UserError naming the
    allowed values for anything else."""
    value = environ.get(VARIABLE) or "auto"
    for mode in MODES:
        if value == mode:
            return mode
    raise UserError(f"{VARIABLE}={value} is not a progress mode; set it to one of {', '.join(MODES)}, or unset it")
