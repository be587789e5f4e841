"""KITTI raw (synced + rectified): the FVS/DMVFN 24/4 drive split, stride-1 windows of 9 frames; protocol ``kitti``.

Raw layout: ``<root>/<date>/<date>_drive_<nnnn>_sync/image_0{2,3}/data/%010d.png``.
Train uses ``image_02`` and ``image_03`` of the 24 training drives (13,500 windows), test ``image_02`` of the
4 test drives (1,337 windows).

Second source format, ``dmvfn_test``: the test split distributed with the official code (its ``prepare_kitti.py``
output), ``<root>/[KITTI/]test/<n:06d>/<k:010d>.png``, 1,337 folders of 9 frames already at 832x256.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from data_prep.download import RemoteFile
from data_prep.errors import LayoutError
from data_prep.layout import (
    DMVFN_TEST, DMVFN_TEST_TEXT, SequenceSource, SplitPlan, check_numbering, find_first_dir, plan_numbered_clips,
    require_dir, sliding_windows,
)
from data_prep.registry import Dataset, EvalProtocol, SmokeData, SourceFormat, register_dataset

if TYPE_CHECKING:
    from data_prep.acquire import Acquirer
    from data_prep.smoke import Clips

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


def _plan_raw(root: Path, split: str, subset: bool) -> SplitPlan:
    # A declared subset (smoke data, a few drives) uses the split's drives that are present.
    drives = present_drives(root, split) if subset else None
    return plan(root, split, drives, check_count=not subset)


# -- acquisition: one public zip per drive --------------------------------------------------------------------------
ZIP_BASE = "https://s3.eu-central-1.amazonaws.com/avg-kitti/raw_data"
#: zip sizes known from a public download list (others are checked by the lock file only)
ZIP_BYTES = {
    "2011_09_26_drive_0060_sync": 298_725_765,
    "2011_09_26_drive_0084_sync": 1_574_584_300,
    "2011_09_26_drive_0093_sync": 1_720_308_957,
    "2011_09_26_drive_0096_sync": 2_016_323_567,
    "2011_09_29_drive_0071_sync": 4_337_332_333,
    "2011_09_26_drive_0117_sync": 2_786_458_483,
    "2011_09_26_drive_0009_sync": 1_791_264_044,
}


def drive_zip(drive: str) -> RemoteFile:
    stem = drive[: -len("_sync")]
    return RemoteFile(f"{drive}.zip", f"{ZIP_BASE}/{stem}/{drive}.zip", ZIP_BYTES.get(drive))


def acquire_drives(acq: Acquirer, drives_by_split: dict[str, tuple[str, ...]]) -> None:
    """Extract the cameras each split needs of each drive (KITTI-A uses this with its list's drives)."""
    for split, drives in drives_by_split.items():
        cameras = CAMERAS[split]
        for drive in drives:
            folder = drive_dir(acq.root, drive)
            if all((folder / cam / "data").is_dir() for cam in cameras):
                continue
            remote = drive_zip(drive)
            if acq.subset and not (acq.root / remote.name).exists():
                continue  # a declared subset uses the drives that are there
            archive = acq.archive(remote)
            wanted = tuple(f"{drive[:10]}/{drive}/{cam}/data/" for cam in cameras)
            acq.extract(archive, lambda n, wanted=wanted: n.startswith(wanted))


def acquire(acq: Acquirer) -> None:
    acquire_drives(acq, {split: drives for split, drives in (("train", TRAIN_DRIVES), ("test", TEST_DRIVES)) if acq.wants(split)})


# -- smoke data: 2 train drives (2 cameras), the 4 real test drive names, and KITTI-A's list -------------------------
def build_smoke(root: Path, clips: Clips) -> None:
    drives = (("train", TRAIN_DRIVES[0], 12), ("train", TRAIN_DRIVES[-1], 11)) + tuple(
        ("test", d, 10 + i) for i, d in enumerate(TEST_DRIVES)
    )
    for n, (split, drive, count) in enumerate(drives):
        for cam in CAMERAS[split]:
            shift = 0.1 if cam == "image_02" else 0.2
            frames = clips.cut("bikes", 20 * n, count, 188, 621, x0=shift)
            for k, image in enumerate(frames):
                clips.write_image(drive_dir(root, drive) / cam / "data" / f"{k:010d}.png", image)
    clips.write_lines(root / "kitti_a.txt", ["# smoke KITTI-A: two fast-car windows", f"{TEST_DRIVES[2]} 0", f"{TEST_DRIVES[3]} 3"])


DATASET = register_dataset(Dataset(
    "kitti", ("train", "test"), (256, 832), "raw",
    (
        SourceFormat("kitti_raw", "KITTI raw synced drives (about 1242x375 PNG, resized here)", _plan_raw,
                     lambda root: any(root.glob("2011_*/2011_*_drive_*_sync")), acquirable=True),
        SourceFormat(DMVFN_TEST, f"{DMVFN_TEST_TEXT}: test/<n>/<k:010d>.png, 9 frames at 832x256",
                     lambda root, split, subset: plan_dmvfn_test(root, split),
                     lambda root: find_first_dir(root, DMVFN_TEST_DIRS) is not None, ("test",), native_size=True),
    ),
    {"train": (13500,), "test": (1337,)},
    "KITTI raw, FVS 24/4 drive split, stride-1 windows of 9 frames at 256x832",
    protocols=(
        EvalProtocol("kitti", "kitti", 256, 832, (2, 3), (4, 5, 6, 7, 8),
                     description="KITTI test windows (1,337), frames 2,3 -> 4..8, 832x256", label="KITTI-Test"),
    ),
    acquire=acquire,
    smoke=SmokeData((176, 560), build_smoke),
))
