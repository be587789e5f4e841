"""KITTI raw (synced + rectified): the FVS/DMVFN 24/4 drive split, stride-1 windows of 9 frames.

Raw layout: ``<root>/<date>/<date>_drive_<nnnn>_sync/image_0{2,3}/data/%010d.png``.
Train uses ``image_02`` and ``image_03`` of the 24 training drives (13,500 windows), test ``image_02`` of the
4 test drives (1,337 windows).

Second source format, ``dmvfn_test``: the test split distributed with the official code (its ``prepare_kitti.py``
output), ``<root>/[KITTI/]test/<n:06d>/<k:010d>.png``, 1,337 folders of 9 frames already at 832x256.
"""

from __future__ import annotations

from pathlib import Path

from data_prep.errors import LayoutError
from data_prep.layouts.base import (
    SequenceSource, SplitPlan, check_numbering, plan_numbered_clips, require_dir, sliding_windows,
)

WINDOW = 9
TRAIN_DRIVES = tuple(
    [f"2011_09_26_drive_{n:04d}_sync" for n in (1, 2, 5, 9, 11, 13, 14, 17, 18, 48, 51, 56, 57, 59, 91, 95, 104, 106, 113, 117)]
    + ["2011_09_28_drive_0001_sync", "2011_09_28_drive_0002_sync", "2011_09_29_drive_0026_sync", "2011_09_29_drive_0071_sync"]
)
TEST_DRIVES = tuple(f"2011_09_26_drive_{n:04d}_sync" for n in (60, 84, 93, 96))
CAMERAS = {"train": ("image_02", "image_03"), "test": ("image_02",)}
#: synced frames per drive; they reproduce the published totals 13,500 and 1,337 exactly
FRAMES_PER_DRIVE = {
    **{f"2011_09_26_drive_{n:04d}_sync": c for n, c in (
        (1, 108), (2, 77), (5, 154), (9, 447), (11, 233), (13, 144), (14, 314), (17, 114), (18, 270), (48, 22),
        (51, 438), (56, 294), (57, 361), (59, 373), (91, 340), (95, 268), (104, 312), (106, 227), (113, 87),
        (117, 660), (60, 78), (84, 383), (93, 433), (96, 475))},
    "2011_09_28_drive_0001_sync": 106, "2011_09_28_drive_0002_sync": 376,
    "2011_09_29_drive_0026_sync": 158, "2011_09_29_drive_0071_sync": 1059,
}


def drive_dir(root: Path, drive: str) -> Path:
    return root / drive[:10] / drive


def camera_frames(root: Path, drive: str, camera: str, check_count: bool) -> SequenceSource:
    folder = require_dir(drive_dir(root, drive) / camera / "data", f"KITTI {drive} {camera} (extract {drive}.zip)")
    frames = sorted(folder.glob("*.png"))
    check_numbering(frames, f"KITTI {drive} {camera}; re-extract {drive}.zip", first=0)
    expected = FRAMES_PER_DRIVE.get(drive)
    if check_count and expected is not None and len(frames) != expected:
        raise LayoutError(f"{folder}: {len(frames)} frames, the synced drive has {expected}; re-extract {drive}.zip")
    return SequenceSource(f"{drive}_{camera}", tuple(frames))


def plan(root: Path, split: str, drives: tuple[str, ...] | None = None, check_count: bool = True) -> SplitPlan:
    chosen = drives if drives is not None else (TRAIN_DRIVES if split == "train" else TEST_DRIVES)
    sequences = [camera_frames(root, d, cam, check_count) for d in chosen for cam in CAMERAS[split]]
    windows = [w for s in sequences for w in sliding_windows(s, WINDOW)]
    dropped = [s.name for s in sequences if len(s.frames) < WINDOW]
    kept = [s for s in sequences if len(s.frames) >= WINDOW]
    return SplitPlan(split, kept, windows, dropped=dropped)


def present_drives(root: Path, split: str) -> tuple[str, ...]:
    """The split's drives found under ``root`` (a declared subset may lack some)."""
    wanted = TRAIN_DRIVES if split == "train" else TEST_DRIVES
    return tuple(d for d in wanted if drive_dir(root, d).is_dir())


DMVFN_TEST_DIRS = ("test", "KITTI/test", "kitti/test")


def plan_dmvfn_test(root: Path, split: str = "test") -> SplitPlan:
    return plan_numbered_clips(root, split, DMVFN_TEST_DIRS, WINDOW, "KITTI", "KITTI/test/<n>/")
