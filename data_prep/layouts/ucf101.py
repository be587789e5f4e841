"""UCF101 RGB frames (``jpegs_256``), training videos of split 1 (``trainlist01.txt``).

Raw layout: ``<root>/jpegs_256/<video>/frame%06d.jpg`` and ``<root>/ucfTrainTestlist/trainlist01.txt``
(lines ``<Class>/<video>.avi <label>``). Each video is one training clip source: the loader samples clip
frames with a random stride in 1..min(5, n // clip_length), as the released training code.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from data_prep.errors import LayoutError
from data_prep.layouts.base import SequenceSource, SplitPlan, WindowSpec, image_files, read_list, require_dir

MAX_TEMPORAL_STRIDE = 5
LIST = Path("ucfTrainTestlist") / "trainlist01.txt"


def video_names(list_path: Path) -> list[str]:
    names = []
    for number, line in read_list(list_path, "UCF101 split-1 training list"):
        entry = line.split()[0]
        if not entry.endswith(".avi"):
            raise LayoutError(f"{list_path}:{number}: expected '<Class>/<video>.avi <label>', got {line!r}")
        names.append(PurePosixPath(entry.replace("\\", "/")).stem)
    return names


def plan(root: Path, split: str = "train") -> SplitPlan:
    if split != "train":
        raise LayoutError("UCF101 is used for training only (split 'train')")
    list_path = root / LIST
    frames_root = require_dir(root / "jpegs_256", "UCF101 jpegs_256 frames")
    sequences = []
    for name in video_names(list_path):
        folder = require_dir(frames_root / name, f"frames of {name} listed in {list_path}")
        frames = image_files(folder, (".jpg", ".jpeg"))
        if not frames:
            raise LayoutError(f"{folder}: no frames; re-extract the jpegs_256 archive")
        sequences.append(SequenceSource(name, tuple(frames)))
    windows = [WindowSpec(s.name, s.name, 0, len(s.frames)) for s in sequences]
    return SplitPlan(split, sequences, windows, MAX_TEMPORAL_STRIDE, lists={"trainlist01.txt": list_path})
