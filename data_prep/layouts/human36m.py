"""Human3.6M in the STRPM setting: 8 frames (4 context + 4 targets), every 5th frame of the released images.

Raw layout (placed by the user, who holds a Human3.6M licence): frames named
``<S>_<Action>.<camera>_<frame:06d>.jpg`` in ``<root>/images/`` (or ``<root>/<S>/images/`` or ``<root>/<S>/``)
and the lists ``<root>/{train,test}.txt`` with lines ``<dir>,<S>_<Action>.<camera>_,<begin>,<end>`` (STRPM or
OpenSTL). A window is frames ``begin, begin+5, ..., begin+35``.
"""

from __future__ import annotations

from pathlib import Path

from data_prep.errors import LayoutError, MissingInputError
from data_prep.layouts.base import SequenceSource, SplitPlan, WindowSpec, read_list

WINDOW = 8
FRAME_STEP = 5


def parse_entry(list_path: Path, number: int, line: str) -> tuple[str, int]:
    parts = line.split(",")
    try:
        if len(parts) != 4:
            raise ValueError
        prefix, begin, end = parts[1], int(parts[2]), int(parts[3])
    except ValueError as err:
        raise LayoutError(f"{list_path}:{number}: expected '<dir>,<S>_<Action>.<cam>_,<begin>,<end>', got {line!r}") from err
    if not prefix.endswith("_") or "_" not in prefix[:-1]:
        raise LayoutError(f"{list_path}:{number}: {prefix!r} is not a '<S>_<Action>.<cam>_' prefix")
    if end - begin < FRAME_STEP * (WINDOW - 1):
        raise LayoutError(f"{list_path}:{number}: window {begin}..{end} is shorter than {WINDOW} frames at step {FRAME_STEP}")
    return prefix, begin


def frame_folder(root: Path, prefix: str) -> Path:
    subject = prefix.split("_", 1)[0]
    for folder in (root / "images", root / subject / "images", root / subject):
        if folder.is_dir() and any(folder.glob(f"{prefix}*.jpg")):
            return folder
    raise MissingInputError(
        f"no frames {prefix}<frame:06d>.jpg under {root}/images (or {root}/{subject}/images): place the Human3.6M "
        "frames there (see docs/data.md)"
    )


def plan(root: Path, split: str) -> SplitPlan:
    list_path = root / f"{split}.txt"
    entries = [parse_entry(list_path, n, line) for n, line in read_list(list_path, f"Human3.6M {split} list")]
    # One stored sequence per (video, frame phase): the union of its windows' frames in order, so that every
    # window is a contiguous run of stored frames and frames shared by overlapping windows are stored once.
    needed: dict[tuple[str, int], set[int]] = {}
    for prefix, begin in entries:
        needed.setdefault((prefix, begin % FRAME_STEP), set()).update(begin + FRAME_STEP * j for j in range(WINDOW))
    sequences, position = [], {}
    folders: dict[str, Path] = {}
    for (prefix, phase), numbers in sorted(needed.items()):
        folder = folders.setdefault(prefix, frame_folder(root, prefix))
        ordered = sorted(numbers)
        name = f"{prefix.rstrip('_')}_p{phase}"
        sequences.append(SequenceSource(name, tuple(folder / f"{prefix}{k:06d}.jpg" for k in ordered)))
        position[name] = {k: i for i, k in enumerate(ordered)}
    windows, seen = [], set()
    for prefix, begin in entries:
        name = f"{prefix.rstrip('_')}_p{begin % FRAME_STEP}"
        window_id = f"{prefix.rstrip('_')}_{begin:06d}"
        if window_id in seen:
            raise LayoutError(f"{list_path}: window {prefix},{begin} is listed twice")
        seen.add(window_id)
        windows.append(WindowSpec(window_id, name, position[name][begin], WINDOW))
    return SplitPlan(split, sequences, windows, lists={f"{split}.txt": list_path})
