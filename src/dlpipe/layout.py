"""Where each stage reads and writes, relative to the repository root (DVC's working directory)."""

from pathlib import Path

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
METRICS_DIR = Path("metrics")
PLOTS_DIR = Path("plots")
# Persistent JAX compilation cache (git-ignored): saves recompiling the same programs each run.
JAX_CACHE_DIR = Path(".cache/jax")
