"""UCF Sports in the STRPM setting: 10-frame windows (4 context + 6 targets) from the STRPM lists; protocol ``ucfsports``.

Raw layout: the official archive's ``<root>/ucf_sports_actions/ucf action/<Class>/<NNN>/*.jpg`` (frames in
the video folder, or in its ``jpeg`` sub-folder) and the STRPM lists ``<root>/lists/{train,test}.txt``
(lines ``<prefix>/ucf_action_images/<Class>/<NNN>/,<start>``; the Windows prefix is ignored).

STRPM reads frames ``<start>.png .. <start+9>.png`` of a renamed, pre-resized copy whose renaming rule is not
published. Here frame ``k`` is the k-th image of the video folder in natural order (1-based): an
approximation of STRPM's files, written down in docs/data.md.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from typing import TYPE_CHECKING

from data_prep.download import RemoteFile, download
from data_prep.errors import LayoutError, MissingInputError
from data_prep.layout import SequenceSource, SplitPlan, WindowSpec, check_numbering, image_files, read_list, require_dir
from data_prep.registry import Dataset, EvalProtocol, SmokeData, SourceFormat, register_dataset

if TYPE_CHECKING:
    from data_prep.acquire import Acquirer
    from data_prep.smoke import Clips

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


# -- acquisition: the official zip and STRPM's lists at a pinned commit ---------------------------------------------
ZIP = RemoteFile("ucf_sports_actions.zip", "https://www.crcv.ucf.edu/data/ucf_sports_actions.zip")
_STRPM = "https://raw.githubusercontent.com/ZhengChang467/STRPM/2a4eb4441dd9b43ad201e80bf64d1ac09fc74ec6/datasets/ucfsports"
LISTS = {
    "train": RemoteFile("train.txt", f"{_STRPM}/train.txt", None, "0d45a865692488710c288dcadd4b237e1a08d8956661e30fd2b38f786801c44a"),
    "test": RemoteFile("test.txt", f"{_STRPM}/test.txt", None, "dbe77b5956e9e4f6dff02de312dea28005b2853de7a3f62b68391cde7dfa1197"),
}


def acquire(acq: Acquirer) -> None:
    for split, remote in LISTS.items():
        path = acq.root / "lists" / f"{split}.txt"
        if not path.exists():
            if not acq.allow_download:
                raise MissingInputError(f"{path} is missing: download the STRPM list from {remote.url}")
            download(remote, path)
    if (acq.root / "ucf_sports_actions" / "ucf action").is_dir():
        return
    acq.extract(acq.archive(ZIP))


# -- smoke data: 2 videos with STRPM-format lists -------------------------------------------------------------------
def build_smoke(root: Path, clips: Clips) -> None:
    videos = (("Diving-Side", "001"), ("Golf-Swing-Back", "001"))
    for n, (action, video) in enumerate(videos):
        for k, image in enumerate(clips.cut("carphone_pristine", 10 + 30 * n, 20, 240, 360, x0=0.5)):
            clips.write_image(root / VIDEO_ROOT / action / video / f"{2538 + n}-5_{70133 + k}.jpg", image)
    prefix = "E:/datasets/UCF-sport/ucf_sports_actions/ucf_action_images"
    clips.write_lines(root / "lists" / "train.txt", [f"{prefix}/Diving-Side/001/,1", f"{prefix}/Diving-Side/001/,6", f"{prefix}/Golf-Swing-Back/001/,2"])
    clips.write_lines(root / "lists" / "test.txt", [f"{prefix}/Diving-Side/001/,9", f"{prefix}/Golf-Swing-Back/001/,8"])


DATASET = register_dataset(Dataset(
    "ucfsports", ("train", "test"), (512, 512), "raw",
    (
        SourceFormat("strpm", "official ucf_sports_actions.zip frames with the STRPM window lists",
                     lambda root, split, subset: plan(root, split), lambda root: True, acquirable=True),
    ),
    {"train": (6287, 6288), "test": (752,)},
    "UCF Sports, STRPM lists, 10-frame windows at 512x512",
    protocols=(
        EvalProtocol("ucfsports", "ucfsports", 512, 512, (0, 1, 2, 3), (4, 5, 6, 7, 8, 9),
                     description="UCF Sports (STRPM): 4 -> 6 frames at 512x512; two-frame methods use frames 2,3",
                     label="UCF Sports (STRPM split)"),
    ),
    acquire=acquire,
    smoke=SmokeData((176, 176), build_smoke),
    pinned_lists={f"{split}.txt": frozenset({remote.sha256}) for split, remote in LISTS.items() if remote.sha256},
))
