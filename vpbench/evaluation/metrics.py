"""Per-frame image metrics of the evaluation, one value per sample.

Every function takes ``prediction`` and ``target`` as ``[B, 3, H, W]`` float tensors in [0, 1] (RGB) and returns a
``[B]`` tensor. Conventions follow the paper's evaluation (§4.1) and the authors' scripts:

* MS-SSIM / SSIM: ``pytorch_msssim`` with ``data_range=1`` (win 11, sigma 1.5, the standard five weights). Both
  average over channels after the per-channel computation, so channel order does not change them.
* PSNR: ``-10 log10(MSE)`` with the MSE over C, H, W of [0, 1] images (dB).
* LPIPS: the ``lpips`` package, AlexNet trunk, v0.1 linear layers, inputs mapped to [-1, 1]; built offline by
  :mod:`vpbench.evaluation.lpips_offline`. LPIPS is *not* channel-order invariant: the harness feeds RGB (the metric's
  convention); ``channel_order="bgr"`` reproduces the official scripts, which fed cv2's BGR tensors.

Place in the flow: the evaluation (:mod:`vpbench.evaluation.rollout`) scores frames here -> score files
(:mod:`vpbench.evaluation.scores`) -> aggregate -> tables/figures. What is known about each metric without torch
(name, label, direction, paper units, smallest frame) lives in :mod:`vpbench.evaluation.metric_records`; every record
names its function here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import pytorch_msssim
import torch
from torch import Tensor, nn

from vpbench.evaluation.metric_records import (
    METRIC_NAMES,
    METRICS,
    MS_SSIM_LEVELS,
    MS_SSIM_WIN_SIZE,
    ms_ssim_min_side,
    ms_ssim_size_reason,
    size_message,
)

ChannelOrder = Literal["rgb", "bgr"]
# Tolerance on the [0, 1] range: bilinear resampling and float round-off may leave values a hair outside.
_RANGE_SLACK = 1e-3


class MetricInputError(ValueError):
    """Images handed to a metric have the wrong shape, dtype, size or value range."""


def check_images(prediction: Tensor, target: Tensor, metric: str = "metric") -> None:
    """Raise :class:`MetricInputError` unless both are matching ``[B, 3, H, W]`` float images in [0, 1]."""
    for name, image in (("prediction", prediction), ("target", target)):
        if not isinstance(image, Tensor):
            raise MetricInputError(f"{metric}: {name} must be a torch.Tensor, got {type(image).__name__}")
        if image.dim() != 4 or image.shape[1] != 3:
            raise MetricInputError(f"{metric}: {name} must be [B, 3, H, W], got {tuple(image.shape)}")
        if not image.is_floating_point():
            raise MetricInputError(f"{metric}: {name} must be a float tensor in [0, 1], got {image.dtype}")
        if image.numel() and not torch.isfinite(image).all():
            raise MetricInputError(f"{metric}: {name} contains NaN or inf")
        if image.numel() and (image.min() < -_RANGE_SLACK or image.max() > 1 + _RANGE_SLACK):
            raise MetricInputError(
                f"{metric}: {name} values span [{image.min().item():.4g}, {image.max().item():.4g}]; expected [0, 1] "
                "(divide uint8 frames by 255)"
            )
    if prediction.shape != target.shape:
        raise MetricInputError(
            f"{metric}: prediction {tuple(prediction.shape)} and target {tuple(target.shape)} differ in shape"
        )
    if prediction.device != target.device:
        raise MetricInputError(f"{metric}: prediction on {prediction.device}, target on {target.device}")


def check_ms_ssim_size(height: int, width: int, win_size: int = MS_SSIM_WIN_SIZE) -> None:
    """MS-SSIM with 5 scales and an 11-px window needs a shortest side > 160 px; say so before pytorch-msssim does.

    With the default window this is :meth:`Metric.check_size <vpbench.evaluation.metric_records.Metric.check_size>` of
    the ``ms_ssim`` record, raised; the planner can call that one without torch.
    """
    message = size_message("ms_ssim", height, width, ms_ssim_min_side(win_size, MS_SSIM_LEVELS),
                           ms_ssim_size_reason(win_size, MS_SSIM_LEVELS))
    if message:
        raise MetricInputError(message)


def check_ssim_size(height: int, width: int) -> None:
    """pytorch-msssim silently skips smoothing along a side shorter than the window; refuse that instead."""
    message = METRICS["ssim"].check_size(height, width)
    if message:
        raise MetricInputError(message)


def psnr(prediction: Tensor, target: Tensor) -> Tensor:
    """Peak signal-to-noise ratio in dB, ``-10 log10(MSE)`` over C, H, W (inf for identical images)."""
    check_images(prediction, target, "psnr")
    mse = (prediction.double() - target.double()).pow(2).flatten(1).mean(1)
    return (-10.0 * torch.log10(mse)).to(prediction.dtype)


def ssim(prediction: Tensor, target: Tensor) -> Tensor:
    """Single-scale SSIM (Gaussian window 11, sigma 1.5, data_range 1), mean over channels and pixels."""
    check_images(prediction, target, "ssim")
    check_ssim_size(prediction.shape[-2], prediction.shape[-1])
    return pytorch_msssim.ssim(prediction, target, data_range=1.0, size_average=False, win_size=MS_SSIM_WIN_SIZE)


def ms_ssim(prediction: Tensor, target: Tensor, win_size: int = MS_SSIM_WIN_SIZE) -> Tensor:
    """MS-SSIM (5 scales, standard weights, window 11, sigma 1.5, data_range 1); shortest side must be > 160.

    The evaluation always uses the 11-px window; a smaller ``win_size`` (shortest side > ``(win_size - 1) * 16``)
    serves only checks on small crops (:mod:`vpbench.benchmarks.sanity_train`), whose values are not the paper's.
    """
    check_images(prediction, target, "ms_ssim")
    check_ms_ssim_size(prediction.shape[-2], prediction.shape[-1], win_size)
    return pytorch_msssim.ms_ssim(prediction, target, data_range=1.0, size_average=False, win_size=win_size)


def to_lpips_input(image: Tensor, channel_order: ChannelOrder = "rgb") -> Tensor:
    """Map RGB [0, 1] to LPIPS's [-1, 1] input, reversing channels first for ``channel_order="bgr"``."""
    if channel_order == "bgr":
        image = image.flip(1)
    elif channel_order != "rgb":
        raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
    return image * 2.0 - 1.0


