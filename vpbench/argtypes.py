"""Range-checked argparse ``type=`` callables: the one home of every numeric command-line option's range.

A value outside its range is argparse's one-line usage error (exit 2) naming the option, never a number quietly
used (``--max-clips -1`` used to drop the last clip through Python's negative slicing). Torch-free, so building the
parser stays cheap.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def _bounds_text(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    if low is not None:
        return f">= {low:g}"
    return f"<= {high:g}"


def int_range(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """An integer in ``[low, high]`` (either end open when None)."""

    def parse(text: str) -> int:
        try:
            value = int(str(text).strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be an integer {_bounds_text(low, high)}, got {value}")
        return value

    parse.__name__ = "integer"  # argparse names the type in its message
    return parse


def float_range(low: float | None = None, high: float | None = None, *, low_open: bool = False) -> Callable[[str], float]:
    """A finite number in ``[low, high]`` (``(low, high]`` with ``low_open``)."""

    def parse(text: str) -> float:
        try:
            value = float(str(text).strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        below = low is not None and (value <= low if low_open else value < low)
        if not math.isfinite(value) or below or (high is not None and value > high):
            bounds = f"> {low:g}" if low_open and high is None else _bounds_text(low, high)
            raise argparse.ArgumentTypeError(f"must be a finite number {bounds}, got {text!r}")
        return value

    parse.__name__ = "number"
    return parse


def int_list(low: int | None = None, high: int | None = None, what: str = "value") -> Callable[[str], list[int]]:
    """Comma-separated integers, each in ``[low, high]``; at least one."""
    one = int_range(low, high)

    def parse(text: str) -> list[int]:
        parts = [part for part in str(text).split(",") if part.strip()]
        if not parts:
            raise argparse.ArgumentTypeError(f"expected at least one {what}")
        return [one(part) for part in parts]

    parse.__name__ = "integer list"
    return parse


def float_list(low: float | None = None, high: float | None = None, what: str = "value") -> Callable[[str], list[float]]:
    """Comma-separated finite numbers, each in ``[low, high]``; at least one."""
    one = float_range(low, high)

    def parse(text: str) -> list[float]:
        parts = [part for part in str(text).split(",") if part.strip()]
        if not parts:
            raise argparse.ArgumentTypeError(f"expected at least one {what}")
        return [one(part) for part in parts]

    parse.__name__ = "number list"
    return parse


POSITIVE_INT = int_range(1)
NON_NEGATIVE_INT = int_range(0)
#: a seed NumPy, Python and torch all accept unchanged
SEED = int_range(0, 2**32 - 1)
POSITIVE_FLOAT = float_range(0.0, low_open=True)
