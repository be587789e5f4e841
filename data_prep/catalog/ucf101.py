"""UCF101, training videos of split 1 (``ucfTrainTestlist/trainlist01.txt``, lines ``<Class>/<video>.avi <label>``).

Two source formats:

* ``jpegs_256`` (what the official code trained on): ``<root>/jpegs_256/<video>/frame%06d.jpg``, the frames
  released with two-stream fusion (re-encoded JPEGs, 256 pixels high); stored as their own JPEG bytes.
* ``ucf101_avi`` (the official UCF101 release, ``UCF101.rar`` unpacked): ``<root>/UCF-101/<Class>/<video>.avi``
  at 320x240, every frame decoded with PyAV (FFmpeg) and stored losslessly as PNG.

Each video is one training clip source: the loader samples clip frames with a random stride in
1..min(5, n // clip_length), as the released training code. A training set only: no protocol.
"""

from __future__ import annotations

import shutil
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from data_prep.download import RemoteFile
from data_prep.errors import LayoutError, MissingInputError
from data_prep.layout import (
    SequenceSource, SplitPlan, WindowSpec, check_numbering, image_files, read_list, require_dir, require_file,
)
from data_prep.registry import Dataset, SmokeData, SourceFormat, register_dataset
from vpbench.utils import atomic_path

if TYPE_CHECKING:
    from data_prep.acquire import Acquirer
    from data_prep.smoke import Clips

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


# -- acquisition ----------------------------------------------------------------------------------------------------
JPEG_PARTS = tuple(
    RemoteFile(f"ucf101_jpegs_256.zip.{n:03d}", f"http://ftp.tugraz.at/pub/feichtenhofer/tsfusion/data/ucf101_jpegs_256.zip.{n:03d}")
    for n in (1, 2, 3)
)
SPLITS_ZIP = RemoteFile(
    "UCF101TrainTestSplits-RecognitionTask.zip",
    "https://www.crcv.ucf.edu/data/UCF101/UCF101TrainTestSplits-RecognitionTask.zip",
    113_943,
    "5c0d1a53b8ed364a2ac830a73f405e51bece7d98ce1254fd19ed4a36b224bd27",
)


def acquire(acq: Acquirer) -> None:
    if not (acq.root / LIST).is_file():
        splits = acq.archive(SPLITS_ZIP)
        acq.extract(splits, lambda n: n == "ucfTrainTestlist/trainlist01.txt")
    if acq.source == "ucf101_avi":
        if not (acq.root / VIDEO_ROOT).is_dir():
            raise MissingInputError(
                f"{acq.root / VIDEO_ROOT} is missing: unpack the official UCF101.rar "
                "(https://www.crcv.ucf.edu/data/UCF101.php) there, e.g. `unrar x UCF101.rar`"
            )
        return
    if (acq.root / "jpegs_256").is_dir():
        return
    joined = acq.root / "ucf101_jpegs_256.zip"
    if not joined.exists():
        parts = [acq.archive(part) for part in JPEG_PARTS]
        with atomic_path(joined) as tmp, open(tmp, "wb") as out:  # the release is one zip split into three pieces
            for part in parts:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
    acq.extract(joined, lambda n: n.startswith("jpegs_256/"), parts=tuple(acq.root / p.name for p in JPEG_PARTS))


# -- smoke data: 3 videos of 30 JPEG frames and the split list ------------------------------------------------------
def build_smoke(root: Path, clips: Clips) -> None:
    videos = ("v_ApplyEyeMakeup_g08_c01", "v_Biking_g10_c02", "v_Skiing_g12_c03")
    for n, video in enumerate(videos):
        source = ("bikes", "bigbuckbunny", "bikes")[n]
        for k, image in enumerate(clips.cut(source, 40 * n, 30, 240, 320, x0=0.4 * n)):
            clips.write_image(root / "jpegs_256" / video / f"frame{k + 1:06d}.jpg", image)
    clips.write_lines(root / "ucfTrainTestlist" / "trainlist01.txt", [f"{v.split('_')[1]}/{v}.avi {i + 1}" for i, v in enumerate(videos)])


DATASET = register_dataset(Dataset(
    "ucf101", ("train",), None, "encoded",
    (
        SourceFormat("jpegs_256", "two-stream-fusion jpegs_256 frames (the official code's input), JPEG bytes kept",
                     lambda root, split, subset: plan(root, split), lambda root: (root / "jpegs_256").is_dir(),
                     acquirable=True),
        SourceFormat("ucf101_avi", "official UCF101 release UCF-101/<Class>/<video>.avi (320x240), decoded with PyAV",
                     lambda root, split, subset: plan_avi(root, split), lambda root: (root / VIDEO_ROOT).is_dir(),
                     acquirable=True),
    ),
    {"train": (9537,)},
    "UCF101 trainlist01 (9,537 videos), frames at their native size",
    acquire=acquire,
    smoke=SmokeData((176, 224), build_smoke),
))
