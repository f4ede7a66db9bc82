"""Train: networks, the one training loop and what a run leaves behind.

Owns the Keras backend set-up, the model factory and reproducible model files, the training loop and
experiment runner of both training stages, run summaries (per seed, per run, metric-first) and loss
figures. May import `dlpipe.core`, `dlpipe.display` (progress, shown only) and `dlpipe.data`.
"""
