"""Report: what reviewers read, built from DVC's answers.

Owns the statistics of a comparison, the review report, the README's results table, the offline plots
page and its images, sweeps (one machine or many) and the pull-request comment.
May import every other layer; nothing imports it.
"""
