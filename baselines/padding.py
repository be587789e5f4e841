"""Pad frames to a network's size multiple, and crop predictions back.

Encoder-decoders with k 2x poolings need H and W divisible by 2^k. Frames are padded on the bottom and right by
edge replication (no artificial black border for the flow to latch onto), and outputs are cropped back to the
input size, so any H x W works.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def padded_size(size: int, multiple: int) -> int:
    return -(-size // multiple) * multiple


def pad_to_multiple(frames: Tensor, multiple: int) -> Tensor:
    """Replicate-pad the last two dims of ``frames`` [..., H, W] up to multiples of ``multiple``."""
    height, width = frames.shape[-2:]
    pad_h, pad_w = padded_size(height, multiple) - height, padded_size(width, multiple) - width
    if pad_h == 0 and pad_w == 0:
        return frames
    lead = frames.shape[:-3]
    flat = frames.reshape(-1, *frames.shape[-3:])  # replicate padding wants [N, C, H, W]
    padded = F.pad(flat, (0, pad_w, 0, pad_h), mode="replicate")
    return padded.reshape(*lead, *padded.shape[-3:])


def crop_to(frames: Tensor, height: int, width: int) -> Tensor:
    return frames[..., :height, :width]