_LPIPS_CACHE: dict[str, nn.Module] = {}


def lpips_model(device: str | torch.device = "cpu") -> nn.Module:
    """The offline LPIPS-alex v0.1 network on ``device``, built once per device and reused."""
    key = str(torch.device(device))
    if key not in _LPIPS_CACHE:
        from vpbench.evaluation.lpips_offline import build_lpips_alex

        _LPIPS_CACHE[key] = build_lpips_alex().to(device)
    return _LPIPS_CACHE[key]


def lpips(
    prediction: Tensor,
    target: Tensor,
    channel_order: ChannelOrder = "rgb",
    model: nn.Module | None = None,
) -> Tensor:
    """LPIPS distance (AlexNet, v0.1) of RGB [0, 1] images; ``channel_order="bgr"`` feeds BGR like the official code."""
    check_images(prediction, target, "lpips")
    net = model if model is not None else lpips_model(prediction.device)
    with torch.no_grad():
        distance = net(to_lpips_input(prediction, channel_order), to_lpips_input(target, channel_order))
    return distance.flatten(1).mean(1)  # [B, 1, 1, 1] -> [B]


class MetricSuite:
    """Scores a batch for several metrics at once; LPIPS is built once, on ``device``.

    ``suite.score(prediction, target) -> {"ms_ssim": [B], "lpips": [B], ...}`` (float64 tensors on the CPU).
    """

    def __init__(
        self,
        metrics: Sequence[str] = METRIC_NAMES,
        device: str | torch.device = "cpu",
        lpips_channel_order: ChannelOrder = "rgb",
    ) -> None:
        unknown = [name for name in metrics if name not in METRIC_NAMES]
        if unknown:
            raise ValueError(f"unknown metric(s) {unknown}; available: {list(METRIC_NAMES)}")
        if not metrics:
            raise ValueError("MetricSuite needs at least one metric")
        if lpips_channel_order not in ("rgb", "bgr"):
            raise ValueError(f"lpips_channel_order must be 'rgb' or 'bgr', got {lpips_channel_order!r}")
        self.metrics = tuple(dict.fromkeys(metrics))
        self.device = torch.device(device)
        self.lpips_channel_order: ChannelOrder = lpips_channel_order
        self._lpips_net = lpips_model(self.device) if "lpips" in self.metrics else None

    def check_size(self, height: int, width: int) -> None:
        """Fail early (before any model runs) when a metric cannot score frames of this size."""
        for name in self.metrics:
            message = METRICS[name].check_size(height, width)
            if message:
                raise MetricInputError(message)

    def _functions(self) -> dict[str, Callable[[Tensor, Tensor], Tensor]]:
        functions = {name: METRICS[name].function() for name in self.metrics}
        if "lpips" in functions:  # the suite's network and channel order
            functions["lpips"] = lambda p, t: lpips(p, t, self.lpips_channel_order, self._lpips_net)
        return functions

    def score(self, prediction: Tensor, target: Tensor) -> dict[str, Tensor]:
        prediction = prediction.to(self.device, torch.float32)
        target = target.to(self.device, torch.float32)
        functions = self._functions()
        with torch.inference_mode():
            return {name: functions[name](prediction, target).double().cpu() for name in self.metrics}
