"""Isolated, timed parts and the report they fill in.

Every part runs inside :func:`run_part`: it returns its numbers, raises :class:`CheckFailed` when it ran but a check
did not hold (its numbers are kept), or raises anything else (a crash). Either way the report records the status,
the reason and a short traceback, and the next part runs. The report is rewritten after every part, so a run that is
killed half-way still leaves the parts it finished on disk.
"""

from __future__ import annotations

import json
import math
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vpbench.utils import atomic_write

REPORT_FORMAT = "vpbench-gpu-check-v1"
SKIPPED_NO_CUDA = "skipped: no CUDA"
#: frames of a traceback kept in the report (the innermost ones say where it broke)
TRACEBACK_FRAMES = 6


class CheckFailed(RuntimeError):
    """A part ran to the end but one of its checks did not hold; ``result`` keeps what it measured."""

    def __init__(self, reason: str, result: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.result = result or {}


@dataclass
class PartOutcome:
    name: str
    needs_cuda: bool
    status: str  # "ok" | "failed" | "skipped: ..."
    seconds: float
    reason: str | None = None
    traceback: list[str] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def traceback_summary(error: BaseException, frames: int = TRACEBACK_FRAMES) -> list[str]:
    """The innermost ``frames`` frames as ``file:line in function: code``, then the exception line."""
    stack = traceback.extract_tb(error.__traceback__)[-frames:]
    lines = [f"{Path(f.filename).name}:{f.lineno} in {f.name}: {(f.line or '').strip()}" for f in stack]
    lines.append(f"{type(error).__name__}: {error}")
    return lines


def run_part(name: str, function: Callable[[], dict[str, Any]], needs_cuda: bool, cuda_available: bool,
             not_run_reason: str | None = None) -> PartOutcome:
    """Run one part in isolation: no exception escapes (KeyboardInterrupt and SystemExit aside).

    A CUDA part without CUDA is skipped; a part that could run but is not started (``not_run_reason``, e.g. the time
    budget is spent) failed: it proved nothing."""
    if needs_cuda and not cuda_available:
        return PartOutcome(name, needs_cuda, SKIPPED_NO_CUDA, 0.0)
    if not_run_reason:
        return PartOutcome(name, needs_cuda, "failed", 0.0, f"not run: {not_run_reason}")
    start = time.perf_counter()
    try:
        result = function()
    except CheckFailed as failure:
        return PartOutcome(name, needs_cuda, "failed", time.perf_counter() - start, str(failure),
                           traceback_summary(failure, 2), failure.result)
    except Exception as error:  # isolation: a crash in one part must not stop the others
        return PartOutcome(name, needs_cuda, "failed", time.perf_counter() - start,
                           f"{type(error).__name__}: {error}", traceback_summary(error))
    return PartOutcome(name, needs_cuda, "ok", time.perf_counter() - start, result=result or {})


def _json_safe(value: Any) -> Any:
    """NaN/inf become strings: the report stays strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


@dataclass
class Report:
    path: Path
    environment: dict[str, Any]
    settings: dict[str, Any]
    started: str
    parts: list[PartOutcome] = field(default_factory=list)
    finished: str | None = None

    def add(self, outcome: PartOutcome) -> None:
        self.parts.append(outcome)
        self.write()

    def summary(self) -> dict[str, int]:
        counts = {"ok": 0, "failed": 0, "skipped": 0}
        for part in self.parts:
            counts["skipped" if part.status.startswith("skipped") else part.status] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return _json_safe({
            "format": REPORT_FORMAT,
            "started": self.started,
            "finished": self.finished,
            "complete": self.finished is not None,
            "environment": self.environment,
            "settings": self.settings,
            "summary": self.summary(),
            "total_seconds": round(sum(p.seconds for p in self.parts), 2),
            "parts": {p.name: asdict(p) for p in self.parts},
        })

    def write(self) -> None:
        atomic_write(self.path, json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n")
