"""KITTI-A: the user's list of KITTI windows with a fast car (the authors' 103 sequences are not public).

List ``<root>/kitti_a.txt`` (or a path given on the command line): one window per line,
``<date>_drive_<nnnn>_sync <first frame>``, 9 frames of ``image_02`` from that frame; ``#`` starts a comment.
The frames come from the same raw KITTI tree as :mod:`data_prep.catalog.kitti` (in the smoke data too, whose
KITTI builder writes a two-line list). Protocol ``kitti_a``.
"""

from __future__ import annotations

import re
from pathlib import Path

from typing import TYPE_CHECKING

from data_prep.catalog import kitti
from data_prep.errors import LayoutError, MissingInputError
from data_prep.layout import SplitPlan, WindowSpec, read_list
from data_prep.registry import Dataset, EvalProtocol, SmokeData, SourceFormat, register_dataset

if TYPE_CHECKING:
    from data_prep.acquire import Acquirer

LIST_NAME = "kitti_a.txt"
_DRIVE = re.compile(r"^\d{4}_\d{2}_\d{2}_drive_\d{4}_sync$")


def parse_list(list_path: Path) -> list[tuple[str, int]]:
    entries = []
    for number, line in read_list(list_path, "KITTI-A window list"):
        parts = line.split()
        if len(parts) != 2 or not _DRIVE.match(parts[0]) or not parts[1].isdigit():
            raise LayoutError(f"{list_path}:{number}: expected '<date>_drive_<nnnn>_sync <first frame>', got {line!r}")
        entries.append((parts[0], int(parts[1])))
    return entries


def plan(root: Path, split: str = "test", list_path: Path | None = None) -> SplitPlan:
    list_path = list_path or root / LIST_NAME
    entries = parse_list(list_path)
    drives = tuple(sorted({drive for drive, _ in entries}))
    sequences = [kitti.camera_frames(root, d, "image_02", check_count=False) for d in drives]
    lengths = {s.name: len(s.frames) for s in sequences}
    windows = []
    for drive, start in entries:
        name = f"{drive}_image_02"
        if start + kitti.WINDOW > lengths[name]:
            raise LayoutError(f"{list_path}: window {drive} {start} runs past the drive's {lengths[name]} frames")
        windows.append(WindowSpec(f"{name}_{start:06d}", name, start, kitti.WINDOW))
    return SplitPlan(split, sequences, windows, lists={LIST_NAME: list_path})


def acquire(acq: Acquirer) -> None:
    list_path = acq.list_path or acq.root / LIST_NAME
    if not list_path.is_file():
        raise MissingInputError(
            f"{list_path} is missing. KITTI-A (103 windows with a fast car) has no public list: write one window per "
            "line as '<date>_drive_<nnnn>_sync <first frame>' (9 frames of image_02 from that frame) and place it there."
        )
    drives = tuple(sorted({d for d, _ in parse_list(list_path)}))
    kitti.acquire_drives(acq, {"test": drives})


DATASET = register_dataset(Dataset(
    "kitti_a", ("test",), (256, 832), "raw",
    (
        SourceFormat("kitti_raw_list", "KITTI raw synced drives and the user's window list",
                     lambda root, split, subset: plan(root, split), lambda root: True, acquirable=True,
                     list_planner=plan),
    ),
    {"test": (103,)},
    "KITTI-A: the user's list of 9-frame KITTI windows with a fast car",
    protocols=(
        EvalProtocol("kitti_a", "kitti_a", 256, 832, (2, 3), (4, 5, 6, 7, 8),
                     description="KITTI-A (user-supplied list of fast-car windows): 2,3 -> 4..8, for block usage",
                     label="KITTI-A (user-supplied list)"),
    ),
    acquire=acquire,
    smoke=SmokeData((176, 560), root="kitti"),  # in the smoke KITTI tree (its builder writes kitti_a.txt)
))
