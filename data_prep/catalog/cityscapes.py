"""Cityscapes ``leftImg8bit_sequence``: 30-frame snippets, train -> ``train``, val -> ``test``; protocol ``cityscapes``.

Two source formats:

* ``leftImg8bit_sequence`` (the official release): ``<root>/leftImg8bit_sequence/{train,val}/<city>/
  <city>_<seq:06d>_<frame:06d>_leftImg8bit.png`` at 2048x1024. A snippet is the annotated frame -19..+10, and one
  sequence number can hold several snippets (frankfurt_000000 holds the snippets of the annotated frames 000294,
  000576, ...). Snippets are cut here as runs of consecutive frame numbers within a (city, sequence), each run cut
  into 30s in order (a run of 60 is two adjacent snippets); every run must be a multiple of 30 long, else the first
  missing frame is named. The official preparation (``prepare_city.py``) sorts a city's files and cuts them into
  chunks of 30: on a complete tree both rules give the same snippets in the same order (window i is the official
  folder i), and on an incomplete one the official chunks would silently straddle snippets. A snippet's window id
  is ``<city>_<seq>_<first frame>``. Only the split(s) asked for are read (the test split needs only ``val/``).
* ``dmvfn_test`` (the test split distributed with the official code, made by its ``prepare_city.py``):
  ``<root>/[cityscapes/]test/<n:06d>/<k:010d>.png``, 500 folders of frames already at 1024x512.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from data_prep.download import RemoteFile
from data_prep.errors import LayoutError, MissingInputError
from data_prep.layout import (
    DMVFN_TEST, DMVFN_TEST_TEXT, SequenceSource, SplitPlan, WindowSpec, find_first_dir, plan_numbered_clips,
    require_dir,
)
from data_prep.registry import Dataset, EvalProtocol, SmokeData, SourceFormat, register_dataset

if TYPE_CHECKING:
    from data_prep.acquire import Acquirer
    from data_prep.smoke import Clips

SNIPPET_LENGTH = 30
#: frames of each test snippet that are kept: the official loader reads the first 14 (4 context + 10 of FVS)
TEST_FRAMES = 14
RAW_SPLIT = {"train": "train", "test": "val"}
_NAME = re.compile(r"^(?P<city>[a-z_]+)_(?P<seq>\d{6})_(?P<frame>\d{6})_leftImg8bit\.png$")
#: where the distributed test split may sit under --root (the official README writes both spellings)
DMVFN_TEST_DIRS = ("test", "cityscapes/test", "Cityscapes/test")


def consecutive_runs(numbers: list[int]) -> list[list[int]]:
    """Sorted ``numbers`` split where a number is missing: [1, 2, 3, 7, 8] -> [[1, 2, 3], [7, 8]]."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return runs


def frame_name(city: str, seq: str, frame: int) -> str:
    return f"{city}_{seq}_{frame:06d}_leftImg8bit.png"


def sequence_snippets(city_dir: Path, city: str, seq: str, frames: dict[int, Path]) -> list[SequenceSource]:
    """The snippets of one (city, sequence): each run of consecutive frames cut into 30s, in order."""
    result = []
    for run in consecutive_runs(sorted(frames)):
        for offset in range(0, len(run), SNIPPET_LENGTH):
            numbers = run[offset : offset + SNIPPET_LENGTH]
            snippet = f"{city}_{seq}_{numbers[0]:06d}"
            if len(numbers) < SNIPPET_LENGTH:
                missing = city_dir / frame_name(city, seq, numbers[-1] + 1)
                raise LayoutError(
                    f"{missing}: frame is missing (Cityscapes snippet {snippet} has {len(numbers)} consecutive frames, "
                    f"{frames[numbers[0]].name} .. {frames[numbers[-1]].name}, a snippet has {SNIPPET_LENGTH}; if the "
                    "snippet begins earlier, its first frames are the missing ones); re-extract leftImg8bit_sequence "
                    "for this city"
                )
            result.append(SequenceSource(snippet, tuple(frames[n] for n in numbers)))
    return result


def snippets(split_dir: Path) -> list[SequenceSource]:
    """Every snippet of a split folder, cities and sequences in sorted order (the official order)."""
    result = []
    for city_dir in sorted(p for p in split_dir.iterdir() if p.is_dir()):
        sequences: dict[tuple[str, str], dict[int, Path]] = {}
        for path in city_dir.iterdir():
            if not path.name.endswith("_leftImg8bit.png"):
                continue
            match = _NAME.match(path.name)
            if match is None:
                raise LayoutError(f"{path}: unexpected file name (want <city>_<seq>_<frame>_leftImg8bit.png)")
            sequences.setdefault((match["city"], match["seq"]), {})[int(match["frame"])] = path
        for (city, seq), frames in sorted(sequences.items()):
            result.extend(sequence_snippets(city_dir, city, seq, frames))
    return result


