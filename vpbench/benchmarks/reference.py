"""A re-statement of the authors' DMVFN forward pass and training loss, for benchmarks only.

Written from the specification in the project's reference notes on the official implementation (model/arch.py,
loss/loss.py): same layers, same parameter names and shapes (so ``load_state_dict`` takes our weights, or theirs),
and the same sequence of operations, including the work their code does that ours skips at inference (both
frames' interpolations at every block, a blend after every executed block, a fresh flow normalisation per warp).
It exists so that ``vpbench.benchmarks.inference`` and ``vpbench.benchmarks.train`` can time our model against theirs in the
same process and check that both compute the same thing. It is not used by training or evaluation.

Differences from the release that do not change the arithmetic: zero tensors are created on the input's device
(the release calls ``.cuda()``), and ``run_all`` forces every block on (the release always draws the routing).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

SCALES = (4, 4, 4, 2, 2, 2, 1, 1, 1)
WIDTHS = (160, 160, 160, 80, 80, 80, 44, 44, 44)
GAMMA = 0.8


def conv(in_ch: int, out_ch: int, kernel: int = 3, stride: int = 1, padding: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, kernel, stride, padding, bias=True), nn.PReLU(out_ch))


class ReferenceMVFB(nn.Module):
    def __init__(self, width: int, in_planes: int = 17) -> None:
        super().__init__()
        self.conv0 = nn.Sequential(conv(in_planes, width // 2, 3, 2, 1), conv(width // 2, width, 3, 2, 1))
        self.convblock = nn.Sequential(conv(width, width), conv(width, width), conv(width, width))
        self.conv_sq = conv(width, width // 4)
        self.conv1 = nn.Sequential(conv(in_planes, 8, 3, 2, 1))
        self.convblock1 = nn.Sequential(conv(8, 8))
        self.lastconv = nn.ConvTranspose2d(width // 4 + 8, 5, 4, 2, 1)

    def forward(self, x: Tensor, flow: Tensor, scale: int) -> tuple[Tensor, Tensor]:
        x_full, flow_full = x, flow
        if scale != 1:
            x = F.interpolate(x, scale_factor=1.0 / scale, mode="bilinear", align_corners=False)
            flow = F.interpolate(flow, scale_factor=1.0 / scale, mode="bilinear", align_corners=False) * (1.0 / scale)
        x1 = self.conv0(torch.cat((x, flow), 1))
        x2 = self.convblock(x1) + x1
        x3 = self.conv_sq(x2)
        x4 = F.interpolate(x3, scale_factor=scale * 2, mode="bilinear", align_corners=False)
        x6 = self.convblock1(self.conv1(torch.cat((x_full, flow_full), 1)))
        out = self.lastconv(torch.cat((x4, x6), 1))
        return out[:, 0:4], out[:, 4:5]


_GRIDS: dict[tuple[str, tuple[int, ...]], Tensor] = {}


def reference_warp(img: Tensor, flow: Tensor) -> Tensor:
    """Their backward warp: a [-1, 1] base grid cached per (device, flow size), flow normalised by (size-1)/2."""
    key = (str(flow.device), tuple(flow.shape))
    if key not in _GRIDS:
        b, _, h, w = flow.shape
        horizontal = torch.linspace(-1.0, 1.0, w, device=flow.device).view(1, 1, 1, w).expand(b, -1, h, -1)
        vertical = torch.linspace(-1.0, 1.0, h, device=flow.device).view(1, 1, h, 1).expand(b, -1, -1, w)
        _GRIDS[key] = torch.cat((horizontal, vertical), 1)
    _, _, h, w = flow.shape
    normalised = torch.cat((flow[:, 0:1] / ((w - 1.0) / 2.0), flow[:, 1:2] / ((h - 1.0) / 2.0)), 1)
    grid = (_GRIDS[key] + normalised).permute(0, 2, 3, 1)
    return F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=True)


class _RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:  # type: ignore[override]
        return torch.bernoulli(x)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # type: ignore[override]
        return grad


class ReferenceDMVFN(nn.Module):
    """``forward(x)`` with x = cat(I_{t-1}, I_t[, target]) returns the list of predictions, as the release does."""

    def __init__(self) -> None:
        super().__init__()
        for i, width in enumerate(WIDTHS):
            self.add_module(f"block{i}", ReferenceMVFB(width))
        self.routing = nn.Sequential(
            nn.Conv2d(6, 32, 3, 1, 1), nn.ReLU(), nn.Conv2d(32, 32, 3, 1, 1), nn.AdaptiveAvgPool2d(1)
        )
        self.l1 = nn.Linear(32, 9)

    def routing_draw(self, x: Tensor) -> Tensor:
        v = torch.sigmoid(self.l1(self.routing(x[:, :6]).flatten(1)))
        v = torch.clamp(v / (v.sum(1, keepdim=True) + 1e-6) * 4.5, 0, 1)
        return _RoundSTE.apply(v)

    def forward(self, x: Tensor, training: bool = False, run_all: bool = False) -> list[Tensor]:
        """``run_all``: every block on and no routing head (the "all blocks" benchmark setting)."""
        b, _, h, w = x.shape
        ref = x.new_ones(b, 9) if run_all else self.routing_draw(x)
        img0, img1 = x[:, :3], x[:, 3:6]
        flow = x.new_zeros(b, 4, h, w)
        mask = x.new_zeros(b, 1, h, w)
        warped0, warped1 = img0, img1
        blocks = [getattr(self, f"block{i}") for i in range(9)]
        merged: list[Tensor] = []
        if training:
            for i, block in enumerate(blocks):
                flow_d, mask_d = block(torch.cat((img0, img1, warped0, warped1, mask), 1), flow, SCALES[i])
                flow_now, mask_now = flow + flow_d, mask + mask_d  # the un-gated state of block i
                gate = ref[:, i].view(b, 1, 1, 1)
                flow = flow + flow_d * gate
                mask = mask + mask_d * gate
                if i < 8:
                    m = torch.sigmoid(mask_now)
                    merged.append(reference_warp(img0, flow_now[:, :2]) * m + reference_warp(img1, flow_now[:, 2:4]) * (1 - m))
                warped0 = reference_warp(img0, flow[:, :2])
                warped1 = reference_warp(img1, flow[:, 2:4])
            m = torch.sigmoid(mask)
            merged.append(warped0 * m + warped1 * (1 - m))
        else:
            for i, block in enumerate(blocks):
                if not ref[0, i]:
                    continue
                flow_d, mask_d = block(torch.cat((img0, img1, warped0, warped1, mask), 1), flow, SCALES[i])
                flow = flow + flow_d
                mask = mask + mask_d
                m = torch.sigmoid(mask)
                warped0 = reference_warp(img0, flow[:, :2])
                warped1 = reference_warp(img1, flow[:, 2:4])
                merged.append(warped0 * m + warped1 * (1 - m))
            if not merged:
                return [img0]
        return [torch.clamp(p, 0, 1) for p in merged]


# ------------------------------------------------------------------------------------------------------ loss
def _gauss_kernel(channels: int, device: torch.device) -> Tensor:
    k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0], device=device)
    return (torch.outer(k, k) / 256.0).expand(channels, 1, 5, 5)


def _conv_gauss(img: Tensor, kernel: Tensor) -> Tensor:
    return F.conv2d(F.pad(img, (2, 2, 2, 2), mode="reflect"), kernel, groups=img.shape[1])


def _upsample(x: Tensor, kernel: Tensor) -> Tensor:
    b, c, h, w = x.shape
    zeros = torch.zeros_like(x)
    rows = torch.stack((x, zeros), dim=3).view(b, c, h * 2, w)  # insert a zero row after every row
    cols = torch.stack((rows, torch.zeros_like(rows)), dim=4).view(b, c, h * 2, w * 2)
    return _conv_gauss(cols, 4 * kernel)


def _laplacian_pyramid(img: Tensor, kernel: Tensor, levels: int) -> list[Tensor]:
    bands, cur = [], img
    for _ in range(levels):
        down = _conv_gauss(cur, kernel)[:, :, ::2, ::2]
        bands.append(cur - _upsample(down, kernel))
        cur = down
    return bands


def reference_lap_loss(pred: Tensor, target: Tensor, levels: int = 5) -> Tensor:
    kernel = _gauss_kernel(pred.shape[1], pred.device)
    return sum(
        F.l1_loss(a, b)
        for a, b in zip(_laplacian_pyramid(pred, kernel, levels), _laplacian_pyramid(target, kernel, levels))
    )  # type: ignore[return-value]


def reference_loss(merged: list[Tensor], target: Tensor, vgg: nn.Module | None = None) -> Tensor:
    """sum_i 0.8^(8-i) LapLoss(merged_i, gt) (+ 0.5 VGG(merged_8, gt) when a VGG term is given)."""
    n = len(merged)
    loss = sum(GAMMA ** (n - 1 - i) * reference_lap_loss(p, target) for i, p in enumerate(merged))
    if vgg is not None:
        loss = loss + 0.5 * vgg(merged[-1], target)
    return loss  # type: ignore[return-value]
