"""Cityscapes ``leftImg8bit_sequence``: 30-frame snippets, train -> ``train``, val -> ``test``.

Raw layout: ``<root>/leftImg8bit_sequence/{train,val}/<city>/<city>_<seq:06d>_<frame:06d>_leftImg8bit.png``.
As in the official preparation, a city's files are sorted and cut into consecutive chunks of 30; every chunk
must be one snippet (same city and sequence number), which catches missing frames.
"""

from __future__ import annotations

import re
from pathlib import Path

from data_prep.errors import LayoutError
from data_prep.layouts.base import SequenceSource, SplitPlan, WindowSpec, require_dir

SNIPPET_LENGTH = 30
#: frames of each test snippet that are kept: the official loader reads the first 14 (4 context + 10 of FVS)
TEST_FRAMES = 14
RAW_SPLIT = {"train": "train", "test": "val"}
_NAME = re.compile(r"^(?P<city>[a-z_]+)_(?P<seq>\d{6})_(?P<frame>\d{6})_leftImg8bit\.png$")


def snippets(split_dir: Path) -> list[SequenceSource]:
    result = []
    for city_dir in sorted(p for p in split_dir.iterdir() if p.is_dir()):
        files = sorted(p for p in city_dir.iterdir() if p.name.endswith("_leftImg8bit.png"))
        if len(files) % SNIPPET_LENGTH:
            raise LayoutError(
                f"{city_dir}: {len(files)} frames, not a multiple of {SNIPPET_LENGTH}; a snippet is incomplete "
                "(re-extract leftImg8bit_sequence for this city)"
            )
        for start in range(0, len(files), SNIPPET_LENGTH):
            chunk = files[start : start + SNIPPET_LENGTH]
            keys = set()
            for path in chunk:
                match = _NAME.match(path.name)
                if match is None:
                    raise LayoutError(f"{path}: unexpected file name (want <city>_<seq>_<frame>_leftImg8bit.png)")
                keys.add((match["city"], match["seq"]))
            if len(keys) != 1:
                raise LayoutError(f"{city_dir}: frames {chunk[0].name} .. {chunk[-1].name} span several snippets; a frame is missing")
            first = _NAME.match(chunk[0].name)
            assert first is not None
            result.append(SequenceSource(f"{first['city']}_{first['seq']}_{first['frame']}", tuple(chunk)))
    return result


def plan(root: Path, split: str) -> SplitPlan:
    split_dir = require_dir(root / "leftImg8bit_sequence" / RAW_SPLIT[split], f"Cityscapes {RAW_SPLIT[split]} frames")
    sequences = snippets(split_dir)
    if split == "test":  # only the frames the evaluation reads are stored
        sequences = [SequenceSource(s.name, s.frames[:TEST_FRAMES]) for s in sequences]
    windows = [WindowSpec(s.name, s.name, 0, len(s.frames)) for s in sequences]
    return SplitPlan(split, sequences, windows)
