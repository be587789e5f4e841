"""Torch datasets over prepared trees: evaluation windows and training clips.

``EvalWindows(root, protocol)[i]`` -> ``{"clip_id": str, "frames": uint8 [T, 3, H, W]}`` (RGB), where
``frames[k]`` is window frame k for k = 0 .. max(protocol indices).

``TrainClips(root, clip_length, crop, augmentation)[i]`` -> uint8 ``[clip_length, 3, crop, crop]``: a random
run of frames of clip i (random frame stride where the dataset allows it, as UCF101 in the released code),
one random crop and augmentation for the whole clip. Randomness comes from ``(seed, epoch, index)`` only, so
an item is the same whichever loader worker draws it; call ``set_epoch`` at the start of every epoch.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from data_prep.augment import augmented_view, draw_transform
from data_prep.errors import PreparedTreeError
from data_prep.layout import MANIFEST
from data_prep.preprocess import FORMAT
from data_prep.protocols import EvalProtocol, get_protocol
from data_prep.store import FRAMES_BIN, WINDOWS_TABLE, FrameStore, load_table


@dataclass(frozen=True)
class WindowIndex:
    """The windows of one split as plain arrays (cheap to pickle into workers)."""

    window_id: list[str]
    first_frame: np.ndarray
    num_frames: np.ndarray
    subset: list[str]


@dataclass
class PreparedSplit:
    name: str
    folder: Path
    info: dict

    @cached_property
    def frames(self) -> FrameStore:
        return FrameStore(self.folder, self.info["codec"], self.info.get("codec_params"))

    @cached_property
    def windows(self) -> WindowIndex:
        table = load_table(self.folder / WINDOWS_TABLE).data.table
        return WindowIndex(
            table.column("window_id").to_pylist(),
            table.column("first_frame").to_numpy().astype(np.int64),
            table.column("num_frames").to_numpy().astype(np.int64),
            table.column("subset").to_pylist(),
        )


@dataclass
class PreparedTree:
    root: Path
    manifest: dict

    @property
    def dataset(self) -> str:
        return self.manifest["dataset"]

    def split(self, name: str) -> PreparedSplit:
        splits = self.manifest["splits"]
        if name not in splits:
            raise PreparedTreeError(f"{self.root} has no split {name!r} (it has {sorted(splits)}); prepare it with --splits {name}")
        return PreparedSplit(name, self.root / name, splits[name])


def open_prepared(root: Path | str) -> PreparedTree:
    """Read a prepared tree's manifest and check that its files are all there with the recorded sizes."""
    root = Path(root)
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise PreparedTreeError(
            f"{manifest_path} is missing: {root} is not a (complete) prepared tree. "
            "Run `vpbench prepare <dataset> --root <raw> --out " + str(root) + "`."
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise PreparedTreeError(f"{manifest_path} is not valid JSON ({err}); prepare the dataset again") from err
    if manifest.get("format") != FORMAT:
        raise PreparedTreeError(f"{manifest_path}: format {manifest.get('format')!r}, this code reads {FORMAT!r}; prepare again")
    for split, info in manifest["splits"].items():
        for name, meta in info["files"].items():
            path = root / split / name
            if not path.is_file() or path.stat().st_size != meta["bytes"]:
                raise PreparedTreeError(f"{path} is missing or has the wrong size: the prepared tree is damaged; prepare again")
    return PreparedTree(root, manifest)


def _stack_chw(frames: list[np.ndarray]) -> torch.Tensor:
    """``[H, W, 3]`` uint8 arrays or views -> one contiguous ``[T, 3, H, W]`` uint8 tensor, each frame copied once
    (stacking, augmenting and transposing as separate steps copied every clip three times, 6x slower)."""
    height, width = frames[0].shape[:2]
    out = np.empty((len(frames), 3, height, width), np.uint8)
    for k, frame in enumerate(frames):
        out[k] = frame.transpose(2, 0, 1)
    return torch.from_numpy(out)


class EvalWindows(Dataset):
    def __init__(self, prepared_root: Path | str, protocol: EvalProtocol | str, max_clips: int | None = None) -> None:
        self.protocol = get_protocol(protocol) if isinstance(protocol, str) else protocol
        self.tree = open_prepared(prepared_root)
        if self.tree.dataset != self.protocol.dataset:
            raise PreparedTreeError(
                f"protocol {self.protocol.name!r} reads prepared dataset {self.protocol.dataset!r}, "
                f"but {prepared_root} holds {self.tree.dataset!r}"
            )
        manifest = self.tree.manifest
        size = (manifest["height"], manifest["width"])
        if manifest["size_override"] is None and size != (self.protocol.height, self.protocol.width):
            raise PreparedTreeError(
                f"{prepared_root} is {size[0]}x{size[1]}, protocol {self.protocol.name!r} needs "
                f"{self.protocol.height}x{self.protocol.width}; prepare again"
            )
        self.height, self.width = size
        self.split = self.tree.split(self.protocol.split)
        windows = self.split.windows
        need = self.protocol.frames_needed
        chosen = [
            i for i in range(len(windows.window_id))
            if (not self.protocol.subset or windows.subset[i] == self.protocol.subset)
        ]
        short = [windows.window_id[i] for i in chosen if windows.num_frames[i] < need]
        if short:
            raise PreparedTreeError(f"{prepared_root}: window {short[0]} has fewer than the {need} frames {self.protocol.name!r} needs")
        if max_clips is not None and max_clips < 1:  # a negative slice would drop clips from the end
            raise ValueError(f"max_clips must be >= 1 (or None: every window), got {max_clips}")
        self.indices = chosen[:max_clips] if max_clips is not None else chosen

    @property
    def clip_ids(self) -> list[str]:
        """The ids of the windows this evaluation is asked for, in order (recorded in its score file)."""
        return [str(self.split.windows.window_id[i]) for i in self.indices]

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, item: int) -> dict[str, object]:
        row = self.indices[item]
        windows, store = self.split.windows, self.split.frames
        first = int(windows.first_frame[row])
        frames = _stack_chw([store.frame(first + k) for k in range(self.protocol.frames_needed)])
        return {"clip_id": windows.window_id[row], "frames": frames}


