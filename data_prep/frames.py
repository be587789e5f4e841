"""Reading, resizing and encoding single frames, with errors that name the file.

Frames are read with OpenCV like the official preparation scripts (``cv2.imread`` then ``cv2.resize`` with
its default INTER_LINEAR) and converted to RGB: the official scripts kept OpenCV's BGR order, the prepared
trees here are RGB (the channel order is recorded in every manifest).

Sizes are read from the image header before anything is decoded (:func:`header_size`, Pillow's ``Image.open``
reads the header only): a frame larger than :data:`MAX_FRAME_PIXELS`, or of another size than the frames before
it (``same_size_as``), is refused without paying for its decode (a 20000x20000 PNG would take gigabytes).
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from data_prep.errors import CorruptFrameError, LayoutError

# Keep OpenCV from spawning its own thread pool inside loader workers (the machine's cores belong to torch).
cv2.setNumThreads(1)


#: the largest frame decoded (about 8K UHD x 2): a larger header is refused before decoding; no dataset comes near
MAX_FRAME_PIXELS = 8192 * 8192


def header_size(data: bytes | np.ndarray) -> tuple[int, int] | None:
    """(height, width) from the image header without decoding the pixels; None when Pillow cannot tell.

    Raises :class:`FrameTooLarge` for a header beyond Pillow's own decompression-bomb limit (it does not say the size).
    """
    from PIL import Image

    raw = data if isinstance(data, bytes) else np.asarray(data, dtype=np.uint8).tobytes()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's DecompressionBombWarning: the size is judged by the caller
            with Image.open(io.BytesIO(raw)) as image:
                width, height = image.size
    except Image.DecompressionBombError as err:
        found = re.search(r"\((\d+) pixels\)", str(err))
        raise FrameTooLarge(f"{int(found.group(1)):,} pixels" if found else "more pixels than Pillow opens") from None
    except Exception:  # noqa: BLE001 - not an image Pillow knows: cv2 decides (and names a corrupt file)
        return None
    return int(height), int(width)


class FrameTooLarge(LayoutError):
    """An image header announces more pixels than a frame may have."""


def decode_frame(
    data: bytes | np.ndarray, origin: str, same_size_as: tuple[str, tuple[int, int]] | None = None, bgr: bool = False
) -> np.ndarray:
    """Decode encoded image bytes to an RGB ``uint8`` array ``[H, W, 3]``; ``origin`` names them in errors.

    ``bgr``: leave OpenCV's channel order (preprocessing converts after its resize, on a quarter of the pixels;
    INTER_LINEAR treats channels alike, so the bytes are the same).

    The header is read first: more than :data:`MAX_FRAME_PIXELS`, or a size other than ``same_size_as`` (the origin
    and (H, W) of an earlier frame of the sequence), is refused before decoding.
    """
    buffer = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data
    if buffer.size == 0:
        raise CorruptFrameError(f"{origin}: empty image (0 bytes); re-extract or re-download the archive")
    too_large = (f"more than the {MAX_FRAME_PIXELS:,} pixels a frame may have; not decoded. The raw tree is damaged "
                 "or holds a foreign file")
    try:
        size = header_size(data)
    except FrameTooLarge as err:
        raise FrameTooLarge(f"{origin}: the image header says {err}; {too_large}") from None
    if size is not None:
        if size[0] * size[1] > MAX_FRAME_PIXELS:
            raise FrameTooLarge(f"{origin}: the image header says {size[0]}x{size[1]} (HxW), {too_large}")
        if same_size_as is not None and size != same_size_as[1]:
            first_origin, (height, width) = same_size_as
            raise LayoutError(
                f"{origin}: frame is {size[0]}x{size[1]} (HxW), the other frames of its sequence are {height}x{width} "
                f"(first: {first_origin}); the raw tree is damaged or mixed (refused from the header, not decoded)"
            )
    image = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    if image is None:
        raise CorruptFrameError(f"{origin}: cannot be decoded as an image; re-extract or re-download the archive")
    return image if bgr else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_frame_bytes(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError as err:
        raise CorruptFrameError(f"{path}: frame is missing; the raw tree is incomplete (re-extract the archive)") from err


def read_frame(path: Path) -> np.ndarray:
    """RGB ``uint8`` ``[H, W, 3]`` of one image file."""
    return decode_frame(read_frame_bytes(path), str(path))


def resize_frame(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """The protocols' resize: ``cv2.resize`` with INTER_LINEAR, as the official preparation scripts."""
    if image.shape[0] == height and image.shape[1] == width:
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)


def encode_png(image: np.ndarray) -> bytes:
    """Lossless PNG bytes of an RGB frame (stored with OpenCV's fixed settings, so output is reproducible)."""
    ok, buffer = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise CorruptFrameError("cv2.imencode failed to encode a frame as PNG")
    return buffer.tobytes()


def decode_video(path: Path, bgr: bool = False) -> Iterator[np.ndarray]:
    """Every frame of a video file, in order, as RGB (``bgr``: BGR) ``uint8`` ``[H, W, 3]`` (PyAV, i.e. FFmpeg's
    decoder)."""
    import av  # only the video sources need it

    count = 0
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise CorruptFrameError(f"{path}: has no video stream; re-extract the archive")
            stream = container.streams.video[0]
            stream.thread_type = "NONE"  # frame order and bytes independent of threading
            for frame in container.decode(stream):
                count += 1
                yield frame.to_ndarray(format="bgr24" if bgr else "rgb24")
    except FileNotFoundError as err:
        raise CorruptFrameError(f"{path}: video is missing; the raw tree is incomplete") from err
    except av.FFmpegError as err:
        raise CorruptFrameError(f"{path}: cannot be decoded after {count} frames ({err}); re-extract the archive") from err
    if count == 0:
        raise CorruptFrameError(f"{path}: no frame could be decoded; re-extract the archive")


def decoder_version() -> str:
    import av

    return f"PyAV {av.__version__} (FFmpeg {'.'.join(map(str, av.library_versions.get('libavcodec', ())))} libavcodec)"
