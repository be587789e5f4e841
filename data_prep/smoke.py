"""Mini versions of every dataset in their real raw on-disk layouts, cut from real H.264 clips.

The clips are the pinned offline assets of :mod:`vpbench.assets` (decoded with PyAV). Each registered dataset's
smoke builder (``SmokeData.build`` in ``data_prep.catalog.<dataset>``) writes a mini tree with the real folder and
file naming (and real split names such as the KITTI test drives), so the real acquisition checks, layout parsers and
preprocessing run on it; it is prepared with ``--subset`` (no full-set counts) and the size of :data:`SMOKE_SIZES`.
The result is cached under ``<out>`` with a stamp of the inputs' hashes.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable
from pathlib import Path

import av
import cv2
import numpy as np

from data_prep.integrity import directory_written_aside
from data_prep.layout import SMOKE_STAMP
from data_prep.registry import datasets
from vpbench.utils import atomic_write, sha256_file

SMOKE_VERSION = 1
_SMOKE = {name: spec.smoke for name, spec in datasets().items() if spec.smoke is not None}
#: prepared (H, W) of each dataset in smoke runs (its ``SmokeData.size``): multiples of 16 (DMVFN) with a shortest
#: side of at least 176 (MS-SSIM's 5 scales need > 160 pixels); config/smoke.yaml prepares at these sizes.
SMOKE_SIZES: dict[str, tuple[int, int]] = {name: smoke.size for name, smoke in _SMOKE.items()}
#: the folder (under the smoke output) that is each dataset's ``--root``
SMOKE_ROOTS: dict[str, str] = {name: smoke.root or name for name, smoke in _SMOKE.items()}
#: the builders of the datasets with a mini tree of their own (KITTI-A lives in KITTI's)
BUILDERS: dict[str, Callable[[Path, Clips], None]] = {name: smoke.build for name, smoke in _SMOKE.items() if smoke.build}


def decode_video(path: Path) -> np.ndarray:
    """All frames of a clip as RGB ``uint8 [N, H, W, 3]``."""
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


class Clips:
    """What a smoke builder works with: cuts short RGB sequences of a requested size out of the decoded smoke videos,
    and writes frames and list files as the published datasets hold them."""

    def __init__(self, videos: dict[str, np.ndarray]) -> None:
        self.videos = videos

    def cut(self, video: str, start: int, count: int, height: int, width: int, step: int = 1, x0: float = 0.0) -> list[np.ndarray]:
        frames = self.videos[video]
        src_h, src_w = frames.shape[1:3]
        # the widest window of the target aspect ratio, shifted by x0 (0..1) so clips differ
        crop_w = min(src_w, int(round(src_h * width / height)))
        crop_h = min(src_h, int(round(crop_w * height / width)))
        left = int((src_w - crop_w) * x0)
        out = []
        for k in range(count):
            frame = frames[(start + k * step) % len(frames)][:crop_h, left : left + crop_w]
            out.append(cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA))
        return out

    @staticmethod
    def write_image(path: Path, image: np.ndarray) -> None:
        """An RGB frame as the JPEG (quality 90) or PNG its suffix names."""
        path.parent.mkdir(parents=True, exist_ok=True)
        params = [cv2.IMWRITE_JPEG_QUALITY, 90] if path.suffix == ".jpg" else [cv2.IMWRITE_PNG_COMPRESSION, 3]
        if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params):
            raise OSError(f"cannot write {path}")

    @staticmethod
    def write_lines(path: Path, lines: list[str]) -> None:
        """A list file, one entry per line."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def _inputs_fingerprint(videos: dict[str, Path]) -> str:
    digest = hashlib.sha256(f"smoke-v{SMOKE_VERSION}".encode())
    # a change of this module or of a builder's module invalidates the cache
    sources = {Path(__file__)} | {Path(inspect.getfile(build)) for build in BUILDERS.values()}
    for source in sorted(sources):
        digest.update(source.read_bytes())
    for name, path in sorted(videos.items()):
        digest.update(f"{name}:{sha256_file(path)}".encode())
    return digest.hexdigest()


def smoke_videos() -> dict[str, Path]:
    from vpbench.assets import smoke_video

    return {name: smoke_video(name) for name in ("bigbuckbunny", "bikes", "carphone_pristine")}


def build_smoke_data(out: Path, force: bool = False) -> dict[str, Path]:
    """Build (or reuse) the mini raw trees under ``out``; return each dataset's raw root."""
    out = Path(out)
    videos = smoke_videos()
    fingerprint = _inputs_fingerprint(videos)
    stamp = out / SMOKE_STAMP
    roots = {name: out / folder for name, folder in SMOKE_ROOTS.items()}
    if not force and stamp.is_file() and json.loads(stamp.read_text()).get("inputs") == fingerprint:
        return roots
    clips = Clips({name: decode_video(path) for name, path in videos.items()})
    with directory_written_aside(out) as work:
        for name, build in BUILDERS.items():
            build(work / name, clips)
        atomic_write(work / SMOKE_STAMP, json.dumps({"inputs": fingerprint, "version": SMOKE_VERSION}, indent=2) + "\n")
    return roots
