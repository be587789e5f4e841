"""How a prepared frame is stored in ``frames.bin``: one codec per prepared tree, recorded in its manifest.

``raw``
    RGB ``uint8 [H, W, 3]`` bytes, read by memory map: a crop touches only its rows, nothing is decoded. Fastest
    to train from, the most disk (H x W x 3 bytes a frame).
``encoded``
    The source's own JPEG/PNG bytes when no resize was needed (lossless with respect to the source), otherwise a
    PNG. The least disk, but every read, even a 224 crop, decodes the whole frame.
``tiled-zstd``
    Lossless, about 0.45x raw on natural frames, and a crop decodes only the tiles it touches. The frame (padded
    at its right/bottom edge to whole tiles by repeating the last column/row) is cut into ``tile`` (H, W) tiles;
    each tile's bytes are delta-filtered along its rows (each sample minus the same channel of its left
    neighbour, modulo 256, starting fresh at the tile's left edge) and compressed as one zstd frame at ``level``.
    The payload is a little-endian ``uint32`` table of the tiles' end offsets, row-major, then the zstd frames
    back to back, so the tiles of one tile row that a crop needs are one contiguous run of zstd frames, decoded
    with one call. zstd and the delta filter are imagecodecs' (C implementations; one package, numpy only).
    The parameters were chosen by measurement on natural 1024x512 frames (docs/data.md, "Disk per codec"):
    delta filtering halves zstd's output (0.45x against 0.6x raw); 64x64 tiles decode a 224 crop about as fast
    as any other shape tried (smaller tiles add per-frame overhead, wider ones decode unused pixels); level 3 is
    a little smaller than level 1 and decodes as fast (higher levels cost much more prepare CPU for 1-3 %);
    bit-plane shuffling the residuals shrinks them to 0.41x but decodes a crop 25 % slower.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from data_prep.errors import CorruptFrameError, PreparedTreeError

RAW, ENCODED, TILED_ZSTD = "raw", "encoded", "tiled-zstd"
CODECS = (RAW, ENCODED, TILED_ZSTD)
if TYPE_CHECKING:
    import numpy as np

#: parameters of new ``tiled-zstd`` trees (a tree's own are read from its manifest)
TILED_ZSTD_DEFAULTS: dict[str, Any] = {"tile": [64, 64], "level": 3, "filter": "delta-x"}
#: suffixes whose bytes the ``encoded`` codec stores as they are when no resize is needed
PASSTHROUGH_SUFFIXES = (".jpg", ".jpeg", ".png")


def check_codec(name: str) -> str:
    if name not in CODECS:
        raise ValueError(f"unknown codec {name!r}; choose one of {', '.join(CODECS)}")
    return name


def default_params(name: str) -> dict[str, Any]:
    """The parameters a newly prepared tree of codec ``name`` records (empty for codecs without any)."""
    return dict(TILED_ZSTD_DEFAULTS) if check_codec(name) == TILED_ZSTD else {}


def _tile_grid(height: int, width: int, tile: tuple[int, int]) -> tuple[int, int]:
    return -(-height // tile[0]), -(-width // tile[1])


@dataclass(frozen=True)
class FrameCodec:
    """Encodes frames for storage and decodes whole frames or crops of them."""

    name: str
    params: dict[str, Any]

    @classmethod
    def from_manifest(cls, name: str, params: dict[str, Any] | None, where: str) -> FrameCodec:
        """The codec a prepared split records; ``where`` names the split in errors."""
        if name not in CODECS:
            raise PreparedTreeError(f"{where}: codec {name!r} is not one this code reads ({', '.join(CODECS)}); "
                                    "prepare the dataset again")
        if name == TILED_ZSTD:
            params = params or {}
            missing = [key for key in TILED_ZSTD_DEFAULTS if key not in params]
            if missing or params.get("filter") != "delta-x":
                raise PreparedTreeError(f"{where}: codec {name} needs the parameters {sorted(TILED_ZSTD_DEFAULTS)} "
                                        f"(filter delta-x) in the manifest, found {params}; prepare the dataset again")
        return cls(name, dict(params or {}))

    @property
    def tile(self) -> tuple[int, int]:
        height, width = self.params["tile"]
        return int(height), int(width)

    # -- writing ---------------------------------------------------------------------------------------------------
    def encode(self, image: np.ndarray, source_bytes: bytes | None = None, origin: str = "") -> bytes:
        """Payload of an RGB frame; ``source_bytes``: the file's own bytes when ``image`` is that file unresized."""
        if self.name == RAW:
            return image.tobytes()  # C order whatever the array's layout
        if self.name == ENCODED:
            from data_prep.frames import encode_png  # OpenCV: imported where frames are handled, not by the CLI

            if source_bytes is not None and origin.lower().endswith(PASSTHROUGH_SUFFIXES):
                return source_bytes  # lossless and as small as the source
            return encode_png(image)
        return self._encode_tiles(image)

    def _encode_tiles(self, image: np.ndarray) -> bytes:
        import imagecodecs
        import numpy as np

        tile_h, tile_w = self.tile
        rows, cols = _tile_grid(image.shape[0], image.shape[1], self.tile)
        padded = np.pad(image, ((0, rows * tile_h - image.shape[0]), (0, cols * tile_w - image.shape[1]), (0, 0)), mode="edge")
        tiles = np.ascontiguousarray(padded.reshape(rows, tile_h, cols, tile_w, 3).transpose(0, 2, 1, 3, 4))
        residuals = imagecodecs.delta_encode(tiles, axis=-2)
        level = int(self.params["level"])
        blobs = [imagecodecs.zstd_encode(residuals[r, c].tobytes(), level=level) for r in range(rows) for c in range(cols)]
        ends = np.cumsum([len(blob) for blob in blobs], dtype=np.int64)
        if ends[-1] >= 2**32:
            raise CorruptFrameError(f"a frame of {image.shape[0]}x{image.shape[1]} does not fit the tiled-zstd offset table")
        return ends.astype("<u4").tobytes() + b"".join(blobs)

    # -- reading ---------------------------------------------------------------------------------------------------
    def frame(self, data: np.ndarray, height: int, width: int, origin: str) -> np.ndarray:
        """The whole RGB frame ``[height, width, 3]`` from its payload ``data`` (a ``uint8`` buffer)."""
        if self.name == RAW:
            self._check_raw(data, height, width, origin)
            return data.reshape(height, width, 3)
        if self.name == ENCODED:
            from data_prep.frames import decode_frame

            return decode_frame(data, origin)
        return self.crop(data, height, width, 0, 0, height, width, origin)

    def crop(self, data: np.ndarray, height: int, width: int, top: int, left: int, crop_h: int, crop_w: int,
             origin: str) -> np.ndarray:
        """``[crop_h, crop_w, 3]`` at (top, left); only ``tiled-zstd`` and ``raw`` avoid decoding the whole frame."""
        if not (0 <= top and top + crop_h <= height and 0 <= left and left + crop_w <= width and crop_h > 0 and crop_w > 0):
            raise ValueError(f"{origin}: crop {crop_h}x{crop_w} at ({top}, {left}) is outside the {height}x{width} frame")
        if self.name != TILED_ZSTD:
            return self.frame(data, height, width, origin)[top : top + crop_h, left : left + crop_w]
        import imagecodecs
        import numpy as np

        runs, (r0, r1, c0, c1) = self.tile_runs(data, height, width, top, left, crop_h, crop_w, origin)
        try:
            decoded = imagecodecs.zstd_decode(b"".join(runs))
        except imagecodecs.ZstdError as err:
            raise CorruptFrameError(f"{origin}: a tile cannot be decompressed ({err}); prepare the dataset again") from err
        tile_h, tile_w = self.tile
        n_rows, n_cols = r1 - r0 + 1, c1 - c0 + 1
        expected = n_rows * n_cols * tile_h * tile_w * 3
        if len(decoded) != expected:
            raise CorruptFrameError(f"{origin}: tiles decode to {len(decoded):,} bytes, expected {expected:,}; prepare again")
        region = np.empty((n_rows * tile_h, n_cols * tile_w, 3), np.uint8)
        # the filter is undone straight into the tiles' places in the region: no separate reassembly copy
        imagecodecs.delta_decode(np.frombuffer(decoded, np.uint8).reshape(n_rows, n_cols, tile_h, tile_w, 3), axis=-2,
                                 out=region.reshape(n_rows, tile_h, n_cols, tile_w, 3).transpose(0, 2, 1, 3, 4))
        y, x = top - r0 * tile_h, left - c0 * tile_w
        return region[y : y + crop_h, x : x + crop_w]  # a view of a fresh array: the clip's tensor copies it

    def tile_runs(self, data: np.ndarray, height: int, width: int, top: int, left: int, crop_h: int, crop_w: int,
                  origin: str) -> tuple[list[np.ndarray], tuple[int, int, int, int]]:
        """``tiled-zstd``: the compressed bytes of the tiles a crop touches, one run of zstd frames per tile row,
        and the tile rows and columns they span ``(r0, r1, c0, c1)`` (the loader benchmark times their
        decompression alone)."""
        import numpy as np

        tile_h, tile_w = self.tile
        rows, cols = _tile_grid(height, width, self.tile)
        header = 4 * rows * cols
        ends = np.frombuffer(data[:header], dtype="<u4").astype(np.int64) + header if len(data) >= header else None
        if ends is None or ends[-1] != len(data):
            raise PreparedTreeError(
                f"{origin}: {len(data):,} bytes do not hold a tiled-zstd frame of {height}x{width} with {tile_h}x{tile_w} "
                "tiles (the manifest's codec does not match frames.bin, or the tree is damaged); prepare again"
            )
        starts = np.concatenate([[header], ends[:-1]])
        r0, r1 = top // tile_h, (top + crop_h - 1) // tile_h
        c0, c1 = left // tile_w, (left + crop_w - 1) // tile_w
        return [data[starts[r * cols + c0] : ends[r * cols + c1]] for r in range(r0, r1 + 1)], (r0, r1, c0, c1)

    @staticmethod
    def _check_raw(data: np.ndarray, height: int, width: int, origin: str) -> None:
        if len(data) != height * width * 3:
            raise PreparedTreeError(
                f"{origin}: {len(data):,} bytes, a raw {height}x{width} RGB frame has {height * width * 3:,} "
                "(the manifest's codec does not match frames.bin, or the tree is damaged); prepare again"
            )
