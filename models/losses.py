"""The reconstruction distance d of Eq. 13: L1 between Laplacian-pyramid representations.

As in the authors' release: 5 levels, the 5x5 binomial kernel outer([1,4,6,4,1])/256 applied depthwise with reflect
padding; each level's band is ``cur - up(down(cur))`` where ``up`` inserts zeros and blurs with 4x the kernel; the loss
is the sum over bands of the mean absolute difference; the final low-pass residual is not included.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

_KERNELS: dict[tuple[torch.device, torch.dtype, int], Tensor] = {}


def _gauss_kernel(channels: int, device: torch.device, dtype: torch.dtype) -> Tensor:
    key = (device, dtype, channels)
    kernel = _KERNELS.get(key)
    if kernel is None:
        k1 = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0], dtype=torch.float64)
        k2 = torch.outer(k1, k1) / 256.0
        kernel = k2.to(device=device, dtype=dtype).expand(channels, 1, 5, 5).contiguous()
        _KERNELS[key] = kernel
    return kernel


def _blur(x: Tensor, kernel: Tensor) -> Tensor:
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), kernel, groups=x.shape[1])


def laplacian_bands(x: Tensor, levels: int = 5) -> list[Tensor]:
    kernel = _gauss_kernel(x.shape[1], x.device, x.dtype)
    bands = []
    cur = x
    for _ in range(levels):
        down = _blur(cur, kernel)[:, :, ::2, ::2]
        up = torch.zeros(
            (cur.shape[0], cur.shape[1], down.shape[2] * 2, down.shape[3] * 2), device=x.device, dtype=x.dtype
        )
        up[:, :, ::2, ::2] = down
        up = _blur(up, 4.0 * kernel)[:, :, : cur.shape[2], : cur.shape[3]]
        bands.append(cur - up)
        cur = down
    return bands


def usable_levels(height: int, width: int, levels: int) -> int:
    """Levels that fit: reflect padding by 2 needs every level to be at least 3 pixels on each side.

    Small training crops (smoke runs) get fewer levels instead of a crash; 224/256 crops use all 5.
    """
    fit = 1
    size = min(height, width)
    while fit < levels and (size // 2) >= 3:
        size //= 2
        fit += 1
    return fit


class LaplacianDistance:
    """d(., target) of Eq. 13 with the target's Laplacian pyramid computed once: Eq. 13 compares every block's
    output with the same I_{t+1}, so a training step builds the target pyramid once, not once per block.

    The bands are differences of near-equal blurs: in fp16/bf16 (autocast) their rounding outweighs a converged
    network's error (bf16: +90 % at a residual of 0.003), so the distance is always computed in fp32.
    """

    def __init__(self, target: Tensor, levels: int = 5) -> None:
        self.shape = target.shape
        self.levels = usable_levels(target.shape[-2], target.shape[-1], levels)
        with torch.autocast(target.device.type, enabled=False):
            self.target_bands = laplacian_bands(target.float(), self.levels)

    def __call__(self, pred: Tensor) -> Tensor:
        if pred.shape != self.shape:
            raise ValueError(f"prediction {tuple(pred.shape)} and target {tuple(self.shape)} differ in shape")
        with torch.autocast(pred.device.type, enabled=False):
            bands = laplacian_bands(pred.float(), self.levels)
            return sum(F.l1_loss(p, t) for p, t in zip(bands, self.target_bands))  # type: ignore[return-value]


def laplacian_l1(pred: Tensor, target: Tensor, levels: int = 5) -> Tensor:
    """d(pred, target) of Eq. 13 for [B, C, H, W] tensors (fewer levels on tiny inputs, see usable_levels)."""
    if pred.shape != target.shape:
        raise ValueError(f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape")
    return LaplacianDistance(target, levels)(pred)
