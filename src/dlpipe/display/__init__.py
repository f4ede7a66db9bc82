"""Display: how results read to a person, and nothing else.

Owns the number formatting shared by the progress table, the results table and the review (render), and
the progress shown while training (progress: a bar, plain lines or nothing, and the end-of-stage table).
Writes only to the streams it is given, never a file, so no stage's results depend on it: stages do not
list these modules among their dependencies, and an edit here reruns nothing (tests/test_graph.py,
tests/test_layers.py). May import `dlpipe.core`.
"""
