"""The reporting side of the harness: score files -> aggregate -> tables and figures.

* :mod:`vpbench.reporting.aggregate`: per-clip and per-seed values from raw score rows.
* :mod:`vpbench.reporting.intervals`, :mod:`vpbench.reporting.comparison`: 95 % intervals and paired differences.
* :mod:`vpbench.reporting.tables`, :mod:`vpbench.reporting.figures`: the paper's tables and figures, one registered
  kind each (:mod:`vpbench.reporting.registry`).

None of these modules imports torch: a table renders without it.
"""
