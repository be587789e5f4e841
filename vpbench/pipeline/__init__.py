"""Pipeline: the plan every other stage runs from (torch-free: the Snakefile imports it in every Snakemake process).

Flow: data -> **pipeline plan** -> training -> evaluation (rollout, metrics, scores) -> reporting (tables, figures).

* ``config``: loading, merging and schema-validating the config files; cross-references between them.
* ``experiments``: variants x configurations -> experiments with stable ids (official weights, a compared method).
* ``paths``: where every file of the pipeline lives, derived from experiment ids; the patterns the rules declare.
* ``artefacts``: what each table, figure and comparison reads (each kind's planner, :mod:`vpbench.reporting.kinds`).
* ``checks``: plan-time checks (protocols, metric sizes, crops; methods on the meta device in a child process).
* ``jobs``: the job graph a target needs; ``cost``: the GPU-hours estimate; ``resources``: each job's scheduler
  request (GPUs, CPUs, memory, time).
* ``spec``: the experiment spec a training or evaluation job reads; ``plan``: ``Plan``, which builds, checks and
  holds the pieces (``plan.experiment_set``, ``plan.paths``, ``plan.artefacts``) and decides what needs them all.
"""
