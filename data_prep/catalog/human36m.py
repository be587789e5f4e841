"""Human3.6M in the STRPM setting: 8 frames (4 context + 4 targets), every 5th frame of the released images;
protocol ``human36m``.

Raw layout (placed by the user, who holds a Human3.6M licence): frames named
``<S>_<Action>.<camera>_<frame:06d>.jpg`` in ``<root>/images/`` (or ``<root>/<S>/images/`` or ``<root>/<S>/``)
and the lists ``<root>/{train,test}.txt`` in either published format:

* STRPM, 4 fields: ``<dir>,<S>_<Action>.<camera>_,<begin>,<end>`` (``<dir>`` is the authors' own path, ignored);
* OpenSTL (``tools/prepare_data/meta/human``), 3 fields: ``images/<S>_<Action>.<camera>_,<begin>,<end>``, the
  path relative to the data root.

A window is frames ``begin, begin+5, ..., begin+35``. The frames must be at the protocol's 1024x1024 unless an
explicit ``--size`` is given (OpenSTL users often hold a 256x256 copy; it is never upsampled silently).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from typing import TYPE_CHECKING

from data_prep.download import RemoteFile, download
from data_prep.errors import LayoutError, MissingInputError
from data_prep.layout import SequenceSource, SplitPlan, WindowSpec, read_list
from data_prep.registry import Dataset, EvalProtocol, SmokeData, SourceFormat, register_dataset

if TYPE_CHECKING:
    from data_prep.acquire import Acquirer
    from data_prep.smoke import Clips

WINDOW = 8
FRAME_STEP = 5
LIST_FORMATS = {4: "strpm", 3: "openstl"}


def parse_entry(list_path: Path, number: int, line: str) -> tuple[str, str, int]:
    """``(folder relative to the root or "", prefix, begin)`` of one list line of either format."""
    parts = [p.strip() for p in line.split(",")]
    try:
        if len(parts) == 4:
            folder, prefix, begin, end = "", parts[1], int(parts[2]), int(parts[3])
        elif len(parts) == 3:
            path = PurePosixPath(parts[0].replace("\\", "/"))
            if path.is_absolute() or ".." in path.parts:
                raise ValueError
            folder, prefix, begin, end = str(path.parent) if str(path.parent) != "." else "", path.name, int(parts[1]), int(parts[2])
        else:
            raise ValueError
    except ValueError as err:
        raise LayoutError(
            f"{list_path}:{number}: expected '<dir>,<S>_<Action>.<cam>_,<begin>,<end>' (STRPM) or "
            f"'images/<S>_<Action>.<cam>_,<begin>,<end>' (OpenSTL), got {line!r}"
        ) from err
    if not prefix.endswith("_") or "_" not in prefix[:-1]:
        raise LayoutError(f"{list_path}:{number}: {prefix!r} is not a '<S>_<Action>.<cam>_' prefix")
    if end - begin < FRAME_STEP * (WINDOW - 1):
        raise LayoutError(f"{list_path}:{number}: window {begin}..{end} is shorter than {WINDOW} frames at step {FRAME_STEP}")
    return folder, prefix, begin


def list_format(list_path: Path, lines: list[tuple[int, str]]) -> str:
    """``strpm`` or ``openstl``; a list mixing both is refused (it was edited by hand)."""
    counts = {len(line.split(",")) for _, line in lines}
    if len(counts) > 1:
        raise LayoutError(f"{list_path}: mixes lines of {sorted(counts)} fields; use the published list as it is")
    return LIST_FORMATS.get(counts.pop(), "unknown") if counts else "empty"


def frame_folder(root: Path, listed: str, prefix: str, probe: int) -> Path:
    """The folder holding the frames of ``prefix``: the first candidate that holds its frame ``probe``.

    A file test per candidate, not a listing: the released ``images/`` folder holds every video's frames (about
    400,000 files for the lists' windows), and listing it once per video would take minutes.
    """
    subject = prefix.split("_", 1)[0]
    candidates = ([root / listed] if listed else []) + [root / "images", root / subject / "images", root / subject]
    name = f"{prefix}{probe:06d}.jpg"
    for folder in candidates:
        if (folder / name).is_file():
            return folder
    raise MissingInputError(
        f"{candidates[0] / name} is missing (nor is it in {root}/images, {root}/{subject}/images or {root}/{subject}): "
        "place the Human3.6M frames there (see docs/data.md)"
    )


def plan(root: Path, split: str) -> SplitPlan:
    list_path = root / f"{split}.txt"
    lines = read_list(list_path, f"Human3.6M {split} list")
    fmt = list_format(list_path, lines)
    entries = [parse_entry(list_path, n, line) for n, line in lines]
    # One stored sequence per (video, frame phase): the union of its windows' frames in order, so that every
    # window is a contiguous run of stored frames and frames shared by overlapping windows are stored once.
    needed: dict[tuple[str, str, int], set[int]] = {}
    for folder, prefix, begin in entries:
        needed.setdefault((folder, prefix, begin % FRAME_STEP), set()).update(begin + FRAME_STEP * j for j in range(WINDOW))
    sequences, position = [], {}
    folders: dict[tuple[str, str], Path] = {}
    for (listed, prefix, phase), numbers in sorted(needed.items()):
        ordered = sorted(numbers)
        if (listed, prefix) not in folders:
            folders[listed, prefix] = frame_folder(root, listed, prefix, ordered[0])
        folder = folders[listed, prefix]
        name = f"{prefix.rstrip('_')}_p{phase}"
        frames = tuple(folder / f"{prefix}{k:06d}.jpg" for k in ordered)
        missing = next((f for f in frames if not f.is_file()), None)
        if missing is not None:
            raise MissingInputError(f"{missing}: frame is missing (a window of {list_path} needs it)")
        sequences.append(SequenceSource(name, frames))
        position[name] = {k: i for i, k in enumerate(ordered)}
    windows, seen = [], set()
    for _, prefix, begin in entries:
        name = f"{prefix.rstrip('_')}_p{begin % FRAME_STEP}"
        window_id = f"{prefix.rstrip('_')}_{begin:06d}"
        if window_id in seen:
            raise LayoutError(f"{list_path}: window {prefix},{begin} is listed twice")
        seen.add(window_id)
        windows.append(WindowSpec(window_id, name, position[name][begin], WINDOW))
    return SplitPlan(split, sequences, windows, lists={f"{split}.txt": list_path}, list_formats={f"{split}.txt": fmt})


# -- acquisition: licence-walled frames are placed by the user; STRPM's test list is fetched ------------------------
TEST_LIST = RemoteFile(
    "test.txt",
    "https://raw.githubusercontent.com/ZhengChang467/STRPM/57a5f0cae48d3f5da6d540f6b6d221e1a2946a96/datasets/human3.6m/test.txt",
    None, "f643530cf180035e0a4da7b236c756b1350987512640184aa1520abcafe9adf7",
)
#: accepted sha256s of the lists for full preparations: STRPM's and OpenSTL's test list, OpenSTL's train list
#: (STRPM's is unknown)
PINNED_LISTS = {
    "test.txt": frozenset({TEST_LIST.sha256, "9b840384aa589f8d8c25867e850403bdaea8c7d0f98d72d37e8ec306efe4ec38"}),
    "train.txt": frozenset({"40bcdf3d1ab76c6cea7428524ab6ae59ab90717e0dfba6be7e0697c6db8410bb"}),
}


def acquire(acq: Acquirer) -> None:
    test_list = acq.root / "test.txt"
    if not test_list.exists() and acq.allow_download:
        download(TEST_LIST, test_list)
    missing = [p for p in (acq.root / "train.txt", test_list) if not p.is_file()]
    if missing:
        raise MissingInputError(
            f"{missing[0]} is missing: place the STRPM/OpenSTL Human3.6M lists there (train.txt: OpenSTL "
            f"tools/prepare_data/meta/human/train.txt; test.txt: {TEST_LIST.url})."
        )
    if not any(acq.root.glob("images/*.jpg")) and not any(acq.root.glob("S*/images/*.jpg")) and not any(acq.root.glob("S*/*.jpg")):
        raise MissingInputError(
            "Human3.6M frames are missing. They need your own Human3.6M licence (http://vision.imar.ro/human3.6m/); "
            f"place the frames named <S>_<Action>.<camera>_<frame:06d>.jpg (every 5th frame, as released for "
            f"STRPM/OpenSTL) in {acq.root / 'images'}/ (or {acq.root}/<S>/images/)."
        )


# -- smoke data: 2 videos, OpenSTL's train list format and STRPM's test list format ---------------------------------
def build_smoke(root: Path, clips: Clips) -> None:
    videos = ("S1_Directions.54138969_", "S1_Walking.55011271_")
    for n, prefix in enumerate(videos):
        for k, image in enumerate(clips.cut("carphone_pristine", 5 + 40 * n, 14, 250, 250, x0=0.5)):
            clips.write_image(root / "images" / f"{prefix}{1 + 5 * k:06d}.jpg", image)
    # as users hold them: OpenSTL's train list (3 fields, paths under images/) and STRPM's test list (4 fields)
    clips.write_lines(root / "train.txt", [f"images/{videos[0]},1,71", f"images/{videos[1]},11,81"])
    clips.write_lines(root / "test.txt", [f"E:/datasets/human3.6m/S1/,{videos[0]},26,96", f"E:/datasets/human3.6m/S1/,{videos[1]},1,71"])


DATASET = register_dataset(Dataset(
    "human36m", ("train", "test"), (1024, 1024), "encoded",
    (
        SourceFormat("h36m_frames", "every-5th-frame JPEGs as released for STRPM/OpenSTL, with STRPM (4-field) "
                     "or OpenSTL (3-field) lists; never resized without --size",
                     lambda root, split, subset: plan(root, split), lambda root: True, acquirable=True, native_size=True),
    ),
    {"train": (73404,), "test": (8582,)},
    "Human3.6M, STRPM lists, 8 frames at step 5, 1024x1024 (PNG: raw would need ~3 MB per frame)",
    protocols=(
        EvalProtocol("human36m", "human36m", 1024, 1024, (0, 1, 2, 3), (4, 5, 6, 7),
                     description="Human3.6M (STRPM): 4 -> 4 frames at 1024x1024; two-frame methods use frames 2,3",
                     label="Human3.6M (STRPM split)"),
    ),
    acquire=acquire,
    smoke=SmokeData((176, 176), build_smoke),
    pinned_lists=PINNED_LISTS,
))
