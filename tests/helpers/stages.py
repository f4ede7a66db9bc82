"""The pipeline's stages, as dvc.yaml declares them (in its order)."""

from pathlib import Path

import yaml

STAGES: tuple[str, ...] = tuple(
    yaml.safe_load((Path(__file__).resolve().parents[2] / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
)
