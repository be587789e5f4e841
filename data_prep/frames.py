"""Reading, resizing and encoding single frames, with errors that name the file.

Frames are read with OpenCV like the official preparation scripts (``cv2.imread`` then ``cv2.resize`` with
its default INTER_LINEAR) and converted to RGB: the official scripts kept OpenCV's BGR order, the prepared
trees here are RGB (the channel order is recorded in every manifest).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from data_prep.errors import CorruptFrameError

# Keep OpenCV from spawning its own thread pool inside loader workers (the machine's cores belong to torch).
cv2.setNumThreads(1)


def decode_frame(data: bytes | np.ndarray, origin: str) -> np.ndarray:
    """Decode encoded image bytes to an RGB ``uint8`` array ``[H, W, 3]``; ``origin`` names them in errors."""
    buffer = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data
    if buffer.size == 0:
        raise CorruptFrameError(f"{origin}: empty image (0 bytes); re-extract or re-download the archive")
    image = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    if image is None:
        raise CorruptFrameError(f"{origin}: cannot be decoded as an image; re-extract or re-download the archive")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


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


def decode_video(path: Path) -> Iterator[np.ndarray]:
    """Every frame of a video file, in order, as RGB ``uint8`` ``[H, W, 3]`` (PyAV, i.e. FFmpeg's decoder)."""
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
                yield frame.to_ndarray(format="rgb24")
    except FileNotFoundError as err:
        raise CorruptFrameError(f"{path}: video is missing; the raw tree is incomplete") from err
    except av.FFmpegError as err:
        raise CorruptFrameError(f"{path}: cannot be decoded after {count} frames ({err}); re-extract the archive") from err
    if count == 0:
        raise CorruptFrameError(f"{path}: no frame could be decoded; re-extract the archive")


def decoder_version() -> str:
    import av

    return f"PyAV {av.__version__} (FFmpeg {'.'.join(map(str, av.library_versions.get('libavcodec', ())))} libavcodec)"
