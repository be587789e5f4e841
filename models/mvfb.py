"""The Multi-scale Voxel Flow Block (MVFB, paper §3.2, Figure 2(c)).

Widths, layer order and parameter names follow the authors' release so that their checkpoints load unchanged:

* motion path at 1/S resolution: ``conv0`` (two stride-2 3x3 convs, 17 -> C/2 -> C), ``convblock`` (three 3x3
  convs, with a residual), ``conv_sq`` (C -> C/4), then bilinear x2S upsampling back to H/2;
* spatial path at full resolution: ``conv1`` (17 -> 8, stride 2) and ``convblock1`` (8 -> 8), no residual;
* fusion: ``lastconv`` = ConvTranspose2d(C/4 + 8 -> 5, k4 s2), no activation: 4 flow channels + 1 mask logit.

Every conv is Conv2d(bias) + PReLU(one slope per channel), PyTorch default init. The block returns *residual
updates* (delta flow in pixels, delta mask logit, one [B, 5, H, W] tensor), which DMVFN accumulates.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: channels entering a block: I_{t-1}, I_t, both warped frames, the mask logit (13) + the voxel flow (4)
BLOCK_IN_CHANNELS = 17
FLOW_START = 13  # channels 13:17 of the block input are the voxel flow in pixels
SPATIAL_CHANNELS = 8


def conv_prelu(in_ch: int, out_ch: int, kernel: int = 3, stride: int = 1, padding: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, kernel, stride, padding, bias=True), nn.PReLU(out_ch))


class MVFB(nn.Module):
    """One block. ``forward(x)`` with x = ``block_input(...)`` (17 ch) at full size."""

    def __init__(self, scale: int, width: int, spatial_path: bool = True) -> None:
        super().__init__()
        if width % 4 != 0:
            raise ValueError(f"MVFB width must be a multiple of 4, got {width}")
        self.scale = int(scale)
        self.spatial_path = spatial_path
        self.conv0 = nn.Sequential(
            conv_prelu(BLOCK_IN_CHANNELS, width // 2, 3, 2, 1),
            conv_prelu(width // 2, width, 3, 2, 1),
        )
        self.convblock = nn.Sequential(*(conv_prelu(width, width) for _ in range(3)))
        self.conv_sq = conv_prelu(width, width // 4)
        fused = width // 4
        if spatial_path:
            self.conv1 = nn.Sequential(conv_prelu(BLOCK_IN_CHANNELS, SPATIAL_CHANNELS, 3, 2, 1))
            self.convblock1 = nn.Sequential(conv_prelu(SPATIAL_CHANNELS, SPATIAL_CHANNELS))
            fused += SPATIAL_CHANNELS
        self.lastconv = nn.ConvTranspose2d(fused, 5, 4, 2, 1)

    def forward(self, x: Tensor) -> Tensor:
        """x: [I_{t-1}, I_t, W(I_{t-1}), W(I_t), mask logit, voxel flow] (17 ch, full size), as ``block_input``
        builds it. Returns the residual update [B, 5, H, W]: delta flow (4 ch, pixels) then delta mask logit."""
        s = self.scale
        if s != 1:
            # One resize for all 17 channels (bilinear is per channel); flow in pixels shrinks with the image.
            x_small = F.interpolate(x, scale_factor=1.0 / s, mode="bilinear", align_corners=False)
            x_small[:, FLOW_START:] /= s  # in place on a fresh tensor (resize's backward does not need its output)
        else:
            x_small = x
        motion = self.conv0(x_small)
        motion = self.convblock(motion) + motion
        motion = self.conv_sq(motion)
        motion = F.interpolate(motion, scale_factor=2.0 * s, mode="bilinear", align_corners=False)  # -> H/2
        if self.spatial_path:
            motion = torch.cat((motion, self.convblock1(self.conv1(x))), 1)
        return self.lastconv(motion)


def block_input(img0: Tensor, img1: Tensor, warped0: Tensor, warped1: Tensor, voxel: Tensor) -> Tensor:
    """The 17 channels an MVFB sees, in the released order: both frames, both warped frames, the mask logit, the
    flow. ``voxel`` is the running voxel flow [B, 5, H, W]: flow (x, y for I_{t-1}; x, y for I_t) then mask logit."""
    return torch.cat((img0, img1, warped0, warped1, voxel[:, 4:5], voxel[:, :4]), 1)


class BlockInputBuffer:
    """``block_input`` at inference without a concatenation per block: one tensor per forward pass, in the
    convolutions' layout, where the frames are written once and the warped frames and the voxel flow are
    rewritten before each block. Inference only: the same storage is overwritten for every block."""

    def __init__(self, img0: Tensor, img1: Tensor, memory_format: torch.memory_format) -> None:
        b, _, h, w = img0.shape
        self.x = torch.empty(
            (b, BLOCK_IN_CHANNELS, h, w), dtype=img0.dtype, device=img0.device, memory_format=memory_format
        )
        self.x[:, 0:3] = img0
        self.x[:, 3:6] = img1

    def update(self, warped0: Tensor, warped1: Tensor, voxel: Tensor) -> Tensor:
        self.x[:, 6:9] = warped0
        self.x[:, 9:12] = warped1
        self.x[:, 12:13] = voxel[:, 4:5]
        self.x[:, FLOW_START:] = voxel[:, :4]
        return self.x
