"""The one registry shape: name -> entry, filled where each entry is defined, with errors naming the known names.

Every extensible thing of the harness (methods, datasets and protocols, metrics, table and figure kinds) is one
:class:`Registry`; an entry registers itself where it is defined (``@REGISTRY.register("name")``). Torch-free and
dependency-free: the Snakefile imports registries in every Snakemake process.
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
