"""The errors of rendering a table or a figure (dependency-free: the torch- and pandas-free kind planners raise
nothing from here, but the kind registries name them, and the command line classifies them by name)."""

from __future__ import annotations


class TableError(ValueError):
    """A table cannot be rendered (missing score file, malformed paper CSV, unknown kind); the message names it."""


class FigureError(ValueError):
    """A figure cannot be drawn from its inputs (or its kind is unknown); the message names the file."""


__all__ = ["FigureError", "TableError"]
