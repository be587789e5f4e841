"""One entry per preparable dataset: its splits, resolution, storage codec and the counts of the full set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from data_prep.layouts import cityscapes, davis, human36m, kitti, kitti_a, ucf101, ucfsports, vimeo
from data_prep.layouts.base import SplitPlan


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    splits: tuple[str, ...]
    size: tuple[int, int] | None  # (H, W) of the protocol; None: frames keep their native size
    codec: str  # "raw" (memory-mapped RGB, fastest) | "encoded" (source JPEG bytes or PNG; small)
    planner: Callable[[Path, str, bool], SplitPlan]  # (raw root, split, is_subset) -> plan
    #: accepted counts of windows per split for the full dataset (several when sources disagree)
    expected_windows: dict[str, tuple[int, ...]] = field(default_factory=dict)
    description: str = ""


def _kitti_plan(root: Path, split: str, subset: bool) -> SplitPlan:
    # A declared subset (smoke data, a few drives) uses the split's drives that are present.
    drives = kitti.present_drives(root, split) if subset else None
    return kitti.plan(root, split, drives, check_count=not subset)


def _ignoring_subset(planner: Callable[[Path, str], SplitPlan]) -> Callable[[Path, str, bool], SplitPlan]:
    return lambda root, split, subset: planner(root, split)


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "cityscapes", ("train", "test"), (512, 1024), "raw", _ignoring_subset(cityscapes.plan),
            {"train": (2975,), "test": (500,)},
            "Cityscapes leftImg8bit_sequence: 2,975 train / 500 val snippets of 30 frames at 1024x512",
        ),
        DatasetSpec(
            "kitti", ("train", "test"), (256, 832), "raw", _kitti_plan,
            {"train": (13500,), "test": (1337,)},
            "KITTI raw, FVS 24/4 drive split, stride-1 windows of 9 frames at 256x832",
        ),
        DatasetSpec(
            "ucf101", ("train",), None, "encoded", _ignoring_subset(ucf101.plan), {"train": (9537,)},
            "UCF101 jpegs_256, trainlist01 (9,537 videos), frames kept as their source JPEG bytes",
        ),
        DatasetSpec(
            "davis", ("test",), (480, 864), "raw", _ignoring_subset(davis.plan), {"test": (30,)},
            "DAVIS 2017 val, first 9 frames of 30 sequences, resized 854x480 -> 864x480 (multiple of 16)",
        ),
        DatasetSpec(
            "vimeo", ("train", "test"), (256, 448), "raw", _ignoring_subset(vimeo.plan_triplets),
            {"train": (51312, 51313), "test": (3782,)},
            "Vimeo-90K triplets (tri_trainlist / tri_testlist) at native 256x448",
        ),
        DatasetSpec(
            "vimeo_septuplet", ("test",), (256, 448), "raw", _ignoring_subset(vimeo.plan_septuplets), {"test": (7815,)},
            "Vimeo-90K septuplet test clips of the Fast (1,225) / Medium (4,977) / Slow (1,613) lists",
        ),
        DatasetSpec(
            "ucfsports", ("train", "test"), (512, 512), "raw", _ignoring_subset(ucfsports.plan),
            {"train": (6287, 6288), "test": (752,)},
            "UCF Sports, STRPM lists, 10-frame windows at 512x512",
        ),
        DatasetSpec(
            "human36m", ("train", "test"), (1024, 1024), "encoded", _ignoring_subset(human36m.plan),
            {"train": (73404,), "test": (8582,)},
            "Human3.6M, STRPM lists, 8 frames at step 5, 1024x1024 (PNG: raw would need ~3 MB per frame)",
        ),
        DatasetSpec(
            "kitti_a", ("test",), (256, 832), "raw", _ignoring_subset(kitti_a.plan), {"test": (103,)},
            "KITTI-A: the user's list of 9-frame KITTI windows with a fast car",
        ),
    )
}

#: motion subsets of the septuplet set and their sizes (Zooming Slow-Mo lists)
VIMEO_SUBSET_COUNTS = {"fast": 1225, "medium": 4977, "slow": 1613}


def get_dataset(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; choose from {sorted(DATASETS)}") from None
