"""Every table and figure kind of config/tables.yaml, one module each (:mod:`vpbench.reporting.kind` says what a
kind holds). Importing this package imports every module in it, so a new kind is one new file here (plus its
table in config/tables.yaml); the registries are re-exported from :mod:`vpbench.reporting.kind`.

Torch-, pandas- and matplotlib-free at import: the planner imports it in every Snakemake process. The kind modules
import :mod:`vpbench.reporting.kind`, never this package, so the import below closes no cycle.
"""

from __future__ import annotations

import importlib
import pkgutil

from vpbench.reporting.kind import FIGURE_KINDS, TABLE_KINDS

for _module in sorted(info.name for info in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")

__all__ = ["FIGURE_KINDS", "TABLE_KINDS"]
