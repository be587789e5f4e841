"""Reporting: the last step, from raw score files to the paper's tables and figures.

Flow: data -> pipeline plan -> training -> evaluation (rollout, metrics, scores) -> **reporting** (tables, figures).

* ``aggregate``: raw score rows -> the numbers tables and figures show (cumulative t+k means, block usage).
* ``intervals``: confidence intervals for reproduced numbers and paired differences between methods.
* ``cells``: the score and complexity readers and each cell's value, interval and consistency with the paper.
* ``comparison``: a new method against each baseline: difference, interval and verdict.
* ``kind`` and ``kinds/``: one module per table or figure kind (its fields, how the planner finds its cells, its
  checks, how it is computed or drawn); ``kind`` says what a kind holds and keeps the two registries.
* ``tables``: the paper's tables, each reproduced cell beside the paper's value (Markdown, CSV, LaTeX).
* ``figures`` and ``drawing``: the paper's figures from score, complexity and prediction files (PNG, PDF).
* ``page``: the results page; ``errors``: what a failed table or figure raises.

None of these modules imports torch: a table renders without it. ``kind``, ``kinds`` and ``errors`` import neither
pandas nor matplotlib: the planner imports them in every Snakemake process.
"""
