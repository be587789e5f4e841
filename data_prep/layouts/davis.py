"""DAVIS 2017 val (480p): the first 9 frames of each of the 30 validation sequences.

Raw layout: ``<root>/DAVIS/JPEGImages/480p/<seq>/%05d.jpg`` and ``<root>/DAVIS/ImageSets/2017/val.txt``.
"""

from __future__ import annotations

from pathlib import Path

from data_prep.errors import LayoutError
from data_prep.layouts.base import SequenceSource, SplitPlan, WindowSpec, image_files, read_list, require_dir

FRAMES = 9
LIST = Path("DAVIS") / "ImageSets" / "2017" / "val.txt"


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
        if len(frames) < FRAMES:
            raise LayoutError(f"{images / name}: {len(frames)} frames, the protocol needs {FRAMES}")
        sequences.append(SequenceSource(name, tuple(frames[:FRAMES])))
    windows = [WindowSpec(s.name, s.name, 0, FRAMES) for s in sequences]
    return SplitPlan(split, sequences, windows, lists={"val.txt": list_path})
