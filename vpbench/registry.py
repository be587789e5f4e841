"""The one registry shape: name -> entry, filled where each entry is defined, with errors naming the known names.

Every extensible thing of the harness (methods, datasets and protocols, metrics, table and figure kinds) is one
:class:`Registry`; an entry registers itself where it is defined (``@REGISTRY.register("name")``, or
``REGISTRY.add(name, entry)`` for a record). A registry whose entries live in modules imported on demand names a
``load`` hook (the catalog of datasets, the built-in methods). Torch-free and dependency-free: the Snakefile imports
registries in every Snakemake process.
"""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, ValuesView
from types import MappingProxyType
from typing import Generic, TypeVar

T = TypeVar("T")

#: ``load(name)`` imports what registers ``name`` (``load(None)``: everything); called before a lookup misses
Loader = Callable[[str | None], None]


class Registry(Generic[T]):
    """Name -> object in registration order; ``register(name)`` decorates, ``add(name, entry)`` adds a record,
    ``get(name)`` (and ``registry[name]``) raises ``error`` naming the known names."""

    def __init__(self, what: str, error: type[Exception] = KeyError, load: Loader | None = None) -> None:
        self.what = what
        self.error = error
        self._load = load
        self._loading = False  # lookups made while loading (a module asking for another entry) do not load again
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        """Register ``entry`` under ``name`` (a second entry of the same name is an error)."""
        if name in self._entries:
            raise ValueError(f"{self.what} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[T], T]:
        def decorate(entry: T) -> T:
            return self.add(name, entry)

        return decorate

    def _loaded(self, name: str | None = None) -> dict[str, T]:
        if self._load is not None and not self._loading and (name is None or name not in self._entries):
            self._loading = True
            try:
                self._load(name)
            finally:
                self._loading = False
        return self._entries

    def get(self, name: str) -> T:
        try:
            return self._loaded(name)[name]
        except (KeyError, TypeError):
            raise self.error(f"unknown {self.what} {name!r}; known: {', '.join(self.names())}") from None

    __getitem__ = get

    def names(self) -> tuple[str, ...]:
        """Every registered name, sorted (as error messages list them)."""
        return tuple(sorted(self._loaded()))

    def view(self) -> Mapping[str, T]:
        """A read-only mapping of every entry, in registration order (live: later registrations show)."""
        return MappingProxyType(self._loaded())

    def keys(self) -> KeysView[str]:
        """Names in registration order (``dict(registry)`` and ``{**registry}`` work as for a mapping)."""
        return self.view().keys()

    def items(self) -> ItemsView[str, T]:
        return self.view().items()

    def values(self) -> ValuesView[T]:
        return self.view().values()

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return name in self._loaded(name)

    def __iter__(self) -> Iterator[str]:
        """Names in registration order."""
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


__all__ = ["Loader", "Registry"]
