"""What a dataset layout parser produces: the sequences to store and the windows over them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from data_prep.errors import LayoutError, MissingInputError


@dataclass(frozen=True)
class SequenceSource:
    """Frames of one stored sequence (a video, a snippet, a drive camera), in temporal order."""

    name: str
    frames: tuple[Path, ...]


@dataclass(frozen=True)
class WindowSpec:
    """``num_frames`` frames of ``sequence`` from position ``start``: one evaluation window or training clip."""

    window_id: str
    sequence: str
    start: int
    num_frames: int
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
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise LayoutError(f"{path}: not a UTF-8 text list ({err})") from err
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.startswith("#")]


_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> list[object]:
    """Sort key treating digit runs as numbers (frame2 < frame10)."""
    return [int(part) if part.isdigit() else part for part in _DIGITS.split(name)]


def image_files(folder: Path, suffixes: tuple[str, ...] = (".png", ".jpg", ".jpeg")) -> list[Path]:
    """Image files directly in ``folder``, in natural order."""
    return sorted((p for p in folder.iterdir() if p.suffix.lower() in suffixes and p.is_file()), key=lambda p: natural_key(p.name))


def sliding_windows(sequence: SequenceSource, length: int, stride: int = 1, subset: str = "") -> list[WindowSpec]:
    """Every ``length``-frame window of ``sequence`` (FVS/DMVFN KITTI protocol: stride 1, overlapping)."""
    count = len(sequence.frames) - length + 1
    return [
        WindowSpec(f"{sequence.name}_{start:06d}", sequence.name, start, length, subset)
        for start in range(0, max(count, 0), stride)
    ]
