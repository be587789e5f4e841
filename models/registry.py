"""Method registry: ``@register_method("name")`` on a factory, ``create_method("name", **options)``.

Methods from other packages register through the entry-point group ``vpbench.methods`` (value: a factory
``module:callable``), or are named in the config by a module path ``"package.module:factory"``.

Importing this module is torch-free: the built-in methods are listed by module (imported when first built), and
what the planner must know before any job runs (is a method routed, does it train) is answered without torch for
them; for another method, by a child process that imports it (:func:`give_answers`). Plan-time option checks build
the method on the meta device, which imports it.
"""

from __future__ import annotations

import collections.abc
import difflib
import importlib
import inspect
import json
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from models.routing_choices import dmvfn_is_routed
from vpbench.registry import Registry

if TYPE_CHECKING:
    from models.base import VideoPredictor

Factory = Callable[..., "VideoPredictor"]
ENTRY_POINT_GROUP = "vpbench.methods"


@dataclass(frozen=True)
class BuiltinMethod:
    """A method of this package: the module whose import registers it, and whether its options make it routed."""

    module: str
    routed: Callable[[Mapping[str, Any]], bool] = lambda options: False
    trainable: bool = True


BUILTIN_METHODS: dict[str, BuiltinMethod] = {
    "dmvfn": BuiltinMethod("models.dmvfn", routed=dmvfn_is_routed),
    "dvf": BuiltinMethod("baselines.dvf"),
    "prednet": BuiltinMethod("baselines.prednet"),
    "copy_last": BuiltinMethod("baselines.copy_last", trainable=False),
}


