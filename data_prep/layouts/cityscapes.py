"""Cityscapes ``leftImg8bit_sequence``: 30-frame snippets, train -> ``train``, val -> ``test``.

Two source formats:

* ``leftImg8bit_sequence`` (the official release): ``<root>/leftImg8bit_sequence/{train,val}/<city>/
  <city>_<seq:06d>_<frame:06d>_leftImg8bit.png`` at 2048x1024. The official preparation sorts a city's files and
  cuts them into chunks of 30; here files are grouped by (city, sequence) and each group must hold 30
  consecutively numbered frames, which gives the same snippets on a complete tree and names the first missing
  frame on an incomplete one. Only the split(s) asked for are read (the test split needs only ``val/``).
* ``dmvfn_test`` (the test split distributed with the official code, made by its ``prepare_city.py``):
  ``<root>/[cityscapes/]test/<n:06d>/<k:010d>.png``, 500 folders of frames already at 1024x512.
"""

from __future__ import annotations

import re
from pathlib import Path

from data_prep.errors import LayoutError
from data_prep.layouts.base import (
    SequenceSource, SplitPlan, WindowSpec, check_numbering, plan_numbered_clips, require_dir,
)

SNIPPET_LENGTH = 30
#: frames of each test snippet that are kept: the official loader reads the first 14 (4 context + 10 of FVS)
TEST_FRAMES = 14
RAW_SPLIT = {"train": "train", "test": "val"}
_NAME = re.compile(r"^(?P<city>[a-z_]+)_(?P<seq>\d{6})_(?P<frame>\d{6})_leftImg8bit\.png$")
#: where the distributed test split may sit under --root (the official README writes both spellings)
DMVFN_TEST_DIRS = ("test", "cityscapes/test", "Cityscapes/test")


def snippets(split_dir: Path) -> list[SequenceSource]:
    result = []
    for city_dir in sorted(p for p in split_dir.iterdir() if p.is_dir()):
        groups: dict[str, list[Path]] = {}
        for path in sorted(city_dir.iterdir()):
            if not path.name.endswith("_leftImg8bit.png"):
                continue
            match = _NAME.match(path.name)
            if match is None:
                raise LayoutError(f"{path}: unexpected file name (want <city>_<seq>_<frame>_leftImg8bit.png)")
            groups.setdefault(f"{match['city']}_{match['seq']}", []).append(path)
        for key, frames in groups.items():
            check_numbering(frames, f"Cityscapes snippet {key}", name_tail="_leftImg8bit")
            if len(frames) != SNIPPET_LENGTH:
                raise LayoutError(
                    f"{city_dir}: snippet {key} has {len(frames)} frames ({frames[0].name} .. {frames[-1].name}), "
                    f"not {SNIPPET_LENGTH}; re-extract leftImg8bit_sequence for this city"
                )
            first = _NAME.match(frames[0].name)
            assert first is not None
            result.append(SequenceSource(f"{first['city']}_{first['seq']}_{first['frame']}", tuple(frames)))
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
