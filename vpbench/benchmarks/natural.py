"""Natural full-size frames for the data benchmarks, made from the bundled real clips (``vpbench.assets``).

Cityscapes frames are 2048x1024 camera images; the bundled clips are smaller, so each frame is made from one
clip frame: Big Buck Bunny (1280x720, rendered) scaled 1.6x to cover 2048 columns, and "bikes" (640x272, camera
footage) tiled with mirrored copies (its pixels keep their own camera noise and detail; only the seams are new).
Sequences alternate between the two sources, so byte and speed figures average a rendered and a filmed scene.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

#: the Cityscapes raw size (H, W)
CITYSCAPES_RAW = (1024, 2048)
SOURCES = ("bigbuckbunny", "bikes")


@lru_cache(maxsize=None)
def _clip(name: str) -> np.ndarray:
    from data_prep.smoke import decode_video, smoke_videos

    return decode_video(smoke_videos()[name])


def _cover(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    scale = max(height / frame.shape[0], width / frame.shape[1])
    size = (int(np.ceil(frame.shape[1] * scale)), int(np.ceil(frame.shape[0] * scale)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_CUBIC)[:height, :width]


def _mirror_tile(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    row = np.concatenate([frame, frame[:, ::-1]], axis=1)
    block = np.concatenate([row, row[::-1]], axis=0)
    reps = (-(-height // block.shape[0]), -(-width // block.shape[1]), 1)
    return np.ascontiguousarray(np.tile(block, reps)[:height, :width])


def natural_frame(sequence: int, index: int, size: tuple[int, int] = CITYSCAPES_RAW) -> np.ndarray:
    """RGB ``uint8 [H, W, 3]``: frame ``index`` of natural sequence ``sequence`` (sequences alternate sources)."""
    source = SOURCES[sequence % len(SOURCES)]
    clip = _clip(source)
    frame = clip[(sequence * 17 + index) % len(clip)]
    return _cover(frame, *size) if source == "bigbuckbunny" else _mirror_tile(frame, *size)


def write_cityscapes_tree(root: Path, sequences: int, frames: int = 30, split: str = "train") -> Path:
    """A ``leftImg8bit_sequence`` tree of ``sequences`` snippets of ``frames`` 2048x1024 PNGs; return ``root``."""
    raw_split = {"train": "train", "test": "val"}[split]
    for seq in range(sequences):
        folder = Path(root) / "leftImg8bit_sequence" / raw_split / "aachen"
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(frames):
            image = natural_frame(seq, k)
            path = folder / f"aachen_{seq:06d}_{19 + k:06d}_leftImg8bit.png"
            # PNG level 1: the release's files are PNGs; the level only changes how long writing them takes
            if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 1]):
                raise OSError(f"cannot write {path}")
    return Path(root)
