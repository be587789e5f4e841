"""Training-clip augmentations; one draw per clip, applied identically to every frame.

``official``: the released training code: random 256 crop; rotate 90 deg clockwise with p=1/2, else 180 with
p=1/4, else 90 deg counter-clockwise with p=1/8 (none 1/8); reverse the channel order with p=1/2; flip
vertically and horizontally, each with p=1/2. No temporal reversal.

``paper``: the paper states only the crop size (224); it says nothing about other augmentation, so this is a
random crop plus horizontal and vertical flips (p=1/2 each), the minimal choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

AUGMENTATIONS = ("paper", "official")


@dataclass(frozen=True)
class ClipTransform:
    """The random decisions for one clip."""

    top: int
    left: int
    rotation: int  # np.rot90 k: -1 = 90 deg clockwise, 2 = 180, 1 = counter-clockwise, 0 = none
    reverse_channels: bool
    flip_vertical: bool
    flip_horizontal: bool


def draw_transform(rng: np.random.Generator, height: int, width: int, crop: int, augmentation: str) -> ClipTransform:
    if augmentation not in AUGMENTATIONS:
        raise ValueError(f"augmentation must be one of {AUGMENTATIONS}, got {augmentation!r}")
    if crop > height or crop > width:
        raise ValueError(f"crop {crop} is larger than the frames ({height}x{width})")
    top = int(rng.integers(0, height - crop + 1))
    left = int(rng.integers(0, width - crop + 1))
    if augmentation == "paper":
        return ClipTransform(top, left, 0, False, bool(rng.random() < 0.5), bool(rng.random() < 0.5))
    rotation = 0
    if rng.random() < 0.5:
        rotation = -1
    elif rng.random() < 0.5:
        rotation = 2
    elif rng.random() < 0.5:
        rotation = 1
    return ClipTransform(
        top, left, rotation, bool(rng.random() < 0.5), bool(rng.random() < 0.5), bool(rng.random() < 0.5)
    )


def augmented_view(frames: np.ndarray, t: ClipTransform) -> np.ndarray:
    """The augmented view (no copy) of ``frames`` ``[..., crop, crop, 3]`` (already cropped); the caller's one copy
    (into the clip's ``[T, 3, crop, crop]`` tensor) materialises it, rather than a copy per step."""
    if t.rotation:
        frames = np.rot90(frames, k=t.rotation, axes=(-3, -2))
    if t.reverse_channels:
        frames = frames[..., ::-1]
    if t.flip_vertical:
        frames = frames[..., ::-1, :, :]
    if t.flip_horizontal:
        frames = frames[..., ::-1, :]
    return frames
