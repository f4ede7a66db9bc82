"""Sweep: one param's values run as DVC experiments, on one machine or many, and their results against it.

Owns a sweep's grid (DVC's `-S` sweep syntax) and the name of each point's experiment, the worker that runs
one point and shares it through the git and DVC remotes, the collector that pulls every point and writes the
sweep's report, and a sweep's results (points, figure, table), which the review also shows (``--sweep``).
May import `dlpipe.core`, `dlpipe.display`, `dlpipe.data` and `dlpipe.train`; `dlpipe.report` may import it.
"""
