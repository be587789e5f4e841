"""The catalog: one module per dataset, each registering its record with ``data_prep.registry.register_dataset``.

A module holds everything specific to its dataset: the raw layout parser(s) of its published source formats, its
evaluation protocols, its acquisition step (archives, lists, what to place by hand) and its smoke builder. Every
module of this package is imported here, in name order, so a new dataset is one new module plus its entries in
``config/config.yaml`` and ``config/smoke.yaml`` (see docs/data.md, "Adding a dataset").
"""

from __future__ import annotations

import importlib
import pkgutil

from data_prep import registry

for _module in sorted(info.name for info in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")

#: every registered dataset by name (a read-only view of the registry)
DATASETS = registry.datasets()
get_dataset = registry.get_dataset
