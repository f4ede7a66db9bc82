"""Reproducible Dropout and Batch Normalization experiments (Kaggle "Intro to Deep Learning", ex. 5)."""
