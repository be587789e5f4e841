"""UCF101, training videos of split 1 (``ucfTrainTestlist/trainlist01.txt``, lines ``<Class>/<video>.avi <label>``).

Two source formats:

* ``jpegs_256`` (what the official code trained on): ``<root>/jpegs_256/<video>/frame%06d.jpg``, the frames
  released with two-stream fusion (re-encoded JPEGs, 256 pixels high); stored as their own JPEG bytes.
* ``ucf101_avi`` (the official UCF101 release, ``UCF101.rar`` unpacked): ``<root>/UCF-101/<Class>/<video>.avi``
  at 320x240, every frame decoded with PyAV (FFmpeg) and stored losslessly as PNG.

Each video is one training clip source: the loader samples clip frames with a random stride in
1..min(5, n // clip_length), as the released training code.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from data_prep.errors import LayoutError
from data_prep.layouts.base import (
    SequenceSource, SplitPlan, WindowSpec, check_numbering, image_files, read_list, require_dir, require_file,
)

MAX_TEMPORAL_STRIDE = 5
LIST = Path("ucfTrainTestlist") / "trainlist01.txt"
VIDEO_ROOT = "UCF-101"


def list_entries(list_path: Path) -> list[tuple[str, str]]:
    """``(class, video name)`` of every line of the split list."""
    entries = []
    for number, line in read_list(list_path, "UCF101 split-1 training list"):
        entry = PurePosixPath(line.split()[0].replace("\\", "/"))
        if entry.suffix != ".avi" or len(entry.parts) != 2:
            raise LayoutError(f"{list_path}:{number}: expected '<Class>/<video>.avi <label>', got {line!r}")
        entries.append((entry.parts[0], entry.stem))
    return entries


def video_names(list_path: Path) -> list[str]:
    return [name for _, name in list_entries(list_path)]


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
        check_numbering(frames, f"UCF101 {name}; re-extract the jpegs_256 archive")
        sequences.append(SequenceSource(name, tuple(frames)))
    windows = [WindowSpec(s.name, s.name, 0, len(s.frames)) for s in sequences]
    return SplitPlan(split, sequences, windows, MAX_TEMPORAL_STRIDE, lists={"trainlist01.txt": list_path})


def plan_avi(root: Path, split: str = "train") -> SplitPlan:
    if split != "train":
        raise LayoutError("UCF101 is used for training only (split 'train')")
    list_path = root / LIST
    videos_root = require_dir(root / VIDEO_ROOT, "UCF101 videos (unpack UCF101.rar here)")
    sequences = []
    for action, name in list_entries(list_path):
        video = require_file(videos_root / action / f"{name}.avi", f"video listed in {list_path}")
        sequences.append(SequenceSource(name, (), video=video))
    windows = [WindowSpec(s.name, s.name, 0, None) for s in sequences]  # length known once decoded
    return SplitPlan(split, sequences, windows, MAX_TEMPORAL_STRIDE, lists={"trainlist01.txt": list_path})