def plan(root: Path, split: str) -> SplitPlan:
    split_dir = require_dir(root / "leftImg8bit_sequence" / RAW_SPLIT[split], f"Cityscapes {RAW_SPLIT[split]} frames")
    sequences = snippets(split_dir)
    if split == "test":  # only the frames the evaluation reads are stored
        sequences = [SequenceSource(s.name, s.frames[:TEST_FRAMES]) for s in sequences]
    windows = [WindowSpec(s.name, s.name, 0, len(s.frames)) for s in sequences]
    return SplitPlan(split, sequences, windows)


def plan_dmvfn_test(root: Path, split: str = "test") -> SplitPlan:
    return plan_numbered_clips(root, split, DMVFN_TEST_DIRS, TEST_FRAMES, "Cityscapes", "cityscapes/test/<n>/")


# -- acquisition --------------------------------------------------------------------------------------------------
SEQUENCE_ZIP = RemoteFile(
    "leftImg8bit_sequence_trainvaltest.zip",
    None,  # behind the Cityscapes login: csDownload or a user-placed file
    md5="4348961b135d856c1777f7f1098f7266",  # third-party quote; the server's md5 (csDownload) is authoritative
)


def acquire(acq: Acquirer) -> None:
    base = acq.root / "leftImg8bit_sequence"
    needed = [raw for split, raw in (("train", "train"), ("test", "val")) if acq.wants(split)]
    if all((base / raw).is_dir() for raw in needed):
        return
    remote = SEQUENCE_ZIP
    archive = acq.root / remote.name
    if not archive.exists() and acq.allow_download and shutil.which("csDownload"):
        # cityscapesscripts asks for the account interactively (or reads its stored credentials), resumes
        # with -r and checks the server's md5 itself.
        subprocess.run(["csDownload", "-r", "-d", str(acq.root), remote.name], check=True)
    if not archive.exists():
        raise MissingInputError(
            f"{archive} is missing. Cityscapes needs an account: either `pip install cityscapesscripts` and run "
            f"`csDownload -d {acq.root} {remote.name}` (it asks for your cityscapes-dataset.com login), or "
            "download leftImg8bit_sequence_trainvaltest.zip (packageID=14, 324 GB) from "
            f"https://www.cityscapes-dataset.com/downloads/ and place it at {archive}. "
            f"An already extracted {base}/{{{','.join(needed)}}} works too, and so does the test split distributed "
            "with the official DMVFN code (<root>/cityscapes/test/<n>/, see docs/data.md)."
        )
    acq.placed(remote, archive)
    prefixes = tuple(f"leftImg8bit_sequence/{raw}/" for raw in needed)
    acq.extract(archive, lambda n: n.startswith(prefixes))


# -- smoke data: 2 train + 2 val snippets of 30 frames --------------------------------------------------------------
def build_smoke(root: Path, clips: Clips) -> None:
    # train: one snippet in each of two sequences; val: two snippets in one sequence, as the release holds them
    # (annotated frames 000019 and 000119 of frankfurt_000000, like 000294 and 000576 there)
    for split, city, seqs, x0 in (("train", "aachen", (0, 1), 0.0), ("val", "frankfurt", (0, 0), 0.6)):
        for n, seq in enumerate(seqs):
            frames = clips.cut("bigbuckbunny", 5 + 40 * n + (60 if split == "val" else 0), 30, 256, 512, x0=x0)
            for k, image in enumerate(frames):
                name = frame_name(city, f"{seq:06d}", 100 * n + k)
                clips.write_image(root / "leftImg8bit_sequence" / split / city / name, image)


DATASET = register_dataset(Dataset(
    "cityscapes", ("train", "test"), (512, 1024), "raw",
    (
        SourceFormat("leftImg8bit_sequence", "official leftImg8bit_sequence release (2048x1024 PNG, resized here)",
                     lambda root, split, subset: plan(root, split),
                     lambda root: (root / "leftImg8bit_sequence").is_dir(), acquirable=True),
        SourceFormat(DMVFN_TEST, f"{DMVFN_TEST_TEXT}: test/<n>/<k:010d>.png at 1024x512",
                     lambda root, split, subset: plan_dmvfn_test(root, split),
                     lambda root: find_first_dir(root, DMVFN_TEST_DIRS) is not None, ("test",), native_size=True),
    ),
    {"train": (2975,), "test": (500,)},
    "Cityscapes leftImg8bit_sequence: 2,975 train / 500 val snippets of 30 frames at 1024x512",
    protocols=(
        EvalProtocol("cityscapes", "cityscapes", 512, 1024, (2, 3), (4, 5, 6, 7, 8),
                     description="Cityscapes val snippets, frames 2,3 -> 4..8 (t+1..t+5), 1024x512",
                     label="Cityscapes-Test"),
    ),
    acquire=acquire,
    smoke=SmokeData((176, 352), build_smoke),
))
