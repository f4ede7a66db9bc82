"""Data: from the public tables to arrays ready to train on.

Owns the sources (download or mirror, verification), the raw tables' schemas and readers, the splits,
the feature preprocessing and the float32 arrays handed to training. May import `dlpipe.core` only.
"""
