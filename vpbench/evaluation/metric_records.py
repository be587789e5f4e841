"""What the harness knows about each metric and table quantity, as records: one home for names, labels, directions,
the paper's units and the frame sizes a metric accepts.

Place in the flow: evaluation scores frames with the torch functions of :mod:`vpbench.evaluation.metrics` (each
record names its function in ``compute``) -> score files hold one row per metric name of :data:`METRIC_NAMES`
(:mod:`vpbench.evaluation.scores`) -> :mod:`vpbench.reporting.aggregate` -> tables and figures
(:mod:`vpbench.reporting.tables`, :mod:`vpbench.reporting.figures`) print each value with its record's label, scale
and digits, and paired comparisons (:mod:`vpbench.reporting.comparison`) read its direction.

Torch-free: the planner and the report renderers read these records without importing torch; only
:meth:`Metric.function` imports the metric's module.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from vpbench.registry import Registry

Direction = Literal["higher", "lower"]

# MS-SSIM / SSIM parameters (pytorch-msssim, the paper's evaluation): an 11-px Gaussian window, five scales.
MS_SSIM_WIN_SIZE = 11
MS_SSIM_LEVELS = 5


def ms_ssim_min_side(win_size: int = MS_SSIM_WIN_SIZE, levels: int = MS_SSIM_LEVELS) -> int:
    """The shortest frame side MS-SSIM accepts: pytorch-msssim asserts it exceeds ``(win_size - 1) * 2**(levels - 1)``
    (the window must fit at the coarsest of the ``levels - 1`` downsamplings)."""
    return (win_size - 1) * 2 ** (levels - 1) + 1


def ms_ssim_size_reason(win_size: int = MS_SSIM_WIN_SIZE, levels: int = MS_SSIM_LEVELS) -> str:
    return (
        f"MS-SSIM ({levels} scales, window {win_size}) needs the shortest side > {ms_ssim_min_side(win_size, levels) - 1}"
        f" px because of its {levels - 1} downsamplings"
    )


def size_message(name: str, height: int, width: int, min_size: int | None, reason: str) -> str | None:
    """The error for frames of ``height`` x ``width`` that metric ``name`` cannot score, or None when it can."""
    if min_size is None or min(height, width) >= min_size:
        return None
    return f"{name}: images of {height}x{width} are too small; {reason}"


@dataclass(frozen=True)
class Metric:
    """One quantity a table or figure shows.

    ``scale`` turns a raw value into the paper's units (100: printed x10^-2) and ``digits`` is how many decimals a
    table prints. Scored metrics name their torch function in ``compute`` (``"module:function"``, taking
    ``prediction, target`` [B, 3, H, W] in [0, 1] and returning [B]); counted quantities (GFLOPs, parameters, block
    usage) have none. ``min_size`` is the smallest frame side the metric accepts (None: no limit) and ``size_reason``
    says why, for :meth:`check_size`. ``value_range`` (low, high) is where every raw value of a correct computation
    lies; score files are checked against it (:meth:`range_message`), so a value from a broken metric or an edited
    file (an MS-SSIM of 7.3, a negative LPIPS) is refused rather than averaged into a table; tables clip confidence intervals to it.
    """

    name: str
    label: str
    direction: Direction
    scale: float = 1.0
    digits: int = 2
    compute: str | None = None
    min_size: int | None = None
    size_reason: str = ""
    unit: str = ""  # of the shown value when it is not scaled (PSNR: dB)
    value_range: tuple[float, float] = (-math.inf, math.inf)

    def __post_init__(self) -> None:
        if self.direction not in ("higher", "lower"):
            raise ValueError(f"metric {self.name!r}: direction must be 'higher' or 'lower', got {self.direction!r}")
        if self.compute is not None and ":" not in self.compute:
            raise ValueError(f"metric {self.name!r}: compute must be 'module:function', got {self.compute!r}")

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher"

    @property
    def scale_note(self) -> str:
        """How tables and figures state the unit change (``"x10^-2"``), empty when values are shown as computed."""
        return "x10^-2" if self.scale == 100.0 else ""

    @property
    def printed_resolution(self) -> float:
        """One unit of the last digit a table prints, on the raw value (MS-SSIM x10^-2 with 2 decimals: 1e-4)."""
        return 10.0 ** -self.digits / self.scale

    def function(self) -> Callable[..., Any]:
        """The torch function named by ``compute``, imported now (importing it imports torch)."""
        if self.compute is None:
            raise ValueError(f"{self.name} is counted, not computed from frames: it has no metric function")
        module, _, attribute = self.compute.partition(":")
        return getattr(importlib.import_module(module), attribute)

    def in_range(self, value: float) -> bool:
        """Whether raw ``value`` lies in :attr:`value_range` (with :data:`RANGE_TOLERANCE` for float32 rounding)."""
        low, high = self.value_range
        return low - RANGE_TOLERANCE <= value <= high + RANGE_TOLERANCE

    @property
    def range_text(self) -> str:
        low, high = self.value_range
        return f"[{low:g}, {high:g}]"

    def check_size(self, height: int, width: int) -> str | None:
        """Why frames of ``height`` x ``width`` cannot be scored by this metric, or None when they can."""
        return size_message(self.name, height, width, self.min_size, self.size_reason)


_FUNCTIONS = "vpbench.evaluation.metrics"
#: float32 metrics may land a rounding error outside their mathematical range (an MS-SSIM of 1.0000001)
RANGE_TOLERANCE = 1e-5

#: the metrics a score file may hold, in the order evaluation scores them (the default metric set)
METRICS: Registry[Metric] = Registry("metric", ValueError)
#: what tables show besides the scored metrics: counted costs and block usage rates
COUNTED: Registry[Metric] = Registry("counted quantity", ValueError)


def _add(registry: Registry[Metric], *metrics: Metric) -> None:
    for metric in metrics:
        registry.add(metric.name, metric)


_add(
    METRICS,
    Metric("ms_ssim", "MS-SSIM", "higher", scale=100.0, compute=f"{_FUNCTIONS}:ms_ssim",
           min_size=ms_ssim_min_side(), size_reason=ms_ssim_size_reason(),
           value_range=(0.0, 1.0)),  # pytorch-msssim clips every scale's term at 0 (relu)
    # a weighted sum of squared feature differences with non-negative weights
    Metric("lpips", "LPIPS", "lower", scale=100.0, compute=f"{_FUNCTIONS}:lpips", value_range=(0.0, math.inf)),
    # frames in [0, 1]: MSE <= 1, so PSNR >= 0 dB; identical frames give +inf (copy-last-frame on a still clip)
    Metric("psnr", "PSNR", "higher", scale=1.0, compute=f"{_FUNCTIONS}:psnr", unit="dB",
           value_range=(0.0, math.inf)),
    # pytorch-msssim silently skips smoothing along a side shorter than the window: refused instead.
    Metric("ssim", "SSIM", "higher", scale=100.0, compute=f"{_FUNCTIONS}:ssim", min_size=MS_SSIM_WIN_SIZE,
           size_reason=f"SSIM's Gaussian window needs sides >= {MS_SSIM_WIN_SIZE} px", value_range=(-1.0, 1.0)),
)
_add(
    COUNTED,
    Metric("gflops", "GFLOPs", "lower"),
    Metric("params", "Params (M)", "lower", scale=1e-6),
    Metric("usage", "usage", "higher", scale=100.0, value_range=(0.0, 1.0)),
)
METRIC_NAMES: tuple[str, ...] = tuple(METRICS)


def get_metric(name: str) -> Metric:
    """The record of scored metric ``name``; a ValueError names the unknown metric and the known ones."""
    return METRICS.get(name)


def get_quantity(name: str) -> Metric:
    """The record of anything a table shows: a scored metric or a counted quantity (GFLOPs, params, usage)."""
    if name in METRICS:
        return METRICS[name]
    if name in COUNTED:
        return COUNTED[name]
    raise ValueError(f"unknown table quantity {name!r}; known: {', '.join([*METRIC_NAMES, *COUNTED])}")


__all__ = [
    "COUNTED", "METRICS", "METRIC_NAMES", "MS_SSIM_LEVELS", "RANGE_TOLERANCE", "MS_SSIM_WIN_SIZE", "Metric", "get_metric", "get_quantity",
    "ms_ssim_min_side", "ms_ssim_size_reason", "size_message",
]
