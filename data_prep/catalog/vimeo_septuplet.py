"""Vimeo-90K septuplet test clips split into Fast / Medium / Slow (Fig. 5): protocols ``vimeo_fast``, ``vimeo_medium``,
``vimeo_slow`` (im1, im2 -> im3) and ``vimeo_slow_int{1,3,5}`` (Fig. 5c).

Raw layout: ``<root>/vimeo_septuplet/sequences/<nnnnn>/<nnnn>/im{1..7}.png`` (``vimeo_test_clean`` is accepted as
the folder name) with the motion lists ``<root>/meta_info/{fast,medium,slow}_testset.txt`` of Zooming Slow-Mo (ids
such as ``00001/0625``). Clip ids and frames are read as for the triplets (:mod:`data_prep.catalog.vimeo`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from data_prep.catalog import vimeo
from data_prep.download import RemoteFile, download, verify_file
from data_prep.errors import LayoutError, MissingInputError
from data_prep.layout import SequenceSource, SplitPlan, WindowSpec
from data_prep.registry import Dataset, EvalProtocol, SmokeData, SourceFormat, register_dataset

if TYPE_CHECKING:
    from data_prep.acquire import Acquirer
    from data_prep.smoke import Clips

MOTION_SUBSETS = ("fast", "medium", "slow")
#: clips of each motion list in the full set (Zooming Slow-Mo lists)
SUBSET_COUNTS = {"fast": 1225, "medium": 4977, "slow": 1613}
SEPTUPLET_DIRS = ("vimeo_septuplet", "vimeo_test_clean")


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
        for clip in vimeo.clip_ids(list_path, f"Vimeo-{subset.capitalize()} list"):
            source = sequences.setdefault(clip, vimeo.clip_source(sequences_dir, clip, 7))
            windows.append(WindowSpec(source.name, source.name, 0, 7, subset))
    if len({w.window_id for w in windows}) != len(windows):
        raise LayoutError(f"{root / 'meta_info'}: a clip id appears in more than one motion list")
    return SplitPlan(split, list(sequences.values()), windows, lists=lists)



# -- acquisition: the septuplet test archive and the motion lists at a pinned commit --------------------------------
TEST_ZIP = RemoteFile("vimeo_test_clean.zip", "http://data.csail.mit.edu/tofu/testset/vimeo_test_clean.zip")
_ZSM = "https://raw.githubusercontent.com/Mukosame/Zooming-Slow-Mo-CVPR-2020/56ece7a73d49e541c7a81ffbbcbd754c41c242d1/datasets/meta_info"
MOTION_LISTS = {
    "fast": RemoteFile("fast_testset.txt", f"{_ZSM}/fast_testset.txt", None, "c75d7382228728c460f041eee220f4c9ba4444507a461203ab4b3cc2721853e2"),
    "medium": RemoteFile("medium_testset.txt", f"{_ZSM}/medium_testset.txt", None, "c89afd293f5112f4f94d779abf033b37459fcfe80941ef2413920e9d30c88a4f"),
    "slow": RemoteFile("slow_testset.txt", f"{_ZSM}/slow_testset.txt", None, "d14019e575a5367a2391621cab8dfdb34fc39cfcc3aa2ea1d75dff0ebb27cab7"),
}


def acquire(acq: Acquirer) -> None:
    for remote in MOTION_LISTS.values():
        path = acq.root / "meta_info" / remote.name
        if path.exists() and acq.subset:
            continue  # a shortened list is allowed for a declared subset
        if path.exists():
            verify_file(path, remote)
        elif acq.allow_download:
            download(remote, path)
        else:
            raise MissingInputError(f"{path} is missing: download it from {remote.url}")
    if any((acq.root / name / "sequences").is_dir() for name in SEPTUPLET_DIRS):
        return
    acq.extract(acq.archive(TEST_ZIP))


# -- smoke data: 5 septuplets in the three motion lists -------------------------------------------------------------
def build_smoke(root: Path, clips: Clips) -> None:
    subsets = {"fast": ["00001/0625", "00002/0010"], "medium": ["00003/0100"], "slow": ["00004/0200", "00005/0300"]}
    step = {"fast": 4, "medium": 2, "slow": 1}  # temporal subsampling mimics the motion classes
    n = 0
    for subset, ids in subsets.items():
        for clip in ids:
            for k, image in enumerate(clips.cut("bigbuckbunny", 3 + 17 * n, 7, 256, 448, step=step[subset], x0=0.1 * n)):
                clips.write_image(root / "vimeo_septuplet" / "sequences" / clip / f"im{k + 1}.png", image)
            n += 1
        clips.write_lines(root / "meta_info" / f"{subset}_testset.txt", ids)


# -- protocols ------------------------------------------------------------------------------------------------------
def _motion(subset: str) -> EvalProtocol:
    return EvalProtocol(f"vimeo_{subset}", "vimeo_septuplet", 256, 448, (0, 1), (2,),
                        description=f"Fig. 5a/b: Vimeo-{subset.capitalize()} septuplets, im1, im2 -> im3", subset=subset,
                        label=f"Vimeo-{subset.capitalize()}")


def _interval(k: int) -> EvalProtocol:
    target = 2 * k  # im(1+2k) as a 0-based index
    return EvalProtocol(
        f"vimeo_slow_int{k}", "vimeo_septuplet", 256, 448, (0, k), (target,) if target <= 6 else (),
        description=(
            f"Fig. 5c: Vimeo-Slow septuplets, inputs im1 and im{1 + k} (interval {k}); "
            + (f"target im{1 + target}" if target <= 6 else f"im{1 + target} does not exist: routing statistics only")
        ),
        subset="slow",
        label=f"Vimeo-Slow (interval {k})",
    )


DATASET = register_dataset(Dataset(
    "vimeo_septuplet", ("test",), (256, 448), "raw",
    (
        SourceFormat("vimeo_septuplet", "official septuplets (vimeo_test_clean or vimeo_septuplet) with the Zooming "
                     "Slow-Mo motion lists", lambda root, split, subset: plan_septuplets(root, split), lambda root: True,
                     acquirable=True),
    ),
    {"test": (7815,)},
    "Vimeo-90K septuplet test clips of the Fast (1,225) / Medium (4,977) / Slow (1,613) lists",
    protocols=tuple(_motion(s) for s in MOTION_SUBSETS) + tuple(_interval(k) for k in (1, 3, 5)),
    acquire=acquire,
    smoke=SmokeData((176, 320), build_smoke),
    pinned_lists={remote.name: frozenset({remote.sha256}) for remote in MOTION_LISTS.values() if remote.sha256},
    expected_subsets=SUBSET_COUNTS,
))
