"""DVC stage `train_dropout`: the Spotify model with Dropout, and the same model without it."""

import os

from dlpipe.errors import run_stage


def main() -> None:
    from dlpipe import layout
    from dlpipe.params import load_params
    from dlpipe.progress import progress_mode
    from dlpipe.registry import DROPOUT
    from dlpipe.train_stage import train_stage

    progress = progress_mode(os.environ)
    params = load_params()
    train_stage(
        DROPOUT.stage,
        params,
        params.train_dropout,
        DROPOUT.arrays,
        runs={DROPOUT.regularised: {"dropout": params.dropout}, DROPOUT.control: {"dropout": 0.0}},
        jax_cache=layout.jax_cache_dir(os.environ),
        progress=progress,
        title=f"Spotify popularity: Dropout({params.dropout}) vs no Dropout",
    )


if __name__ == "__main__":
    run_stage("train_dropout", main, fast_exit=True)
