"""Kaggle's Dropout and Batch Normalization experiments as a reproducible DVC pipeline.

Layers, each a subpackage, each importing only the layers before it (tests/test_layers.py checks it):
`core` (schemas, errors, atomic writes, paths, names, environments, dvc and git) ← `display` (number
formatting and progress, shown only: no stage depends on it) ← `data` (sources, raw tables, splits,
features, arrays) ← `train` (backend, models, training loop, summaries, figures) ← `sweep` (grids of
experiments, their workers, the collected results) ← `report` (comparisons, review, results table, plots
page, pull-request comment).
"""
