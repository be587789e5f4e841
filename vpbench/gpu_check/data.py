"""The check's own data, built from the pinned offline clips (no prepared dataset needed).

* Training: consecutive frame triplets (I_{t-1}, I_t, I_{t+1}) cropped at the paper's 224x224 from the two smoke
  clips that are large enough (Big Buck Bunny 1280x720, bikes 640x272), cached as one ``uint8 [N, 3, 3, C, C]``
  ``.npy`` file. :func:`cached_crops` serves it to the training engine by name
  (``train.dataset = "vpbench.gpu_check.data:cached_crops"``), which is how the torchrun workers load it.
* Evaluation: the smoke Cityscapes tree (``vpbench smoke-data`` + ``vpbench prepare cityscapes --subset``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from vpbench.utils import atomic_path

#: smoke clips with both sides >= 224 px
TRAINING_CLIPS = ("bigbuckbunny", "bikes")
EVAL_DATASET = "cityscapes"
EVAL_PROTOCOL = "cityscapes"


def build_training_crops(path: Path, count: int, crop: int, seed: int = 0) -> Path:
    """Write ``count`` random triplets cropped at ``crop`` x ``crop`` to ``path`` (reused when it already fits)."""
    path = Path(path)
    if path.is_file():
        cached = np.load(path, mmap_mode="r")
        if cached.shape == (count, 3, 3, crop, crop):
            return path
    from data_prep.smoke import decode_video
    from vpbench.assets import smoke_video

    videos = [decode_video(smoke_video(name)) for name in TRAINING_CLIPS]  # [N, H, W, 3] uint8 RGB
    for name, frames in zip(TRAINING_CLIPS, videos):
        if min(frames.shape[1:3]) < crop:
            raise ValueError(
                f"smoke clip {name!r} is {frames.shape[1]}x{frames.shape[2]}, smaller than the crop {crop}")
    rng = np.random.default_rng(seed)
    crops = np.empty((count, 3, 3, crop, crop), dtype=np.uint8)
    for i in range(count):
        frames = videos[i % len(videos)]
        start = int(rng.integers(0, frames.shape[0] - 2))
        top = int(rng.integers(0, frames.shape[1] - crop + 1))
        left = int(rng.integers(0, frames.shape[2] - crop + 1))
        crops[i] = frames[start : start + 3, top : top + crop, left : left + crop].transpose(0, 3, 1, 2)
    with atomic_path(path) as tmp, tmp.open("wb") as handle:  # a handle: np.save would add ".npy" to a name
        np.save(handle, crops)
    return path


class CropTriplets(Dataset):
    """Items ``uint8 [3, 3, C, C]`` (a pure function of the index, so resumed runs see the same data)."""

    def __init__(self, crops: np.ndarray, crop: int | None = None) -> None:
        size = crops.shape[-1]
        if crop is not None and crop > size:
            raise ValueError(f"crop {crop} is larger than the cached {size}x{size} triplets")
        self.crops = crops
        self.offset = 0 if crop is None else (size - crop) // 2
        self.crop = size if crop is None else crop

    def __len__(self) -> int:
        return len(self.crops)

    def __getitem__(self, item: int) -> torch.Tensor:
        o, c = self.offset, self.crop
        return torch.from_numpy(np.ascontiguousarray(self.crops[item, :, :, o : o + c, o : o + c]))


def cached_crops(data_root: str, *, clip_length: int, crop: int, augmentation: str, max_clips: int | None,
                 seed: int) -> CropTriplets:
    """Training-dataset factory for specs: ``data_root`` is the ``.npy`` of :func:`build_training_crops`."""
    if clip_length != 3:
        raise ValueError(f"the check's crops are triplets; clip_length {clip_length} was asked for")
    crops = np.load(data_root, mmap_mode="r")
    if max_clips is not None:
        crops = crops[:max_clips]
    return CropTriplets(crops, crop)


def build_eval_tree(work: Path) -> Path:
    """The prepared smoke tree of :data:`EVAL_DATASET` under ``work`` (rebuilt from the offline clips each run)."""
    from data_prep.acquire import acquire
    from data_prep.preprocess import prepare
    from data_prep.smoke import SMOKE_SIZES, build_smoke_data

    roots = build_smoke_data(work / "raw")
    out = work / "prepared" / EVAL_DATASET
    acquire(EVAL_DATASET, roots[EVAL_DATASET], allow_download=False, subset=True, list_path=None)
    prepare(EVAL_DATASET, roots[EVAL_DATASET], out, size=SMOKE_SIZES[EVAL_DATASET], subset=True, splits=None,
            list_path=None)
    return out
