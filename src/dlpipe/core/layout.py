"""Where each stage reads and writes, relative to the repository root (DVC's working directory)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# The pinned versions of the libraries each group of stages computes with (dlpipe.core.versions).
VERSIONS_DIR = Path("data/versions")
DATA_VERSIONS = VERSIONS_DIR / "data.json"
TRAIN_VERSIONS = VERSIONS_DIR / "train.json"

RAW_DIR = Path("data/raw")
SPOTIFY_RAW = RAW_DIR / "spotify_songs.csv"
CONCRETE_RAW = RAW_DIR / "concrete.csv"

SPLIT_DIR = Path("data/split")
SPOTIFY_TRAIN = SPLIT_DIR / "spotify_train.csv"
SPOTIFY_VALID = SPLIT_DIR / "spotify_valid.csv"
CONCRETE_TRAIN = SPLIT_DIR / "concrete_train.csv"
CONCRETE_VALID = SPLIT_DIR / "concrete_valid.csv"

PROCESSED_DIR = Path("data/processed")
SPOTIFY_ARRAYS = PROCESSED_DIR / "spotify.npz"
SPOTIFY_PREPROCESSOR = PROCESSED_DIR / "spotify_preprocessor.joblib"
CONCRETE_ARRAYS = PROCESSED_DIR / "concrete.npz"
CONCRETE_SCALER = PROCESSED_DIR / "concrete_scaler.joblib"

MODELS_DIR = Path("data/models")
PLOTS_DIR = Path("plots")
# In each training stage's plots/<stage>/ folder, beside one <run>.csv of curves per run:
SEEDS_TABLE = "seeds.csv"
LOSS_FIGURE = "loss.png"
# Where those results were computed (dlpipe.core.environment): what a review checks before comparing.
ENVIRONMENT_FILE = "environment.json"

METRICS_DIR = Path("metrics")
SUMMARY_METRICS = METRICS_DIR / "summary.json"


@dataclass(frozen=True)
class Outputs:
    """Where one training stage writes: models (DVC cache); curves, per-seed results and figure (git)."""

    models_dir: Path
    plots_dir: Path

    @property
    def seeds_file(self) -> Path:
        """Every run's summary per seed (the details the summary stage aggregates)."""
        return self.plots_dir / SEEDS_TABLE

    @property
    def figure_file(self) -> Path:
        """The loss curves of every run, as PNG."""
        return self.plots_dir / LOSS_FIGURE

    @property
    def environment_file(self) -> Path:
        """Where the results were computed (:mod:`dlpipe.core.environment`)."""
        return self.plots_dir / ENVIRONMENT_FILE

    def curve_file(self, run: str) -> Path:
        """The loss curves of ``run`` (mean and spread over the seeds), as CSV."""
        return self.plots_dir / f"{run}.csv"

    def files(self, runs: Iterable[str]) -> list[Path]:
        """Every output of the stage that trains ``runs``: the models folder and the plots' files."""
        curves = (self.curve_file(run) for run in runs)
        return [self.models_dir, *curves, self.figure_file, self.seeds_file, self.environment_file]

    @classmethod
    def for_stage(cls, stage: str) -> Outputs:
        """The project's layout: data/models/<stage>/ and plots/<stage>/."""
        return cls(models_dir=MODELS_DIR / stage, plots_dir=PLOTS_DIR / stage)


def jax_cache_dir(environ: Mapping[str, str]) -> Path:
    """Where JAX keeps compiled programs between runs: $DLPIPE_JAX_CACHE, else the user's cache
    folder (~/.cache/dlpipe/jax). Outside the repository on purpose: every clone, experiment and
    queued run (DVC runs those in temporary copies) then reuses what any of them compiled."""
    if explicit := environ.get("DLPIPE_JAX_CACHE"):
        return Path(explicit)
    base = environ.get("XDG_CACHE_HOME") or str(Path(environ.get("HOME", "~")).expanduser() / ".cache")
    return Path(base) / "dlpipe" / "jax"