class TrainClips(Dataset):
    def __init__(
        self,
        prepared_root: Path | str,
        clip_length: int,
        crop: int,
        augmentation: str = "paper",
        max_clips: int | None = None,
        seed: int = 0,
        split: str = "train",
    ) -> None:
        self.tree = open_prepared(prepared_root)
        self.split = self.tree.split(split)
        self.clip_length, self.crop, self.augmentation, self.seed = clip_length, crop, augmentation, seed
        self.max_stride = int(self.split.info.get("max_temporal_stride", 1))
        self.epoch = 0
        windows = self.split.windows
        eligible = [i for i in range(len(windows.window_id)) if windows.num_frames[i] >= clip_length]
        self.skipped = len(windows.window_id) - len(eligible)
        if not eligible:
            raise PreparedTreeError(f"{prepared_root}/{split}: no clip has {clip_length} frames")
        if self.skipped:
            warnings.warn(f"{prepared_root}/{split}: {self.skipped} clips shorter than {clip_length} frames are skipped", stacklevel=2)
        self.indices = eligible[:max_clips] if max_clips is not None else eligible

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.indices)

    def frame_rows(self, item: int, rng: np.random.Generator) -> np.ndarray:
        """Rows of the frames of clip ``item``: a random start and (where allowed) a random stride."""
        row = self.indices[item]
        windows = self.split.windows
        count = int(windows.num_frames[row])
        stride = int(rng.integers(1, max(1, min(self.max_stride, count // self.clip_length)) + 1))
        span = (self.clip_length - 1) * stride + 1
        start = int(rng.integers(0, count - span + 1))
        return int(windows.first_frame[row]) + start + stride * np.arange(self.clip_length)

    def __getitem__(self, item: int) -> torch.Tensor:
        rng = np.random.default_rng([self.seed, self.epoch, item])
        rows = self.frame_rows(item, rng)
        store = self.split.frames
        height, width = int(store.height[rows[0]]), int(store.width[rows[0]])
        transform = draw_transform(rng, height, width, self.crop, self.augmentation)
        crops = [store.crop(int(r), transform.top, transform.left, self.crop, self.crop) for r in rows]
        return _stack_chw([augmented_view(crop, transform) for crop in crops])


__all__ = ["EvalWindows", "TrainClips", "open_prepared", "PreparedTree", "PreparedSplit", "FRAMES_BIN"]
