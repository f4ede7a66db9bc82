"""Train: networks, the one training loop and what a run leaves behind.

Owns the Keras backend set-up, the model factory and reproducible model files, the training loop and
experiment runner of both training stages, run summaries (per seed, per run, metric-first), progress
display, loss figures and the one renderer of a run's summary. May import `dlpipe.core` and
`dlpipe.data`.
"""
