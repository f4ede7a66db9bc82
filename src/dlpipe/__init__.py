"""Kaggle's Dropout and Batch Normalization experiments as a reproducible DVC pipeline.

Four layers, each a subpackage, each importing only the layers before it (tests/test_layers.py checks
it): `core` (schemas, errors, atomic writes, paths, names) ← `data` (sources, raw tables, splits,
features, arrays) ← `train` (backend, models, training loop, summaries, progress, figures) ← `report`
(dvc, comparisons, review, results table, plots page, sweeps, pull-request comment).
"""
