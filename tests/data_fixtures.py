"""Helpers for the data tests: tiny raw trees and a local HTTP server with Range support."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np

from data_prep.synthetic import moving_shapes_video


def write_image(path: Path, image: np.ndarray) -> Path:
    """Write an RGB image (PNG or JPEG by suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path


def touch(path: Path) -> Path:
    """A 0-byte file: enough where only the listing matters (count checks)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return path


def video(num_frames: int, height: int = 32, width: int = 48, seed: int = 0) -> np.ndarray:
    frames, _ = moving_shapes_video(num_frames, height, width, seed=seed, num_shapes=2)
    return frames


def kitti_drive(root: Path, drive: str, frames: np.ndarray, cameras: tuple[str, ...] = ("image_02",)) -> None:
    for cam in cameras:
        for k, image in enumerate(frames):
            write_image(root / drive[:10] / drive / cam / "data" / f"{k:010d}.png", image)


class _Handler(BaseHTTPRequestHandler):
    payload: bytes = b""
    cut_after: int | None = None  # send only this many bytes, then close (a broken transfer)
    honour_range: bool = True
    ranges_seen: list[str] = []

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        data, start = self.payload, 0
        header = self.headers.get("Range")
        if header:
            type(self).ranges_seen.append(header)
        if header and self.honour_range:
            start = int(header.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.cut_after is not None:
            body = body[: self.cut_after]
        self.wfile.write(body)
        self.wfile.flush()
        if self.cut_after is not None:
            self.close_connection = True


@contextmanager
def http_server(payload: bytes, cut_after: int | None = None, honour_range: bool = True) -> Iterator[tuple[str, type]]:
    """Serve ``payload`` at ``http://127.0.0.1:<port>/file``; yields (url, handler class)."""
    handler = type("Handler", (_Handler,), {"payload": payload, "cut_after": cut_after, "honour_range": honour_range, "ranges_seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/file", handler
    finally:
        server.shutdown()
        server.server_close()


def tree_digest(root: Path) -> str:
    """One sha256 over every path (files and folders) and file content under ``root``: "nothing changed"."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(Path(root).rglob("*")):
        digest.update(str(path.relative_to(root)).encode() + (b"/" if path.is_dir() else b""))
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def write_video(path: Path, frames: np.ndarray, codec: str = "ffv1") -> Path:
    """An .avi of RGB ``frames`` (ffv1: lossless, so decoded frames can be compared exactly)."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=25)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "bgr0" if codec == "ffv1" else "yuv420p"
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
