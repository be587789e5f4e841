"""One entry per preparable dataset: its splits, resolution, storage codec, counts of the full set, and the
published source formats it can be prepared from (each recorded in the manifest as ``source``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from data_prep.errors import LayoutError
from data_prep.layouts import cityscapes, davis, human36m, kitti, kitti_a, ucf101, ucfsports, vimeo
from data_prep.layouts.base import SplitPlan, find_first_dir

Planner = Callable[[Path, str, bool], SplitPlan]  # (raw root, split, is_subset) -> plan


@dataclass(frozen=True)
class SourceFormat:
    """One published form of a dataset that users hold, and how to read it."""

    name: str
    description: str
    planner: Planner
    detect: Callable[[Path], bool]  # is this format present under the raw root?
    splits: tuple[str, ...] | None = None  # the splits it holds (None: all of the dataset's)
    acquirable: bool = False  # the acquisition step (find/download/verify/extract archives) applies
    native_size: bool = False  # frames must already be at the target size: never resized without --size


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    splits: tuple[str, ...]
    size: tuple[int, int] | None  # (H, W) of the protocol; None: frames keep their native size
    codec: str  # "raw" (memory-mapped RGB, fastest) | "encoded" (source JPEG bytes or PNG; small)
    formats: tuple[SourceFormat, ...]  # the first is the default when nothing under the root says otherwise
    #: accepted counts of windows per split for the full dataset (several when sources disagree)
    expected_windows: dict[str, tuple[int, ...]] = field(default_factory=dict)
    description: str = ""

    def format(self, name: str) -> SourceFormat:
        for fmt in self.formats:
            if fmt.name == name:
                return fmt
        raise KeyError(f"{self.name} has no source format {name!r}; choose from {[f.name for f in self.formats]}")


def _kitti_plan(root: Path, split: str, subset: bool) -> SplitPlan:
    # A declared subset (smoke data, a few drives) uses the split's drives that are present.
    drives = kitti.present_drives(root, split) if subset else None
    return kitti.plan(root, split, drives, check_count=not subset)


def _ignoring_subset(planner: Callable[[Path, str], SplitPlan]) -> Planner:
    return lambda root, split, subset: planner(root, split)


def _single(name: str, description: str, planner: Callable[[Path, str], SplitPlan]) -> tuple[SourceFormat, ...]:
    return (SourceFormat(name, description, _ignoring_subset(planner), lambda root: True, acquirable=True),)


DMVFN_TEST = "dmvfn_test"
_DMVFN_TEST_TEXT = "the test split distributed with the official DMVFN code (its README links it)"

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "cityscapes", ("train", "test"), (512, 1024), "raw",
            (
                SourceFormat("leftImg8bit_sequence", "official leftImg8bit_sequence release (2048x1024 PNG, resized here)",
                             _ignoring_subset(cityscapes.plan),
                             lambda root: (root / "leftImg8bit_sequence").is_dir(), acquirable=True),
                SourceFormat(DMVFN_TEST, f"{_DMVFN_TEST_TEXT}: test/<n>/<k:010d>.png at 1024x512",
                             _ignoring_subset(cityscapes.plan_dmvfn_test),
                             lambda root: find_first_dir(root, cityscapes.DMVFN_TEST_DIRS) is not None, ("test",), native_size=True),
            ),
            {"train": (2975,), "test": (500,)},
            "Cityscapes leftImg8bit_sequence: 2,975 train / 500 val snippets of 30 frames at 1024x512",
        ),
        DatasetSpec(
            "kitti", ("train", "test"), (256, 832), "raw",
            (
                SourceFormat("kitti_raw", "KITTI raw synced drives (about 1242x375 PNG, resized here)", _kitti_plan,
                             lambda root: any(root.glob("2011_*/2011_*_drive_*_sync")), acquirable=True),
                SourceFormat(DMVFN_TEST, f"{_DMVFN_TEST_TEXT}: test/<n>/<k:010d>.png, 9 frames at 832x256",
                             _ignoring_subset(kitti.plan_dmvfn_test),
                             lambda root: find_first_dir(root, kitti.DMVFN_TEST_DIRS) is not None, ("test",), native_size=True),
            ),
            {"train": (13500,), "test": (1337,)},
            "KITTI raw, FVS 24/4 drive split, stride-1 windows of 9 frames at 256x832",
        ),
        DatasetSpec(
            "ucf101", ("train",), None, "encoded",
            (
                SourceFormat("jpegs_256", "two-stream-fusion jpegs_256 frames (the official code's input), JPEG bytes kept",
                             _ignoring_subset(ucf101.plan), lambda root: (root / "jpegs_256").is_dir(), acquirable=True),
                SourceFormat("ucf101_avi", "official UCF101 release UCF-101/<Class>/<video>.avi (320x240), decoded with PyAV",
                             _ignoring_subset(ucf101.plan_avi), lambda root: (root / ucf101.VIDEO_ROOT).is_dir(),
                             acquirable=True),
            ),
            {"train": (9537,)},
            "UCF101 trainlist01 (9,537 videos), frames at their native size",
        ),
        DatasetSpec(
            "davis", ("test",), (480, 864), "raw",
            (
                SourceFormat("davis2017", "official DAVIS-2017-trainval-480p release (854x480 JPEG, resized here)",
                             _ignoring_subset(davis.plan),
                             lambda root: any((root / "DAVIS" / d).is_dir() for d in davis.OFFICIAL_FOLDERS),
                             acquirable=True),
                SourceFormat(DMVFN_TEST, f"{_DMVFN_TEST_TEXT}: DAVIS/<video>/, first 9 sorted frames",
                             _ignoring_subset(davis.plan_dmvfn_test), lambda root: bool(davis.dmvfn_test_videos(root)),
                             native_size=True),
            ),
            {"test": (30,)},
            "DAVIS 2017 val, first 9 frames of 30 sequences, resized 854x480 -> 864x480 (multiple of 16)",
        ),
        DatasetSpec(
            "vimeo", ("train", "test"), (256, 448), "raw",
            (
                SourceFormat("vimeo_triplet", "official vimeo_triplet.zip with tri_trainlist / tri_testlist",
                             _ignoring_subset(vimeo.plan_triplets), lambda root: (root / "vimeo_triplet").is_dir(),
                             acquirable=True),
                SourceFormat(vimeo.INTERP_TEST, "vimeo_interp_test/target/<seq>/<clip>/ (the official test loader's input; "
                             "the authors' copy or TOFlow's vimeo_interp_test.zip)", _ignoring_subset(vimeo.plan_interp_test),
                             lambda root: (root / vimeo.INTERP_TEST / "target").is_dir(), ("test",), native_size=True),
            ),
            {"train": (51312, 51313), "test": (3782,)},
            "Vimeo-90K triplets (tri_trainlist / tri_testlist) at native 256x448",
        ),
        DatasetSpec(
            "vimeo_septuplet", ("test",), (256, 448), "raw",
            _single("vimeo_septuplet", "official septuplets (vimeo_test_clean or vimeo_septuplet) with the Zooming "
                    "Slow-Mo motion lists", vimeo.plan_septuplets),
            {"test": (7815,)},
            "Vimeo-90K septuplet test clips of the Fast (1,225) / Medium (4,977) / Slow (1,613) lists",
        ),
        DatasetSpec(
            "ucfsports", ("train", "test"), (512, 512), "raw",
            _single("strpm", "official ucf_sports_actions.zip frames with the STRPM window lists", ucfsports.plan),
            {"train": (6287, 6288), "test": (752,)},
            "UCF Sports, STRPM lists, 10-frame windows at 512x512",
        ),
        DatasetSpec(
            "human36m", ("train", "test"), (1024, 1024), "encoded",
            (
                SourceFormat("h36m_frames", "every-5th-frame JPEGs as released for STRPM/OpenSTL, with STRPM (4-field) "
                             "or OpenSTL (3-field) lists; never resized without --size",
                             _ignoring_subset(human36m.plan), lambda root: True, acquirable=True, native_size=True),
            ),
            {"train": (73404,), "test": (8582,)},
            "Human3.6M, STRPM lists, 8 frames at step 5, 1024x1024 (PNG: raw would need ~3 MB per frame)",
        ),
        DatasetSpec(
            "kitti_a", ("test",), (256, 832), "raw",
            _single("kitti_raw_list", "KITTI raw synced drives and the user's window list", kitti_a.plan),
            {"test": (103,)},
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


def choose_format(spec: DatasetSpec, root: Path, requested: str | None = None) -> SourceFormat:
    """The source format to prepare from: the one asked for, else the one found under ``root``.

    With nothing found, the default (first) format: its acquisition then downloads or says what to place.
    Several found at once is an error: which of them the user means cannot be guessed.
    """
    if requested is not None:
        try:
            return spec.format(requested)
        except KeyError as err:
            raise LayoutError(str(err.args[0])) from None
    if len(spec.formats) == 1:
        return spec.formats[0]
    found = [fmt for fmt in spec.formats if fmt.detect(Path(root))]
    if len(found) > 1:
        raise LayoutError(
            f"{root} holds several {spec.name} formats ({', '.join(f.name for f in found)}); "
            "choose one with --source"
        )
    return found[0] if found else spec.formats[0]
