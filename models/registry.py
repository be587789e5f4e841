"""Method registry: ``@register_method("name")`` on a factory, ``create_method("name", **options)``.

Methods from other packages register through the entry-point group ``vpbench.methods`` (value: a factory
``module:callable``), or are named in the config by a module path ``"package.module:factory"``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from models.base import VideoPredictor

Factory = Callable[..., VideoPredictor]
ENTRY_POINT_GROUP = "vpbench.methods"
_REGISTRY: dict[str, Factory] = {}
# Modules whose import registers the built-in methods.
_BUILTIN_MODULES = ("models.dmvfn", "baselines")


def register_method(name: str) -> Callable[[Factory], Factory]:
    def decorator(factory: Factory) -> Factory:
        if name in _REGISTRY and _REGISTRY[name] is not factory:
            raise ValueError(f"method {name!r} is registered twice")
        _REGISTRY[name] = factory
        return factory

    return decorator


def _load_builtins() -> None:
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)


def _load_entry_points() -> None:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in _REGISTRY:
            _REGISTRY[ep.name] = ep.load()


def resolve_factory(name: str) -> Factory:
    """The factory for ``name``: a registered name, an entry point, or ``"module.path:callable"``."""
    if ":" in name:
        module, _, attr = name.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as err:
            raise KeyError(f"method {name!r}: cannot import {attr!r} from {module!r} ({err})") from err
    _load_builtins()
    if name not in _REGISTRY:
        _load_entry_points()
    if name not in _REGISTRY:
        raise KeyError(f"unknown method {name!r}; registered: {', '.join(available_methods())}")
    return _REGISTRY[name]


def create_method(name: str, **options: Any) -> VideoPredictor:
    method = resolve_factory(name)(**options)
    if not isinstance(method, VideoPredictor):
        raise TypeError(f"method {name!r} built a {type(method).__name__}, not a models.VideoPredictor")
    return method


def available_methods() -> list[str]:
    _load_builtins()
    _load_entry_points()
    return sorted(_REGISTRY)
