"""DVC stage `train_batchnorm`: the concrete model with BatchNormalization, and without it."""

import os

from dlpipe.errors import run_stage


def main() -> None:
    from dlpipe import layout
    from dlpipe.params import load_params
    from dlpipe.progress import progress_mode
    from dlpipe.registry import BATCHNORM
    from dlpipe.train_stage import train_stage

    progress = progress_mode(os.environ)
    params = load_params()
    train = params.train_batchnorm
    train_stage(
        BATCHNORM.stage,
        params,
        train,
        BATCHNORM.arrays,
        runs={BATCHNORM.regularised: {"batchnorm": train.batchnorm}, BATCHNORM.control: {"batchnorm": False}},
        jax_cache=layout.jax_cache_dir(os.environ),
        progress=progress,
        title=f"Concrete strength ({train.optimizer}): BatchNormalization vs none",
    )


if __name__ == "__main__":
    run_stage("train_batchnorm", main, fast_exit=True)
