"""Time the pipeline's own fits (the functions the training stages call) on one Keras backend.

Reads the arrays `preprocess` wrote, trains the four runs with the params in params.yaml for all
their epochs, and prints one JSON line: import time, and seconds and summary metrics of each fit.

    python benchmarks/pipeline_fits.py --backend jax [--epochs-scale 1.0] [--xla-threads N]

``--xla-threads`` (JAX only) overrides the one CPU thread the pipeline fixes, to show what that choice
costs or saves; the stages have no such option (the thread count changes the bits of a fit).
"""

import argparse
import json
import os
import time
from pathlib import Path

from dlpipe.core.errors import UserError, run_cli


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["jax", "tensorflow"], required=True)
    parser.add_argument("--epochs-scale", type=float, default=1.0)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--xla-threads", type=int, help="XLA CPU threads (JAX), instead of the pipeline's")
    args = parser.parse_args()
    if args.xla_threads is not None and (args.backend != "jax" or args.xla_threads < 1):
        raise UserError(f"--xla-threads {args.xla_threads}: give a number of threads from 1, with --backend jax")
    from dlpipe.core import layout
    from dlpipe.core.params import load_params
    from dlpipe.core.registry import BATCHNORM, DROPOUT
    from dlpipe.train.backend import configure_backend

    params = load_params(args.params)

    start = time.perf_counter()
    configure_backend(args.backend, layout.jax_cache_dir(os.environ), training_process=True)
    if args.xla_threads is not None:
        os.environ["PJRT_NPROC"] = str(args.xla_threads)  # read when JAX starts its CPU client, later
    from dlpipe.data.arrays import Arrays
    from dlpipe.train.backend import seed_everything
    from dlpipe.train.models import build_mlp, compile_model
    from dlpipe.train.summary import history_frame, summarize_seed
    from dlpipe.train.training import fit

    import_s = time.perf_counter() - start

    runs = {
        DROPOUT.regularised: (params.train_dropout, DROPOUT.arrays, {"dropout": params.dropout}),
        DROPOUT.control: (params.train_dropout, DROPOUT.arrays, {}),
        BATCHNORM.control: (params.train_batchnorm, BATCHNORM.arrays, {}),
        BATCHNORM.regularised: (params.train_batchnorm, BATCHNORM.arrays, {"batchnorm": True}),
    }
    fits = {}
    for name, (train, arrays_file, variant) in runs.items():
        arrays = Arrays.load(Path(arrays_file))
        seed_everything(params.seeds[0])
        model = compile_model(
            build_mlp(arrays.n_inputs, train.units, activation=train.activation, seed=params.seeds[0], **variant),
            train.optimizer,
            train.learning_rate,
            train.loss,
            train.steps_per_execution,
        )
        epochs = max(1, round(train.epochs * args.epochs_scale))
        t0, cpu0 = time.perf_counter(), time.process_time()
        # All epochs even after a NaN loss, so the comparison with the notebook's fit is
        # like for like (the stages stop a diverged run at once, which is faster still).
        history = fit(
            model,
            arrays,
            batch_size=train.batch_size,
            epochs=epochs,
            label=name,
            stop_on_divergence=False,
        )
        seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - cpu0
        fits[name] = {"seconds": seconds, "cpu_seconds": cpu_seconds, **summarize_seed(history_frame(history))}
    print(json.dumps({"backend": args.backend, "import_s": import_s, "fits": fits}))


if __name__ == "__main__":
    run_cli("pipeline_fits", main)
