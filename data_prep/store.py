"""The prepared frame store: one split = a payload file plus two memory-mapped Arrow tables.

``<split>/frames.bin``
    every frame once, back to back, in the split's codec (``data_prep.codecs``: ``raw`` memory-mapped RGB,
    ``encoded`` JPEG/PNG, ``tiled-zstd`` lossless tiles); the codec and its parameters are in the manifest.
``<split>/frames.arrow``
    one row per frame: sequence, index in its sequence, byte offset and length, height, width.
``<split>/windows.arrow``
    one row per evaluation window or training clip: window_id, sequence, first frame row, number of
    frames, subset label (e.g. Vimeo fast/medium/slow). Windows overlap freely (KITTI's stride-1 windows)
    because frames are stored once.

The Arrow files are in the IPC stream format of Hugging Face ``datasets``' cache, opened with
``datasets.Dataset.from_file`` (memory-mapped, shared by forked loader workers without copies).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from data_prep.codecs import FrameCodec, check_codec
from data_prep.errors import PreparedTreeError
from vpbench.utils import sha256_file

FRAMES_BIN = "frames.bin"
FRAMES_TABLE = "frames.arrow"
WINDOWS_TABLE = "windows.arrow"

FRAME_SCHEMA = pa.schema(
    [
        ("sequence", pa.string()),
        ("index", pa.int32()),
        ("offset", pa.int64()),
        ("nbytes", pa.int64()),
        ("height", pa.int32()),
        ("width", pa.int32()),
    ]
)
WINDOW_SCHEMA = pa.schema(
    [
        ("window_id", pa.string()),
        ("sequence", pa.string()),
        ("first_frame", pa.int64()),
        ("num_frames", pa.int32()),
        ("subset", pa.string()),
    ]
)


@dataclass
class StoredFrame:
    """A frame ready to be appended: its payload and its decoded size."""

    payload: bytes
    height: int
    width: int


def _file_entry(path: Path) -> dict[str, object]:
    return {"bytes": path.stat().st_size, "sha256": sha256_file(path)}


def _write_table(path: Path, schema: pa.Schema, columns: dict[str, list]) -> None:
    table = pa.table(columns, schema=schema)
    with pa.OSFile(str(path), "wb") as sink:
        writer = ipc.new_stream(sink, schema)
        writer.write_table(table, max_chunksize=1 << 16)
        writer.close()


@dataclass
class SplitWriter:
    """Appends sequences and windows of one split into a (fresh) folder."""

    folder: Path
    codec: str
    codec_params: dict = field(default_factory=dict)
    _frames: dict[str, list] = field(default_factory=lambda: {name: [] for name in FRAME_SCHEMA.names})
    _windows: dict[str, list] = field(default_factory=lambda: {name: [] for name in WINDOW_SCHEMA.names})
    _sequence_rows: dict[str, tuple[int, int]] = field(default_factory=dict)
    _offset: int = 0

    def __post_init__(self) -> None:
        check_codec(self.codec)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._bin = open(self.folder / FRAMES_BIN, "wb")
        self._digest = hashlib.sha256()

    def add_sequence(self, name: str, frames: Iterable[StoredFrame]) -> int:
        """Append a sequence's frames in order; return how many were written."""
        if name in self._sequence_rows:
            raise ValueError(f"sequence {name!r} was added twice")
        first = len(self._frames["sequence"])
        count = 0
        for index, frame in enumerate(frames):
            self._bin.write(frame.payload)
            self._digest.update(frame.payload)
            for key, value in zip(
                FRAME_SCHEMA.names, (name, index, self._offset, len(frame.payload), frame.height, frame.width)
            ):
                self._frames[key].append(value)
            self._offset += len(frame.payload)
            count += 1
        self._sequence_rows[name] = (first, count)
        return count

    def add_window(self, window_id: str, sequence: str, start: int, num_frames: int, subset: str = "") -> None:
        """Declare frames ``start .. start+num_frames-1`` of ``sequence`` as one window/clip."""
        first, count = self._sequence_rows[sequence]
        if start < 0 or start + num_frames > count:
            raise ValueError(f"window {window_id!r}: frames {start}..{start + num_frames - 1} not in {sequence!r} ({count} frames)")
        for key, value in zip(WINDOW_SCHEMA.names, (window_id, sequence, first + start, num_frames, subset)):
            self._windows[key].append(value)

    def close(self) -> dict[str, object]:
        """Finish the files; return the split's summary for the manifest."""
        self._bin.close()
        _write_table(self.folder / FRAMES_TABLE, FRAME_SCHEMA, self._frames)
        _write_table(self.folder / WINDOWS_TABLE, WINDOW_SCHEMA, self._windows)
        subsets: dict[str, int] = {}
        for label in self._windows["subset"]:
            if label:
                subsets[label] = subsets.get(label, 0) + 1
        return {
            "codec": self.codec,
            **({"codec_params": self.codec_params} if self.codec_params else {}),
            "sequences": len(self._sequence_rows),
            "frames": len(self._frames["sequence"]),
            "windows": len(self._windows["window_id"]),
            "subsets": dict(sorted(subsets.items())),
            "files": {
                FRAMES_BIN: {"bytes": self._offset, "sha256": self._digest.hexdigest()},
                FRAMES_TABLE: _file_entry(self.folder / FRAMES_TABLE),
                WINDOWS_TABLE: _file_entry(self.folder / WINDOWS_TABLE),
            },
        }


