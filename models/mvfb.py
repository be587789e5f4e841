"""The Multi-scale Voxel Flow Block (MVFB, paper §3.2, Figure 2(c)).

Widths, layer order and parameter names follow the authors' release so that their checkpoints load unchanged:

* motion path at 1/S resolution: ``conv0`` (two stride-2 3x3 convs, 17 -> C/2 -> C), ``convblock`` (three 3x3
  convs, with a residual), ``conv_sq`` (C -> C/4), then bilinear x2S upsampling back to H/2;
* spatial path at full resolution: ``conv1`` (17 -> 8, stride 2) and ``convblock1`` (8 -> 8), no residual;
* fusion: ``lastconv`` = ConvTranspose2d(C/4 + 8 -> 5, k4 s2), no activation: 4 flow channels + 1 mask logit.

Every conv is Conv2d(bias) + PReLU(one slope per channel), PyTorch default init. The block returns *residual
updates* (delta flow in pixels, delta mask logit), which DMVFN accumulates.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: channels entering a block: I_{t-1}, I_t, both warped frames, the mask logit (13) + the voxel flow (4)
BLOCK_IN_CHANNELS = 17
SPATIAL_CHANNELS = 8


def conv_prelu(in_ch: int, out_ch: int, kernel: int = 3, stride: int = 1, padding: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, kernel, stride, padding, bias=True), nn.PReLU(out_ch))


class MVFB(nn.Module):
    """One block. ``forward(x, flow)`` with x = [img0, img1, warped0, warped1, mask_logit] (13 ch) at full size."""

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

    def forward(self, x: Tensor, flow: Tensor) -> tuple[Tensor, Tensor]:
        """Return (delta_flow [B,4,H,W] in pixels, delta_mask [B,1,H,W] logit)."""
        s = self.scale
        if s != 1:
            x_small = F.interpolate(x, scale_factor=1.0 / s, mode="bilinear", align_corners=False)
            flow_small = F.interpolate(flow, scale_factor=1.0 / s, mode="bilinear", align_corners=False) / s
        else:
            x_small, flow_small = x, flow
        motion = self.conv0(torch.cat((x_small, flow_small), 1))
        motion = self.convblock(motion) + motion
        motion = self.conv_sq(motion)
        motion = F.interpolate(motion, scale_factor=2.0 * s, mode="bilinear", align_corners=False)  # -> H/2
        if self.spatial_path:
            spatial = self.convblock1(self.conv1(torch.cat((x, flow), 1)))
            motion = torch.cat((motion, spatial), 1)
        out = self.lastconv(motion)
        return out[:, :4], out[:, 4:5]
