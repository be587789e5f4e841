"""Procedural video for unit tests: textured shapes moving with known sub-pixel velocities.

Deterministic from a seed: the same arguments give the same frames on every machine (numpy + cv2 only,
no randomness outside the seeded generator). ``frame_t`` is rendered analytically (not by warping frame
``t-1``), so the motion between any two frames is exactly ``velocity * dt``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MovingShape:
    center: tuple[float, float]  # (x, y) at t = 0, pixels
    velocity: tuple[float, float]  # pixels per frame, may be fractional
    radius: float
    color: tuple[int, int, int]
    square: bool


def _texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A smooth random background: a sum of a few oriented sinusoids per channel."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.zeros((height, width, 3), np.float32)
    for channel in range(3):
        for _ in range(3):
            fx, fy = rng.uniform(-0.08, 0.08, size=2)
            phase = rng.uniform(0, 2 * np.pi)
            image[..., channel] += np.sin(fx * x + fy * y + phase)
    return 127.5 + 35.0 * image / 3.0


def make_shapes(rng: np.random.Generator, height: int, width: int, count: int, max_speed: float) -> list[MovingShape]:
    return [
        MovingShape(
            (float(rng.uniform(0.2, 0.8) * width), float(rng.uniform(0.2, 0.8) * height)),
            (float(rng.uniform(-max_speed, max_speed)), float(rng.uniform(-max_speed, max_speed))),
            float(rng.uniform(0.06, 0.15) * min(height, width)),
            tuple(int(c) for c in rng.integers(0, 256, size=3)),
            bool(rng.random() < 0.5),
        )
        for _ in range(count)
    ]


def render(shapes: list[MovingShape], background: np.ndarray, t: float, supersample: int = 4) -> np.ndarray:
    """Frame at time ``t``: anti-aliased shapes (supersampled coverage) over the static background."""
    height, width = background.shape[:2]
    offsets = (np.arange(supersample) + 0.5) / supersample - 0.5
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = background.copy()
    for shape in shapes:
        cx, cy = shape.center[0] + shape.velocity[0] * t, shape.center[1] + shape.velocity[1] * t
        coverage = np.zeros((height, width), np.float32)
        for dy in offsets:
            for dx in offsets:
                px, py = x + dx - cx, y + dy - cy
                inside = (np.maximum(abs(px), abs(py)) <= shape.radius) if shape.square else (px * px + py * py <= shape.radius**2)
                coverage += inside
        coverage /= supersample * supersample
        stripes = 0.75 + 0.25 * np.sign(np.sin((x - cx) * 0.9))  # texture moving with the shape
        colour = np.asarray(shape.color, np.float32)[None, None] * stripes[..., None]
        image = image * (1 - coverage[..., None]) + colour * coverage[..., None]
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def moving_shapes_video(
    num_frames: int, height: int, width: int, seed: int = 0, num_shapes: int = 3, max_speed: float = 2.5
) -> tuple[np.ndarray, list[MovingShape]]:
    """``uint8 [num_frames, H, W, 3]`` RGB frames and the shapes (with their exact velocities)."""
    rng = np.random.default_rng(seed)
    background = _texture(rng, height, width)
    shapes = make_shapes(rng, height, width, num_shapes, max_speed)
    frames = np.stack([render(shapes, background, float(t)) for t in range(num_frames)])
    return frames, shapes
