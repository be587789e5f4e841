"""Named registries: what ``kind:`` in config/tables.yaml selects, for tables and for figures.

Place in the flow: scores -> aggregate -> tables/figures. :mod:`vpbench.reporting.tables` and
:mod:`vpbench.reporting.figures` each hold one :class:`Registry` of their kinds; a kind registers itself where it is
defined (``@register_table_kind("metrics")``), so adding a kind is one new class or function plus its config (and its
entry in config/schema/tables.schema.json, which a test checks against the registries).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> object; ``register(name)`` decorates, ``get(name)`` raises ``error`` naming the known names."""

    def __init__(self, what: str, error: type[Exception] = KeyError) -> None:
        self.what = what
        self.error = error
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorate(entry: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.what} {name!r} is registered twice")
            self._entries[name] = entry
            return entry

        return decorate

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise self.error(f"unknown {self.what} {name!r}; known: {', '.join(self.names())}") from None

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._entries))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


__all__ = ["Registry"]
