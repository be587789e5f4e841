"""What a dataset's layout parser produces (the sequences to store and the windows over them), and the helpers the
parsers of ``data_prep.catalog`` share: list reading, frame numbering checks, sliding windows, numbered clip folders."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from data_prep.errors import LayoutError, MissingInputError

#: the prepared tree's manifest, in ``<prepared>/<dataset>/`` (written last: its presence means the tree is whole)
MANIFEST = "manifest.json"
#: the stamp of the bundled smoke data in the raw folder (the smoke builder's inputs and version)
SMOKE_STAMP = ".smoke-stamp.json"


@dataclass(frozen=True)
class SequenceSource:
    """Frames of one stored sequence (a video, a snippet, a drive camera), in temporal order.

    Either image files (``frames``) or one video file (``video``) whose every frame is decoded in order.
    """

    name: str
    frames: tuple[Path, ...]
    video: Path | None = None


@dataclass(frozen=True)
class WindowSpec:
    """``num_frames`` frames of ``sequence`` from position ``start``: one evaluation window or training clip."""

    window_id: str
    sequence: str
    start: int
    num_frames: int | None  # None: every frame of the sequence (a video whose length is known once decoded)
    subset: str = ""


@dataclass
class SplitPlan:
    """Everything the preprocessing needs for one prepared split."""

    split: str
    sequences: list[SequenceSource]
    windows: list[WindowSpec]
    max_temporal_stride: int = 1  # >1: training clips sample a random frame stride (UCF101)
    lists: dict[str, Path] = field(default_factory=dict)  # list files used (hashed into the manifest)
    notes: list[str] = field(default_factory=list)
    #: sequences too short for one window: not stored, counted in the manifest and printed
    dropped: list[str] = field(default_factory=list)
    #: format of each list file read, e.g. {"train.txt": "openstl"} (recorded in the manifest)
    list_formats: dict[str, str] = field(default_factory=dict)


def require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise MissingInputError(f"{path} is missing ({what}); see docs/data.md for the raw layout")
    return path


def require_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise MissingInputError(f"{path} is missing ({what}); see docs/data.md for the raw layout")
    return path


def read_list(path: Path, what: str) -> list[tuple[int, str]]:
    """Non-empty, non-comment lines of a list file with their 1-based line numbers."""
    require_file(path, what)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark (Windows editors) is not part of line 1
    except UnicodeDecodeError as err:
        raise LayoutError(f"{path}: not a UTF-8 text list ({err})") from err
    # splitlines() also ends lines at CR LF (lists written on Windows, as STRPM's)
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.startswith("#")]


_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> list[object]:
    """Sort key treating digit runs as numbers (frame2 < frame10)."""
    return [int(part) if part.isdigit() else part for part in _DIGITS.split(name)]


def image_files(folder: Path, suffixes: tuple[str, ...] = (".png", ".jpg", ".jpeg")) -> list[Path]:
    """Image files directly in ``folder``, in natural order."""
    return sorted((p for p in folder.iterdir() if p.suffix.lower() in suffixes and p.is_file()), key=lambda p: natural_key(p.name))


_FRAME_NUMBER = re.compile(r"^(?P<head>.*?)(?P<digits>\d+)(?P<tail>\D*)$")


def check_numbering(frames: list[Path] | tuple[Path, ...], what: str, first: int | None = None, name_tail: str = "") -> None:
    """Frames must be numbered consecutively (the last digit run of each name); name the first missing one.

    ``first``: the number the sequence must start with (``None``: any). ``name_tail``: a fixed end of every name
    (before the suffix) that is not part of the numbering (Cityscapes' ``_leftImg8bit``). Taking "the first N
    sorted files" without this check would silently shift a window past a missing frame.
    """
    previous: tuple[str, int, int, str] | None = None  # (head, number, width, tail)
    for path in frames:
        stem = path.stem
        match = _FRAME_NUMBER.match(stem[: len(stem) - len(name_tail)]) if stem.endswith(name_tail) else None
        if match is None:
            raise LayoutError(f"{path}: frame name has no frame number ({what})")
        head, number, width = match["head"], int(match["digits"]), len(match["digits"])
        tail = match["tail"] + name_tail
        if previous is not None and (head, tail) != (previous[0], previous[3]):
            raise LayoutError(f"{path}: does not belong to the sequence of {frames[0].name} ({what})")
        expected = first if previous is None else previous[1] + 1
        if expected is not None and number != expected:
            pad = width if previous is None else previous[2]
            missing = f"{head}{expected:0{pad}d}{tail}{path.suffix}"
            found = "" if previous is None else f"after {head}{previous[1]:0{previous[2]}d}{tail}{path.suffix}, "
            raise LayoutError(f"{path.parent / missing}: frame is missing ({what}; {found}next found: {path.name})")
        previous = (head, number, width, tail)


def sliding_windows(sequence: SequenceSource, length: int, stride: int = 1, subset: str = "") -> list[WindowSpec]:
    """Every ``length``-frame window of ``sequence`` (FVS/DMVFN KITTI protocol: stride 1, overlapping)."""
    count = len(sequence.frames) - length + 1
    return [
        WindowSpec(f"{sequence.name}_{start:06d}", sequence.name, start, length, subset)
        for start in range(0, max(count, 0), stride)
    ]


# -- the test splits distributed with the official code: <root>/<dir>/<n>/ folders of numbered frames ----------
#: the source format of those splits (Cityscapes, KITTI, DAVIS), and how formats describe them
DMVFN_TEST = "dmvfn_test"
DMVFN_TEST_TEXT = "the test split distributed with the official DMVFN code (its README links it)"
_NUMBERED = re.compile(r"^\d+$")


def find_first_dir(root: Path, candidates: tuple[str, ...]) -> Path | None:
    """The first of ``candidates`` (relative to ``root``) that is a folder, if any."""
    return next((root / d for d in candidates if (root / d).is_dir()), None)


def numbered_folders(base: Path, what: str) -> list[Path]:
    """The ``<n>`` folders of an official prepared split, checked to be numbered 0, 1, 2, ... without a gap."""
    folders = sorted((p for p in base.iterdir() if p.is_dir()), key=lambda p: p.name)
    if not folders:
        raise LayoutError(f"{base}: no clip folders ({what})")
    for path in folders:
        if not _NUMBERED.match(path.name):
            raise LayoutError(f"{path}: unexpected folder name ({what} has folders named 000000, 000001, ...)")
    check_numbering(folders, what, first=0)
    return folders


def clip_frames(folder: Path, count: int, what: str, first: int | None = 0) -> tuple[Path, ...]:
    """The first ``count`` sorted frames of a clip folder (as the official loaders read them), checked."""
    frames = image_files(folder, (".png", ".jpg", ".jpeg"))
    check_numbering(frames, what, first=first)
    if len(frames) < count:
        raise LayoutError(f"{folder}: {len(frames)} frames, the protocol reads {count} ({what})")
    return tuple(frames[:count])


def plan_numbered_clips(root: Path, split: str, dirs: tuple[str, ...], frames: int, dataset: str, expected: str) -> SplitPlan:
    """One window of ``frames`` per numbered clip folder of a distributed test split (``<root>/<expected>``)."""
    if split != "test":
        raise LayoutError(f"the distributed {dataset} test split holds only the 'test' split")
    base = find_first_dir(root, dirs)
    if base is None:
        raise MissingInputError(f"no distributed {dataset} test split under {root} (expected {root}/{expected})")
    sequences = [
        SequenceSource(f"test_{f.name}", clip_frames(f, frames, f"{dataset} test clip {f.name}"))
        for f in numbered_folders(base, f"the distributed {dataset} test split")
    ]
    windows = [WindowSpec(s.name, s.name, 0, frames) for s in sequences]
    return SplitPlan(split, sequences, windows)
