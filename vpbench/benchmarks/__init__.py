"""Benchmarks: stand-alone measurements beside the flow, each run as ``python -m vpbench.benchmarks.<module>``.

Flow: data -> pipeline plan -> training -> evaluation (rollout, metrics, scores) -> reporting (tables, figures).
These modules measure the speed and soundness of the data, training and evaluation stages, print what they measured
and write it as JSON (``make bench``, ``bench-train``, ``bench-loader``, ``bench-data``, ``bench-runs``:
``results/benchmarks/*.json``); no stage of the flow depends on them.

* ``inference``: DMVFN's forward pass against a re-statement of the authors', timed in the same process.
* ``latency``: time per predicted 720p frame, DVF against DMVFN (all blocks and routed), as in paper §4.2.
* ``train``: training throughput (optimiser steps/s, clips/s), ours beside the authors' training step.
* ``loader``: training-loader clips/s per worker for the config's recipes and each codec, and the workers a GPU needs.
* ``prepare``: ``vpbench prepare`` on 1 and N cores (speed-up) and against a bare read + resize (floor ratio).
* ``disk``: bytes per frame of each codec on natural frames, and the disk each dataset needs.
* ``natural``: full-size natural frames (and a Cityscapes raw tree of them) made from the bundled clips.
* ``runs``: the smoke pipeline from scratch and the test suite, timed with the load around them.
* ``sanity_train``: a small DMVFN trained briefly on CPU must beat copying the last frame.
* ``reference``: the re-statement of the authors' forward pass and loss the benchmarks compare against.
"""
