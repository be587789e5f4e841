"""Backward warping (the paper's W<-), as the official implementation does it.

``backward_warp(img, flow)`` samples ``img`` at pixel position ``p + flow(p)`` with bilinear interpolation and
border padding (``grid_sample(align_corners=True, padding_mode="border")``). Flow is in pixels, channel 0 = x.
The normalised base grid depends only on (H, W, device, dtype), so it is cached instead of being rebuilt per call.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

_GRID_CACHE: dict[tuple[int, int, torch.device, torch.dtype], Tensor] = {}
_GRID_CACHE_MAX = 32


def _base_grid(height: int, width: int, device: torch.device, dtype: torch.dtype) -> Tensor:
    key = (height, width, device, dtype)
    grid = _GRID_CACHE.get(key)
    if grid is None:
        ys = torch.linspace(-1.0, 1.0, height, device=device, dtype=dtype)
        xs = torch.linspace(-1.0, 1.0, width, device=device, dtype=dtype)
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        grid = torch.stack((gx, gy), dim=-1).unsqueeze(0)  # [1, H, W, 2], (x, y) order for grid_sample
        if len(_GRID_CACHE) >= _GRID_CACHE_MAX:
            _GRID_CACHE.clear()
        _GRID_CACHE[key] = grid
    return grid


def backward_warp(img: Tensor, flow: Tensor) -> Tensor:
    """Warp ``img`` [B, C, H, W] by ``flow`` [B, 2, H, W] (pixels): out(p) = img(p + flow(p))."""
    _, _, height, width = flow.shape
    # pixels -> normalised [-1, 1] offsets (align_corners=True: -1 and 1 are the centres of the border pixels)
    scale = flow.new_tensor([2.0 / max(width - 1, 1), 2.0 / max(height - 1, 1)])
    grid = torch.addcmul(_base_grid(height, width, flow.device, flow.dtype), flow.permute(0, 2, 3, 1), scale)
    return F.grid_sample(img, grid.to(img.dtype), mode="bilinear", padding_mode="border", align_corners=True)