class MethodOptionError(ValueError):
    """A method name that resolves to nothing, or options its factory does not accept; ``key`` names the option."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def _load(name: str | None) -> None:
    """Register method ``name`` (every method for None): import its built-in module, else load the entry points."""
    for method, builtin in BUILTIN_METHODS.items():
        if name is None or name == method:
            importlib.import_module(builtin.module)
    if name is None or name not in BUILTIN_METHODS:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name not in METHODS:
                factory = ep.load()
                if ep.name not in METHODS:  # importing the plugin's module may have registered it already
                    METHODS.add(ep.name, factory)


#: every method by name: the built-ins (imported when first asked for), entry points, ``@register_method``
METHODS: Registry[Factory] = Registry("method", KeyError, load=_load)


def register_method(name: str) -> Callable[[Factory], Factory]:
    """``@register_method("name")`` on a factory: the method is built by ``create_method("name", **options)``."""
    return METHODS.register(name)


def resolve_factory(name: str) -> Factory:
    """The factory for ``name``: a registered name, an entry point, or ``"module.path:callable"``."""
    if ":" in name:
        module, _, attr = name.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as err:
            raise KeyError(f"method {name!r}: cannot import {attr!r} from {module!r} ({err})") from err
    if name not in METHODS:  # the registry's own message lacks the hint and the other ways to name a method
        known = available_methods()
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise KeyError(f"unknown method {name!r}; {hint}registered: {', '.join(known)} (or an entry point of "
                       f"{ENTRY_POINT_GROUP!r}, or 'package.module:factory')")
    return METHODS.get(name)


def create_method(name: str, **options: Any) -> VideoPredictor:
    from models.base import VideoPredictor

    method = resolve_factory(name)(**options)
    if not isinstance(method, VideoPredictor):
        raise TypeError(f"method {name!r} built a {type(method).__name__}, not a models.VideoPredictor")
    return method


#: what a process that imported a method answered about it (the planner's method-check child, passed on to the jobs:
#: :mod:`vpbench.pipeline.checks`), by method and options: ``is_routed`` and ``is_trainable`` take these answers
#: instead of importing the method (and torch)
GIVEN_ANSWERS: dict[str, dict[str, bool]] = {}
ANSWER_KEYS = ("routed", "trainable")


def _answer_key(name: str, options: Mapping[str, Any]) -> str:
    return json.dumps([name, dict(options)], sort_keys=True, default=str)


def give_answers(name: str, options: Mapping[str, Any], answers: Mapping[str, Any]) -> None:
    """Record what another process answered about method ``name`` with ``options`` (keys of :data:`ANSWER_KEYS`)."""
    GIVEN_ANSWERS[_answer_key(name, options)] = {k: bool(answers[k]) for k in ANSWER_KEYS if k in answers}


def _given(name: str, options: Mapping[str, Any], question: str) -> bool | None:
    return GIVEN_ANSWERS.get(_answer_key(name, options), {}).get(question)


def method_answers(name: str, options: Mapping[str, Any]) -> dict[str, bool]:
    """Everything the planner asks of a method (:data:`ANSWER_KEYS`), answered in this process (which imports a
    method that is not built in). A question the method cannot answer (it does not resolve) is left out."""
    answers = {"trainable": is_trainable(name, options)}
    try:
        answers["routed"] = is_routed(name, options)
    except Exception:  # noqa: BLE001 - the method check names why the method does not resolve
        pass
    return answers


def is_routed(name: str, options: Mapping[str, Any]) -> bool:
    """Whether method ``name`` with ``options`` routes: its blocks vary per sample, so its expected GFLOPs weight
    each block by the usage measured in its score file.

    Torch-free for the built-ins, and for another method once its answer is given (:func:`give_answers`). Otherwise
    a method says so by a ``routed`` attribute on its factory (a bool, or a callable of the options); without one it
    is not routed.
    """
    if name in BUILTIN_METHODS:
        return bool(BUILTIN_METHODS[name].routed(options))
    given = _given(name, options, "routed")
    if given is not None:
        return given
    routed = getattr(resolve_factory(name), "routed", False)
    return bool(routed(options) if callable(routed) else routed)


def is_trainable(name: str, options: Mapping[str, Any]) -> bool:
    """Whether method ``name`` with ``options`` has anything to train (``VideoPredictor.trainable``).

    Torch-free for the built-ins, and for another method once its answer is given (:func:`give_answers`). Otherwise
    it is asked: a ``trainable`` attribute on its factory (a bool, or a callable of the options) answers without
    building it; else it is built on the meta device (no memory, no weights) and its ``trainable`` read. A method that
    cannot be built counts as trainable (the method check that runs before any job reports why it cannot be built).
    """
    if name in BUILTIN_METHODS:
        return BUILTIN_METHODS[name].trainable
    given = _given(name, options, "trainable")
    if given is not None:
        return given
    try:
        factory = resolve_factory(name)
    except KeyError:
        return True  # check_method names the method that does not resolve
    declared = getattr(factory, "trainable", None)
    if declared is not None and not isinstance(declared, property):
        return bool(declared(options) if callable(declared) else declared)
    import torch

    try:
        with torch.device("meta"):
            method = factory(**options)
    except Exception:  # noqa: BLE001 - check_method names the problem
        return True
    return bool(getattr(method, "trainable", True))


def available_methods() -> list[str]:
    """Every method name: the built-ins (imported now), entry points and registered ones, sorted."""
    return list(METHODS.names())


# --------------------------------------------------------------------------------------------------------------
# Option checks before any job runs (``vpbench plan``, ``snakemake -n``)


def check_method(name: str, options: dict[str, Any]) -> None:
    """Raise :class:`MethodOptionError` unless ``name`` resolves and builds with ``options``.

    Option names are checked against the factory's parameters (or, for a ``**options`` factory, those of the class
    it is annotated to return), values against their type hints, and ranges by building the method on the meta
    device (no memory, no weights), so the method's own constructor checks apply (DMVFN: beta in (0, 1]).
    """
    try:
        factory = resolve_factory(name)
    except KeyError as err:
        raise MethodOptionError(err.args[0] if err.args else f"unknown method {name!r}") from None
    parameters, hints = _accepted_parameters(factory)
    if parameters is not None:
        for key, value in options.items():
            if key not in parameters:
                close = difflib.get_close_matches(key, list(parameters), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise MethodOptionError(
                    f"method {name!r} has no option {key!r}; {hint}options: {', '.join(parameters) or '(none)'}", key
                )
            expected = hints.get(key)
            if expected is not None and not _matches(value, expected):
                raise MethodOptionError(
                    f"option {key!r} of method {name!r} must be {_describe(expected)}, got {value!r}", key
                )
    _try_build(name, factory, options)


def _accepted_parameters(factory: Factory) -> tuple[list[str] | None, dict[str, Any]]:
    """Keyword names ``factory`` accepts (None: any) and their type hints."""
    target: Any = factory
    for _ in range(2):
        try:
            signature = inspect.signature(target)
        except (TypeError, ValueError):
            return None, {}
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
            names = [n for n, p in signature.parameters.items()
                     if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
            return names, _hints(target.__init__ if inspect.isclass(target) else target)
        returned = _hints(target).get("return") if not inspect.isclass(target) else None
        if not inspect.isclass(returned):
            return None, {}
        target = returned  # a ``build(**options) -> Class`` factory passes its options to the class
    return None, {}


def _hints(function: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(function)
    except Exception:  # unresolvable annotations: names are still checked, types are left to the factory
        return {}


def _matches(value: Any, hint: Any) -> bool:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in args)
    if hint is type(None):
        return value is None
    if origin is typing.Literal:
        return value in args
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin in (collections.abc.Sequence, list, tuple):
        if not isinstance(value, (list, tuple)):
            return False
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            return len(value) == len(args) and all(_matches(v, a) for v, a in zip(value, args))
        return not args or all(_matches(v, args[0]) for v in value)
    return True  # an annotation this check does not know: the factory decides


def _describe(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in args)
    if hint is type(None):
        return "null"
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (collections.abc.Sequence, list, tuple):
        return f"a list of {_describe(args[0])}" if args else "a list"
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def _try_build(name: str, factory: Factory, options: dict[str, Any]) -> None:
    import torch

    try:
        with torch.device("meta"):
            factory(**options)
        return
    except (TypeError, ValueError, KeyError) as err:
        message = err.args[0] if err.args and isinstance(err.args[0], str) else str(err)
    except Exception:  # noqa: BLE001 - a factory that cannot run on the meta device is built for real below
        try:
            factory(**options)
            return
        except Exception as err:  # noqa: BLE001 - reported as an option error of this method
            message = f"{type(err).__name__}: {err}"
    key = next((k for k in options if k in message), None)
    raise MethodOptionError(f"method {name!r} with options {options}: {message}", key)
