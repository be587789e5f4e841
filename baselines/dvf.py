"""DVF, Deep Voxel Flow (Liu et al., ICCV 2017), used for extrapolation: I_{t+1} from (I_{t-1}, I_t).

Architecture: the U-Net variant of the public PyTorch port (prior-art §4), which is the one whose fvcore cost
equals the DVF entries of the DMVFN paper (Table 1: 409.78 GFLOPs at 1024x512, 166.47 at 256x832; Table 2:
324.15 at DAVIS 480x864, 89.64 at Vimeo 256x448). The released TensorFlow DVF has no skip connections and
would cost about half of that.

    encoder  conv 6->64 5x5, pool | 64->128 5x5, pool | 128->256 3x3, pool      (BatchNorm + ReLU after each conv)
    neck     256->256 3x3
    decoder  x2 bilinear up, concat skip: 512->256 3x3 | 384->128 5x5 | 192->64 5x5
    head     64->3 5x5, tanh  ->  voxel flow: motion (2 channels) + blend mask (1 channel)

Synthesis, linear-motion extrapolation (the port's ``syn_type='extra'``). DVF's voxel flow for interpolation
samples the two inputs symmetrically, at p - F/2 and p + F/2 around the target pixel p. For a target *after*
both inputs we keep the meaning "v = F/2 is the motion per frame interval" and assume the pixel moved with
constant velocity over t-1 -> t -> t+1, so it was at p - v in I_t and at p - 2v in I_{t-1}:

    Î_{t+1}(p) = m(p) * I_{t-1}(p - 2 v(p)) + (1 - m(p)) * I_t(p - v(p)),   m = (1 + mask) / 2 in [0, 1]

Both samples are bilinear with border padding; the mask decides per pixel which frame is more trustworthy
(occlusions). The output is a convex blend of [0, 1] images, hence itself in [0, 1].

Motion range: the port scales tanh by 0.5 * 256 / size in normalised coordinates, i.e. at most 64 px per frame
at any resolution; here v = ``max_motion_px`` * tanh(.), 64 by default, which is the same thing in pixels.

Loss: L1 between Î_{t+1} and I_{t+1}, the original's reconstruction loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from baselines.padding import crop_to, pad_to_multiple
from models.base import LossOutput, Prediction, VideoPredictor, as_pair
from models.contract import check_input_frames
from models.registry import register_method

#: three 2x poolings
SIZE_MULTIPLE = 8


def conv_bn_relu(in_channels: int, out_channels: int, kernel_size: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class VoxelFlowUNet(nn.Module):
    """(I_{t-1}, I_t) stacked as 6 channels in [-1, 1] -> tanh voxel flow [B, 3, H, W] (H, W multiples of 8)."""

    def __init__(self) -> None:
        super().__init__()
        self.enc1 = conv_bn_relu(6, 64, 5)
        self.enc2 = conv_bn_relu(64, 128, 5)
        self.enc3 = conv_bn_relu(128, 256, 3)
        self.neck = conv_bn_relu(256, 256, 3)
        self.dec3 = conv_bn_relu(256 + 256, 256, 3)
        self.dec2 = conv_bn_relu(256 + 128, 128, 5)
        self.dec1 = conv_bn_relu(128 + 64, 64, 5)
        self.head = nn.Conv2d(64, 3, 5, padding=2)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # The port's init: small Gaussian weights, so training starts near zero motion and an even blend.
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.weight, 0.0, 0.01)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    @staticmethod
    def _up(x: Tensor) -> Tensor:
        return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)

    def forward(self, x: Tensor) -> Tensor:
        skip1 = self.enc1(x)
        skip2 = self.enc2(F.max_pool2d(skip1, 2))
        skip3 = self.enc3(F.max_pool2d(skip2, 2))
        y = self.neck(F.max_pool2d(skip3, 2))
        y = self.dec3(torch.cat([self._up(y), skip3], dim=1))
        y = self.dec2(torch.cat([self._up(y), skip2], dim=1))
        y = self.dec1(torch.cat([self._up(y), skip1], dim=1))
        return torch.tanh(self.head(y))


def sample_at(img: Tensor, displacement: Tensor) -> Tensor:
    """``img`` [B, C, H, W] read at p + displacement(p) (pixels, channel 0 = x), bilinear, border padding.

    align_corners=True: the port builds its base grid with linspace(-1, 1, size), i.e. -1 and 1 are the centres
    of the border pixels, so one pixel is 2 / (size - 1) in normalised units.
    """
    _, _, height, width = img.shape
    ys = torch.linspace(-1.0, 1.0, height, device=img.device, dtype=img.dtype)
    xs = torch.linspace(-1.0, 1.0, width, device=img.device, dtype=img.dtype)
    base_y, base_x = torch.meshgrid(ys, xs, indexing="ij")
    scale_x = 2.0 / max(width - 1, 1)
    scale_y = 2.0 / max(height - 1, 1)
    grid = torch.stack((base_x + displacement[:, 0] * scale_x, base_y + displacement[:, 1] * scale_y), dim=-1)
    return F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=True)


class DVF(VideoPredictor):
    """Deep Voxel Flow for next-frame extrapolation (see the module docstring for the synthesis)."""

    context_length = 2

    def __init__(self, max_motion_px: float = 64.0) -> None:
        super().__init__()
        if not 0 < max_motion_px < float("inf"):
            raise ValueError(f"dvf: max_motion_px must be > 0, got {max_motion_px}")
        self.max_motion_px = float(max_motion_px)
        self.net = VoxelFlowUNet()

    def voxel_flow(self, prev: Tensor, cur: Tensor) -> tuple[Tensor, Tensor]:
        """Per-frame motion v [B, 2, H, W] in pixels and blend weight m [B, 1, H, W] of I_{t-1}, in [0, 1]."""
        raw = self.net(torch.cat([prev, cur], dim=1) * 2.0 - 1.0)  # the port feeds inputs normalised to [-1, 1]
        motion = raw[:, :2] * self.max_motion_px
        weight_prev = 0.5 * (1.0 + raw[:, 2:3])
        return motion, weight_prev

    def forward(self, prev: Tensor, cur: Tensor) -> Tensor:
        """(I_{t-1}, I_t) [B, 3, H, W] in [0, 1] -> Î_{t+1} [B, 3, H, W]; any H, W (padded internally)."""
        check_input_frames("DVF", prev=prev, cur=cur)
        height, width = cur.shape[-2:]
        prev_p, cur_p = pad_to_multiple(prev, SIZE_MULTIPLE), pad_to_multiple(cur, SIZE_MULTIPLE)
        motion, weight_prev = self.voxel_flow(prev_p, cur_p)
        from_prev = sample_at(prev_p, -2.0 * motion)  # constant velocity: two intervals back
        from_cur = sample_at(cur_p, -motion)  # one interval back
        frame = weight_prev * from_prev + (1.0 - weight_prev) * from_cur
        return crop_to(frame, height, width)

    def predict(self, context: Tensor) -> Prediction:
        prev, cur = as_pair(context, "DVF")
        return Prediction(frame=self(prev, cur))

    def loss(self, context: Tensor, target: Tensor) -> LossOutput:
        prediction = self.predict(context).frame
        l1 = (prediction - target).abs().mean()
        return LossOutput(total=l1, final_prediction=prediction, terms={"l1": float(l1.detach())})


@register_method("dvf")
def dvf(max_motion_px: float = 64.0) -> DVF:
    return DVF(max_motion_px=max_motion_px)


__all__ = ["DVF", "VoxelFlowUNet", "dvf", "sample_at", "SIZE_MULTIPLE"]
