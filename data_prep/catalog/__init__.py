"""The catalog: one module per dataset, each registering its record with ``data_prep.registry.register_dataset``.

A module holds everything specific to its dataset: the raw layout parser(s) of its published source formats, its
evaluation protocols, its acquisition step (archives, lists, what to place by hand) and its smoke builder. Every
module of this package is imported here, in name order, so a new dataset is one new module plus its ``datasets:``
entries in ``config/config.yaml`` and ``config/smoke.yaml``; its protocols follow (see docs/data.md, "Adding a
dataset").
"""

from __future__ import annotations

import importlib
import pkgutil

from data_prep.registry import DATASETS, get_dataset

for _module in sorted(info.name for info in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")

__all__ = ["DATASETS", "get_dataset"]  # the registry (every dataset by name), filled by the imports above
