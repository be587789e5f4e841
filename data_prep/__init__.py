"""Datasets of the harness: acquisition, preprocessing, evaluation protocols, torch datasets, smoke data.

Public entry points (imported from their modules so that ``import data_prep`` stays light):

* ``data_prep.protocols``: ``EvalProtocol``, ``PROTOCOLS``, ``get_protocol``
* ``data_prep.datasets``: ``EvalWindows``, ``TrainClips``, ``open_prepared``
* ``data_prep.preprocess.prepare`` and ``data_prep.acquire.acquire`` (``vpbench prepare``)
* ``data_prep.smoke``: ``build_smoke_data``, ``SMOKE_SIZES`` (``vpbench smoke-data``)
* ``data_prep.synthetic.moving_shapes_video`` (procedural test video)

See docs/data.md.
"""
