"""DAVIS 2017 val: the first 9 frames of each of the 30 validation sequences.

Two source formats:

* ``davis2017`` (the official 480p release): ``<root>/DAVIS/JPEGImages/480p/<seq>/%05d.jpg`` and
  ``<root>/DAVIS/ImageSets/2017/val.txt``; frames numbered from 00000 without a gap.
* ``dmvfn_test`` (the test set distributed with the official code): ``<root>/DAVIS/<video>/`` holding frames
  that the official loader reads as the first 9 sorted files. Their names, format and resolution are not
  documented: the frames must carry consecutive numbers, and must already be at the protocol's 480x864
  unless ``--size`` says otherwise (no silent resize of the authors' frames).
"""

from __future__ import annotations

from pathlib import Path

from data_prep.errors import LayoutError, MissingInputError
from data_prep.layouts.base import SequenceSource, SplitPlan, WindowSpec, check_numbering, image_files, read_list, require_dir

FRAMES = 9
VIDEOS = 30
LIST = Path("DAVIS") / "ImageSets" / "2017" / "val.txt"
OFFICIAL_FOLDERS = ("JPEGImages", "Annotations", "ImageSets")


def plan(root: Path, split: str = "test") -> SplitPlan:
    if split != "test":
        raise LayoutError("DAVIS17-Val is an evaluation set only (split 'test')")
    list_path = root / LIST
    images = require_dir(root / "DAVIS" / "JPEGImages" / "480p", "DAVIS 480p frames")
    sequences = []
    for number, name in read_list(list_path, "DAVIS 2017 val list"):
        if "/" in name or " " in name:
            raise LayoutError(f"{list_path}:{number}: expected one sequence name per line, got {name!r}")
        frames = image_files(require_dir(images / name, f"DAVIS sequence {name} listed in {list_path}"), (".jpg",))
        check_numbering(frames, f"DAVIS sequence {name}; re-extract the DAVIS archive", first=0)
        if len(frames) < FRAMES:
            raise LayoutError(f"{images / name}: {len(frames)} frames, the protocol needs {FRAMES}")
        sequences.append(SequenceSource(name, tuple(frames[:FRAMES])))
    windows = [WindowSpec(s.name, s.name, 0, FRAMES) for s in sequences]
    return SplitPlan(split, sequences, windows, lists={"val.txt": list_path})


def dmvfn_test_videos(root: Path) -> list[Path]:
    """Video folders of the distributed test set (``<root>/DAVIS/<video>/``; empty when absent)."""
    base = root / "DAVIS"
    if not base.is_dir() or any((base / name).exists() for name in OFFICIAL_FOLDERS):
        return []  # the official release (or a part of it), not the distributed test set
    return sorted(p for p in base.iterdir() if p.is_dir())


def plan_dmvfn_test(root: Path, split: str = "test") -> SplitPlan:
    if split != "test":
        raise LayoutError("the distributed DAVIS test set holds only the 'test' split")
    videos = dmvfn_test_videos(root)
    if not videos:
        raise MissingInputError(f"no distributed DAVIS test set under {root} (expected {root}/DAVIS/<video>/ with frames)")
    sequences = []
    for folder in videos:
        frames = image_files(folder, (".jpg", ".jpeg", ".png"))
        check_numbering(frames, f"DAVIS test video {folder.name}")
        if len(frames) < FRAMES:
            raise LayoutError(f"{folder}: {len(frames)} frames, the protocol reads the first {FRAMES}")
        sequences.append(SequenceSource(folder.name, tuple(frames[:FRAMES])))
    windows = [WindowSpec(s.name, s.name, 0, FRAMES) for s in sequences]
    return SplitPlan(split, sequences, windows)
