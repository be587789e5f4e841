"""A toy evaluation protocol for tests that bypass prepared data: 16x16 frames, two inputs, three targets."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ToyProtocol:
    name: str = "toy"
    dataset: str = "toy"
    height: int = 16
    width: int = 16
    input_indices: tuple[int, ...] = (0, 1)
    target_indices: tuple[int, ...] = (2, 3, 4)
    channel_order: str = "RGB"
    label: str = "Toy"
    metrics: tuple[str, ...] = field(default=("psnr", "ssim"))
