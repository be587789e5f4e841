"""DAVIS 2017 val: the first 9 frames of each of the 30 validation sequences; protocol ``davis``.

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
from typing import TYPE_CHECKING

from data_prep.download import RemoteFile
from data_prep.errors import LayoutError, MissingInputError
from data_prep.layout import (
    DMVFN_TEST, DMVFN_TEST_TEXT, SequenceSource, SplitPlan, WindowSpec, check_numbering, image_files, read_list,
    require_dir,
)
from data_prep.registry import Dataset, EvalProtocol, SmokeData, SourceFormat, register_dataset

if TYPE_CHECKING:
    from data_prep.acquire import Acquirer
    from data_prep.smoke import Clips

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


# -- acquisition ----------------------------------------------------------------------------------------------------
TRAINVAL_480P = RemoteFile(
    "DAVIS-2017-trainval-480p.zip",
    "https://data.vision.ee.ethz.ch/csergi/share/davis/DAVIS-2017-trainval-480p.zip",
    832_766_765,
    "e3d0b5b77c3d031b000a19e0e25e3e2cac65d183755601bc2cf066df1a2aa492",
)


def acquire(acq: Acquirer) -> None:
    if (acq.root / "DAVIS" / "JPEGImages" / "480p").is_dir():
        return
    archive = acq.archive(TRAINVAL_480P)
    acq.extract(archive, lambda n: n.startswith("DAVIS/JPEGImages/480p/") or n == "DAVIS/ImageSets/2017/val.txt")


# -- smoke data: 2 sequences of 10 frames and the val list ----------------------------------------------------------
def build_smoke(root: Path, clips: Clips) -> None:
    names = ("bike-packing", "blackswan")
    for n, name in enumerate(names):
        for k, image in enumerate(clips.cut("bigbuckbunny", 30 + 45 * n, 10, 240, 427, x0=0.3 * n)):
            clips.write_image(root / "DAVIS" / "JPEGImages" / "480p" / name / f"{k:05d}.jpg", image)
    clips.write_lines(root / "DAVIS" / "ImageSets" / "2017" / "val.txt", list(names))


DATASET = register_dataset(Dataset(
    "davis", ("test",), (480, 864), "raw",
    (
        SourceFormat("davis2017", "official DAVIS-2017-trainval-480p release (854x480 JPEG, resized here)",
                     lambda root, split, subset: plan(root, split),
                     lambda root: any((root / "DAVIS" / d).is_dir() for d in OFFICIAL_FOLDERS), acquirable=True),
        SourceFormat(DMVFN_TEST, f"{DMVFN_TEST_TEXT}: DAVIS/<video>/, first 9 sorted frames",
                     lambda root, split, subset: plan_dmvfn_test(root, split), lambda root: bool(dmvfn_test_videos(root)),
                     native_size=True),
    ),
    {"test": (30,)},
    "DAVIS 2017 val, first 9 frames of 30 sequences, resized 854x480 -> 864x480 (multiple of 16)",
    protocols=(
        EvalProtocol("davis", "davis", 480, 864, (2, 3), (4, 5, 6, 7, 8),
                     description="DAVIS17-Val, first 9 frames, 2,3 -> 4..8 (the paper reports t+1 and t+3); "
                     "854x480 resized to 864x480, a multiple of 16 and the size the paper's GFLOPs match",
                     label="DAVIS17-Val"),
    ),
    acquire=acquire,
    smoke=SmokeData((176, 320), build_smoke),
))
