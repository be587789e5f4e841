"""Datasets of the harness: acquisition, preprocessing, evaluation protocols, torch datasets, smoke data.

Each dataset is one module of ``data_prep.catalog`` that registers its record (layouts, protocols, acquisition,
smoke builder) with ``data_prep.registry``; the other modules are the machinery every dataset shares.

Public entry points (imported from their modules so that ``import data_prep`` stays light):

* ``data_prep.registry``: ``Dataset``, ``register_dataset``, the registries ``DATASETS`` and ``PROTOCOLS``
  (torch-free: the planner reads them)
* ``data_prep.protocols``: ``EvalProtocol``, ``PROTOCOLS``, ``get_protocol``
* ``data_prep.datasets``: ``EvalWindows``, ``TrainClips``, ``open_prepared``
* ``data_prep.preprocess.prepare`` and ``data_prep.acquire.acquire`` (``vpbench prepare``)
* ``data_prep.smoke``: ``build_smoke_data``, ``SMOKE_SIZES`` (``vpbench smoke-data``)
* ``data_prep.synthetic.moving_shapes_video`` (procedural test video)

See docs/data.md ("Adding a dataset": one new catalog module plus its ``datasets:`` config entries).
"""
