"""Reporting: the last step, from raw score files to the paper's tables and figures.

Flow: data -> pipeline plan -> training -> evaluation (rollout, metrics, scores) -> **reporting** (tables, figures).

* ``aggregate``: raw score rows -> the numbers tables and figures show (cumulative t+k means, block usage).
* ``intervals``: confidence intervals for reproduced numbers and paired differences between methods.
* ``comparison``: a new method against each baseline: difference, interval and verdict.
* ``tables``: the paper's tables, each reproduced cell beside the paper's value (Markdown, CSV, LaTeX).
* ``figures``: the paper's figures from score, complexity and prediction files (PNG, PDF).


None of these modules imports torch: a table renders without it.
"""
