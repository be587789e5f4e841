"""UCF Sports in the STRPM setting: 10-frame windows (4 context + 6 targets) from the STRPM lists.

Raw layout: the official archive's ``<root>/ucf_sports_actions/ucf action/<Class>/<NNN>/*.jpg`` (frames in
the video folder, or in its ``jpeg`` sub-folder) and the STRPM lists ``<root>/lists/{train,test}.txt``
(lines ``<prefix>/ucf_action_images/<Class>/<NNN>/,<start>``; the Windows prefix is ignored).

STRPM reads frames ``<start>.png .. <start+9>.png`` of a renamed, pre-resized copy whose renaming rule is not
published. Here frame ``k`` is the k-th image of the video folder in natural order (1-based): an
approximation of STRPM's files, written down in docs/data.md.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from data_prep.errors import LayoutError
from data_prep.layouts.base import SequenceSource, SplitPlan, WindowSpec, check_numbering, image_files, read_list, require_dir

WINDOW = 10
VIDEO_ROOT = Path("ucf_sports_actions") / "ucf action"


def parse_entry(list_path: Path, number: int, line: str) -> tuple[str, str, int]:
    """``(class, video, start)`` of one list line."""
    try:
        folder, start = line.rsplit(",", 1)
        parts = PurePosixPath(folder.replace("\\", "/").rstrip("/")).parts
        return parts[-2], parts[-1], int(start)
    except (ValueError, IndexError) as err:
        raise LayoutError(f"{list_path}:{number}: expected '<...>/<Class>/<NNN>/,<start>', got {line!r}") from err


def video_frames(root: Path, action: str, video: str) -> tuple[Path, ...]:
    folder = require_dir(root / VIDEO_ROOT / action / video, f"UCF Sports video {action}/{video}")
    frames = image_files(folder, (".jpg", ".jpeg", ".png"))
    if not frames and (folder / "jpeg").is_dir():
        frames = image_files(folder / "jpeg", (".jpg", ".jpeg", ".png"))
    if not frames:
        raise LayoutError(f"{folder}: no frames found")
    check_numbering(frames, f"UCF Sports {action}/{video}; re-extract ucf_sports_actions.zip")
    return tuple(frames)


def plan(root: Path, split: str) -> SplitPlan:
    list_path = root / "lists" / f"{split}.txt"
    sequences: dict[str, SequenceSource] = {}
    windows: list[WindowSpec] = []
    seen: dict[str, int] = {}
    for number, line in read_list(list_path, f"STRPM UCF Sports {split} list"):
        action, video, start = parse_entry(list_path, number, line)
        name = f"{action}_{video}"
        if name not in sequences:
            sequences[name] = SequenceSource(name, video_frames(root, action, video))
        count = len(sequences[name].frames)
        if start < 1 or start + WINDOW - 1 > count:
            raise LayoutError(f"{list_path}:{number}: frames {start}..{start + WINDOW - 1} do not exist in {action}/{video} ({count} frames)")
        base_id = f"{name}_{start:04d}"
        seen[base_id] = seen.get(base_id, 0) + 1
        window_id = base_id if seen[base_id] == 1 else f"{base_id}_dup{seen[base_id]}"
        windows.append(WindowSpec(window_id, name, start - 1, WINDOW))
    return SplitPlan(split, list(sequences.values()), windows, lists={f"{split}.txt": list_path})
