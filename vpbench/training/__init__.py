"""Training: the step after the pipeline's plan, before evaluation.

Flow: data -> pipeline plan -> **training** -> evaluation (rollout, metrics, scores) -> reporting (tables, figures).
One engine trains every method from an experiment spec and writes the checkpoints evaluation reads.

* ``trainer``: the shared loop (data order, optimiser steps, AMP, DDP, logs, resumable checkpoints).
* ``recipes``: named recipes (optimiser, learning-rate schedule, batch, crop, sampling, extra loss terms).
* ``losses``: loss terms added on top of a method's own loss (the VGG perceptual term).
* ``checkpoints``: the ``vpbench-checkpoint-v1`` format, its atomic writer and the loader every consumer uses.
* ``distributed``: process-group set-up for multi-GPU runs launched by ``torchrun``.
"""
