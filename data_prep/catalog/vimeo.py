"""Vimeo-90K triplets (train/test) at their native 256x448; protocol ``vimeo`` (im1, im2 -> im3).

Triplets: ``<root>/vimeo_triplet/sequences/<nnnnn>/<nnnn>/im{1,2,3}.png`` with ``tri_trainlist.txt`` and
``tri_testlist.txt`` beside ``sequences``. The septuplet test set is :mod:`data_prep.catalog.vimeo_septuplet`.

Second triplet format, ``vimeo_interp_test`` (test split only): ``<root>/vimeo_interp_test/target/<nnnnn>/<nnnn>/``
as read by the official test loader. The distributed copy is read with im1, im2, im3 in each target clip; the
1.7 GB ``vimeo_interp_test.zip`` of TOFlow keeps im2 in ``target/`` and im1, im3 in ``input/``, which are taken
from there. Clips are all the ``<nnnnn>/<nnnn>`` folders of ``target/`` (3,782 in the full set).
"""

from __future__ import annotations

import re
from pathlib import Path

from typing import TYPE_CHECKING

from data_prep.download import RemoteFile
from data_prep.errors import LayoutError, MissingInputError
from data_prep.layout import SequenceSource, SplitPlan, WindowSpec, read_list, require_dir
from data_prep.registry import Dataset, EvalProtocol, SmokeData, SourceFormat, register_dataset

if TYPE_CHECKING:
    from data_prep.acquire import Acquirer
    from data_prep.smoke import Clips

_CLIP_ID = re.compile(r"^\d{5}/\d{4}$")
TRIPLET_LISTS = {"train": "tri_trainlist.txt", "test": "tri_testlist.txt"}


def clip_ids(list_path: Path, what: str) -> list[str]:
    ids = []
    for number, line in read_list(list_path, what):
        clip = line.split()[0]  # BasicSR's variant appends "7 (256,448,3)"
        if not _CLIP_ID.match(clip):
            raise LayoutError(f"{list_path}:{number}: expected a clip id like 00001/0001, got {line!r}")
        ids.append(clip)
    return ids


def clip_source(sequences_dir: Path, clip: str, count: int) -> SequenceSource:
    folder = sequences_dir / clip
    frames = tuple(folder / f"im{k}.png" for k in range(1, count + 1))
    for frame in frames:
        if not frame.is_file():
            raise MissingInputError(f"{frame} is missing (clip {clip}); re-extract the Vimeo-90K archive")
    return SequenceSource(clip.replace("/", "_"), frames)


def plan_triplets(root: Path, split: str) -> SplitPlan:
    base = require_dir(root / "vimeo_triplet", "Vimeo-90K triplets (extract vimeo_triplet.zip)")
    list_path = base / TRIPLET_LISTS[split]
    sequences_dir = require_dir(base / "sequences", "Vimeo-90K triplet frames")
    sequences = [clip_source(sequences_dir, c, 3) for c in clip_ids(list_path, f"Vimeo-90K {split} triplet list")]
    windows = [WindowSpec(s.name, s.name, 0, 3) for s in sequences]
    return SplitPlan(split, sequences, windows, lists={TRIPLET_LISTS[split]: list_path})


INTERP_TEST = "vimeo_interp_test"


def plan_interp_test(root: Path, split: str = "test") -> SplitPlan:
    if split != "test":
        raise LayoutError("vimeo_interp_test holds only the 'test' split")
    base = require_dir(root / INTERP_TEST / "target", "Vimeo-90K interpolation test set (vimeo_interp_test/target)")
    sequences = []
    for seq_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        for clip_dir in sorted(p for p in seq_dir.iterdir() if p.is_dir()):
            clip = f"{seq_dir.name}/{clip_dir.name}"
            if not _CLIP_ID.match(clip):
                raise LayoutError(f"{clip_dir}: expected clip folders like target/00001/0001")
            frames = []
            for k in (1, 2, 3):
                candidates = (clip_dir / f"im{k}.png", root / INTERP_TEST / "input" / clip / f"im{k}.png")
                found = next((c for c in candidates if c.is_file()), None)
                if found is None:
                    raise MissingInputError(f"{candidates[0]} is missing (clip {clip}; looked in target/ and input/)")
                frames.append(found)
            sequences.append(SequenceSource(clip.replace("/", "_"), tuple(frames)))
    if not sequences:
        raise LayoutError(f"{base}: no clip folders <nnnnn>/<nnnn>")
    windows = [WindowSpec(s.name, s.name, 0, 3) for s in sequences]
    return SplitPlan(split, sequences, windows)


# -- acquisition ----------------------------------------------------------------------------------------------------
TRIPLET_ZIP = RemoteFile("vimeo_triplet.zip", "http://data.csail.mit.edu/tofu/dataset/vimeo_triplet.zip")


def acquire(acq: Acquirer) -> None:
    if (acq.root / "vimeo_triplet" / "sequences").is_dir():
        return
    acq.extract(acq.archive(TRIPLET_ZIP))


# -- smoke data: 4 train + 3 test triplets --------------------------------------------------------------------------
def build_smoke(root: Path, clips: Clips) -> None:
    lists = {"train": ["00001/0001", "00001/0002", "00002/0001", "00003/0007"], "test": ["00004/0001", "00004/0002", "00005/0003"]}
    for n, clip in enumerate(lists["train"] + lists["test"]):
        for k, image in enumerate(clips.cut("bikes", 7 + 23 * n, 3, 256, 448, step=2, x0=0.15 * (n % 5))):
            clips.write_image(root / "vimeo_triplet" / "sequences" / clip / f"im{k + 1}.png", image)
    for split, ids in lists.items():
        clips.write_lines(root / "vimeo_triplet" / f"tri_{split}list.txt", ids)


DATASET = register_dataset(Dataset(
    "vimeo", ("train", "test"), (256, 448), "raw",
    (
        SourceFormat("vimeo_triplet", "official vimeo_triplet.zip with tri_trainlist / tri_testlist",
                     lambda root, split, subset: plan_triplets(root, split), lambda root: (root / "vimeo_triplet").is_dir(),
                     acquirable=True),
        SourceFormat(INTERP_TEST, "vimeo_interp_test/target/<seq>/<clip>/ (the official test loader's input; "
                     "the authors' copy or TOFlow's vimeo_interp_test.zip)",
                     lambda root, split, subset: plan_interp_test(root, split),
                     lambda root: (root / INTERP_TEST / "target").is_dir(), ("test",), native_size=True),
    ),
    {"train": (51312, 51313), "test": (3782,)},
    "Vimeo-90K triplets (tri_trainlist / tri_testlist) at native 256x448",
    protocols=(
        EvalProtocol("vimeo", "vimeo", 256, 448, (0, 1), (2,), description="Vimeo-90K test triplets (3,782): im1, im2 -> im3",
                     label="Vimeo90K-Test"),
    ),
    acquire=acquire,
    smoke=SmokeData((176, 320), build_smoke),
))
