"""What a table or figure kind is: one record per ``kind:`` of config/tables.yaml, registered by its own module.

A kind lives in one file, ``vpbench/reporting/kinds/<name>_table.py`` (or ``_figure.py``), which holds everything
about it and registers it here:

* ``schema``: its fields, the JSON schema of its entry in config/tables.yaml (``kind``, ``title``, ``caption`` and,
  for a table, ``paper`` and ``tolerance`` are added by :meth:`TableKind.entry_schema`); the schema file composes
  the kinds' fields when it is loaded (:func:`vpbench.pipeline.config.load_schema`);
* ``plan``: how the planner finds its cells (the planner side, :class:`vpbench.pipeline.artefacts.Artefacts`). It
  fills the plan dict in place, putting the cells where the rule inputs are read from: ``rows[].cells`` or
  ``panels[].cells`` for a table; ``rows[].cell``, ``cell``, ``table_plan`` or a ``*_cells`` mapping for a figure;
* ``variants`` and ``check``: the variants its entry names and its own config rules, checked when the plan is made;
* ``build`` (a table: its cells, :class:`vpbench.reporting.cells.TableResult`) or ``draw`` (a figure: a matplotlib
  figure): the renderer side.

The planner side runs in every Snakemake process, so this module and every kind module import neither torch nor
pandas nor matplotlib at import time: a kind's ``build`` / ``draw`` imports them when it is called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vpbench.registry import Registry
from vpbench.reporting.errors import FigureError, TableError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from vpbench.pipeline.artefacts import Artefacts
    from vpbench.reporting.cells import TableResult

#: how a kind finds its cells: fills the plan (the table's or figure's config entry plus ``name``) in place
Planner = Callable[["Artefacts", dict[str, Any]], None]
#: (key under the entry, or "" for the entry itself; variant name) for every variant an entry names
VariantsOf = Callable[[Mapping[str, Any]], Iterable[tuple[str, str]]]
#: (key under the entry, message) for every rule of the kind an entry breaks; ``tables`` are the declared tables
Check = Callable[[Mapping[str, Any], Mapping[str, Any]], Iterable[tuple[str, str]]]

_COMMON = {"title": {"type": "string"}, "caption": {"type": "string"}}


def no_variants(entry: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    return ()


def no_checks(entry: Mapping[str, Any], tables: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    return ()


def row_variants(entry: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """``rows[i].variant`` of a table whose rows name variants."""
    return [(f"rows[{i}].variant", row["variant"]) for i, row in enumerate(entry.get("rows", [])) if "variant" in row]


def table_named(entry: Mapping[str, Any], tables: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """A figure drawn from a table's cells names a declared table."""
    if "table" in entry and entry["table"] not in tables:
        yield "table", f"unknown table {entry['table']!r}"


def row_status(row: Mapping[str, Any]) -> str:
    """A planned table row: "paper-only" (no variant), "run" (some cell has experiments) or "not-run"."""
    if "variant" not in row:
        return "paper-only"
    return "run" if any(cell for cell in row["cells"].values()) else "not-run"


def _entry_schema(name: str, schema: Mapping[str, Any], common: Mapping[str, Any], required: list[str]) -> dict[str, Any]:
    properties = {"kind": {"const": name}, **_COMMON, **common, **schema.get("properties", {})}
    return {**schema, "type": "object", "additionalProperties": False,
            "required": [*required, *schema.get("required", [])], "properties": properties}


@dataclass(frozen=True)
class TableKind:
    """A ``kind:`` of table: its fields, how its cells are found, its checks, how its cells are computed."""

    name: str
    schema: Mapping[str, Any]  # its own fields: {"properties": ..., "required": [...]} (JSON schema)
    plan: Planner
    build: Callable[[dict[str, Any], Path], TableResult]
    variants: VariantsOf = row_variants
    check: Check = no_checks

    def entry_schema(self) -> dict[str, Any]:
        """The JSON schema of a table of this kind in config/tables.yaml."""
        common = {"paper": {"type": "string"}, "tolerance": {"$ref": "#/$defs/tolerance"}}
        return _entry_schema(self.name, self.schema, common, ["kind", "paper"])


@dataclass(frozen=True)
class FigureKind:
    """A ``kind:`` of figure: its fields, how its cells are found, its checks, how it is drawn.

    ``draw(plan, base, table)`` returns a matplotlib figure; ``table`` is the built table of ``plan["table_plan"]``
    for a figure drawn from a table's cells (None otherwise)."""

    name: str
    schema: Mapping[str, Any]
    plan: Planner
    draw: Callable[[Mapping[str, Any], Path, "TableResult | None"], Figure]
    variants: VariantsOf = no_variants
    check: Check = no_checks

    def entry_schema(self) -> dict[str, Any]:
        return _entry_schema(self.name, self.schema, {}, ["kind"])


TABLE_KINDS: Registry[TableKind] = Registry("table kind", TableError)
FIGURE_KINDS: Registry[FigureKind] = Registry("figure kind", FigureError)


def register_table_kind(kind: TableKind) -> TableKind:
    return TABLE_KINDS.register(kind.name)(kind)


def register_figure_kind(kind: FigureKind) -> FigureKind:
    return FIGURE_KINDS.register(kind.name)(kind)


__all__ = [
    "FIGURE_KINDS", "TABLE_KINDS", "FigureKind", "TableKind", "no_checks", "no_variants", "register_figure_kind",
    "register_table_kind", "row_status", "row_variants", "table_named",
]