def load_table(path: Path):  # -> datasets.Dataset
    """Memory-map one Arrow table of a prepared split as a ``datasets.Dataset``."""
    import datasets  # heavy import, only when a tree is opened

    if not path.exists():
        raise PreparedTreeError(f"{path} is missing: the prepared tree is incomplete; run `vpbench prepare` again")
    return datasets.Dataset.from_file(str(path))


class FrameStore:
    """Random access to the frames of one prepared split (safe to use from forked loader workers)."""

    def __init__(self, folder: Path, codec: str, codec_params: dict | None = None) -> None:
        self.folder = Path(folder)
        self.codec = codec
        self._codec = FrameCodec.from_manifest(codec, codec_params, str(self.folder))
        table = load_table(self.folder / FRAMES_TABLE).data.table
        self.offset, self.nbytes, self.height, self.width = (
            table.column(name).to_numpy().astype(np.int64) for name in ("offset", "nbytes", "height", "width")
        )
        self._payload: np.ndarray | None = None  # opened lazily, once per process
        bin_path = self.folder / FRAMES_BIN
        if not bin_path.exists():
            raise PreparedTreeError(f"{bin_path} is missing: the prepared tree is incomplete; run `vpbench prepare` again")
        end = int(self.offset[-1] + self.nbytes[-1]) if len(self.offset) else 0
        if bin_path.stat().st_size != end:
            raise PreparedTreeError(
                f"{bin_path} has {bin_path.stat().st_size:,} bytes, its index expects {end:,}: "
                "the tree is damaged; run `vpbench prepare` again"
            )

    def __len__(self) -> int:
        return len(self.offset)

    def _payloads(self) -> np.ndarray:
        if self._payload is None:
            path = self.folder / FRAMES_BIN
            size = path.stat().st_size
            self._payload = np.memmap(path, dtype=np.uint8, mode="r") if size else np.zeros(0, np.uint8)
        return self._payload

    def _frame_bytes(self, row: int) -> np.ndarray:
        start, size = int(self.offset[row]), int(self.nbytes[row])
        return self._payloads()[start : start + size]

    def frame(self, row: int) -> np.ndarray:
        """RGB ``uint8`` ``[H, W, 3]`` (a read-only view for the raw codec)."""
        return self._codec.frame(self._frame_bytes(row), int(self.height[row]), int(self.width[row]),
                                 f"{self.folder / FRAMES_BIN} frame row {row}")

    def crop(self, row: int, top: int, left: int, height: int, width: int) -> np.ndarray:
        """A ``[height, width, 3]`` crop; the raw and tiled-zstd codecs read only the bytes it needs."""
        return self._codec.crop(self._frame_bytes(row), int(self.height[row]), int(self.width[row]), top, left, height,
                                width, f"{self.folder / FRAMES_BIN} frame row {row}")

    def compressed_tiles(self, row: int, top: int, left: int, height: int, width: int) -> list[np.ndarray]:
        """``tiled-zstd``: the compressed tiles :meth:`crop` decompresses for this crop, one run per tile row."""
        runs, _ = self._codec.tile_runs(self._frame_bytes(row), int(self.height[row]), int(self.width[row]), top, left,
                                        height, width, f"{self.folder / FRAMES_BIN} frame row {row}")
        return runs
