"""Report: what reviewers read, built from DVC's answers.

Owns the statistics of a comparison, the review report (with a sweep's results from `dlpipe.sweep` when
asked), the README's results table, the offline plots page and its images and the pull-request comment.
May import every other layer; nothing imports it.
"""
