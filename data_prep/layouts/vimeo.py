"""Vimeo-90K: triplets (train/test) and the septuplet test set split into Fast / Medium / Slow.

Triplets: ``<root>/vimeo_triplet/sequences/<nnnnn>/<nnnn>/im{1,2,3}.png`` with ``tri_trainlist.txt`` and
``tri_testlist.txt`` beside ``sequences``. Septuplets: ``<root>/vimeo_septuplet/sequences/.../im{1..7}.png``
(``vimeo_test_clean`` is accepted as the folder name) with the motion lists ``<root>/meta_info/
{fast,medium,slow}_testset.txt`` of Zooming Slow-Mo (ids such as ``00001/0625``).

Second triplet format, ``vimeo_interp_test`` (test split only): ``<root>/vimeo_interp_test/target/<nnnnn>/<nnnn>/``
as read by the official test loader. The distributed copy is read with im1, im2, im3 in each target clip; the
1.7 GB ``vimeo_interp_test.zip`` of TOFlow keeps im2 in ``target/`` and im1, im3 in ``input/``, which are taken
from there. Clips are all the ``<nnnnn>/<nnnn>`` folders of ``target/`` (3,782 in the full set).
"""

from __future__ import annotations

import re
from pathlib import Path

from data_prep.errors import LayoutError, MissingInputError
from data_prep.layouts.base import SequenceSource, SplitPlan, WindowSpec, read_list, require_dir

_CLIP_ID = re.compile(r"^\d{5}/\d{4}$")
TRIPLET_LISTS = {"train": "tri_trainlist.txt", "test": "tri_testlist.txt"}
MOTION_SUBSETS = ("fast", "medium", "slow")
SEPTUPLET_DIRS = ("vimeo_septuplet", "vimeo_test_clean")


def clip_ids(list_path: Path, what: str) -> list[str]:
    ids = []
    for number, line in read_list(list_path, what):
        clip = line.split()[0]  # BasicSR's variant appends "7 (256,448,3)"
        if not _CLIP_ID.match(clip):
            raise LayoutError(f"{list_path}:{number}: expected a clip id like 00001/0001, got {line!r}")
        ids.append(clip)
    return ids


def _clip(sequences_dir: Path, clip: str, count: int) -> SequenceSource:
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
    sequences = [_clip(sequences_dir, c, 3) for c in clip_ids(list_path, f"Vimeo-90K {split} triplet list")]
    windows = [WindowSpec(s.name, s.name, 0, 3) for s in sequences]
    return SplitPlan(split, sequences, windows, lists={TRIPLET_LISTS[split]: list_path})


def septuplet_dir(root: Path) -> Path:
    for name in SEPTUPLET_DIRS:
        if (root / name / "sequences").is_dir():
            return root / name / "sequences"
    raise MissingInputError(
        f"no Vimeo-90K septuplets under {root}: extract vimeo_test_clean.zip (or vimeo_septuplet.zip) there "
        f"so that {root}/vimeo_septuplet/sequences/<nnnnn>/<nnnn>/im1..im7.png exist"
    )


def plan_septuplets(root: Path, split: str = "test") -> SplitPlan:
    if split != "test":
        raise LayoutError("the Vimeo-90K septuplets are used for evaluation only (split 'test')")
    sequences_dir = septuplet_dir(root)
    sequences: dict[str, SequenceSource] = {}
    windows, lists = [], {}
    for subset in MOTION_SUBSETS:
        list_path = root / "meta_info" / f"{subset}_testset.txt"
        lists[list_path.name] = list_path
        for clip in clip_ids(list_path, f"Vimeo-{subset.capitalize()} list"):
            source = sequences.setdefault(clip, _clip(sequences_dir, clip, 7))
            windows.append(WindowSpec(source.name, source.name, 0, 7, subset))
    if len({w.window_id for w in windows}) != len(windows):
        raise LayoutError(f"{root / 'meta_info'}: a clip id appears in more than one motion list")
    return SplitPlan(split, list(sequences.values()), windows, lists=lists)


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
