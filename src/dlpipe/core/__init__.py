"""Core: what every other layer relies on and nothing else.

Owns the schemas of params.yaml and sources.yaml, the user-facing errors and the one error boundary of
every command-line entry point, atomic writes, the paths each stage reads and writes, the registry of
the pipeline's names (stages, runs, plot ids), the environment and library versions results are computed
with, and the calls of dvc and git the tools share. Imports nothing from the other layers.
"""
