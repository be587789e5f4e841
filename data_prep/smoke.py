"""Mini versions of every dataset in their real raw on-disk layouts, cut from real H.264 clips.

The clips are the pinned offline assets of :mod:`vpbench.assets` (decoded with PyAV). Each mini tree has the
real folder and file naming (and real split names such as the KITTI test drives), so the real acquisition
checks, layout parsers and preprocessing run on it; it is prepared with ``--subset`` (no full-set counts)
and the size of :data:`SMOKE_SIZES`. The result is cached under ``<out>`` with a stamp of the inputs' hashes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import av
import cv2
import numpy as np

from data_prep.integrity import directory_written_aside, sha256_file, write_text_atomic
from data_prep.layouts import kitti

SMOKE_VERSION = 1
#: prepared (H, W) of each dataset in smoke runs: multiples of 16 (DMVFN) with a shortest side of at least
#: 176 (MS-SSIM's 5 scales need > 160 pixels); the pipeline's smoke config refers to this dict.
SMOKE_SIZES: dict[str, tuple[int, int]] = {
    "cityscapes": (176, 352),
    "kitti": (176, 560),
    "kitti_a": (176, 560),
    "davis": (176, 320),
    "vimeo": (176, 320),
    "vimeo_septuplet": (176, 320),
    "ucf101": (176, 224),
    "ucfsports": (176, 176),
    "human36m": (176, 176),
}
#: the folder (under the smoke output) that is each dataset's ``--root``
SMOKE_ROOTS: dict[str, str] = {name: name for name in SMOKE_SIZES} | {"kitti_a": "kitti"}
STAMP = ".smoke-stamp.json"


def decode_video(path: Path) -> np.ndarray:
    """All frames of a clip as RGB ``uint8 [N, H, W, 3]``."""
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


class Clips:
    """Cuts short RGB sequences of a requested size out of the decoded smoke videos."""

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


def _write(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    params = [cv2.IMWRITE_JPEG_QUALITY, 90] if path.suffix == ".jpg" else [cv2.IMWRITE_PNG_COMPRESSION, 3]
    if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params):
        raise OSError(f"cannot write {path}")


def _text(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def build_cityscapes(root: Path, clips: Clips) -> None:
    for split, city, seqs, x0 in (("train", "aachen", (0, 1), 0.0), ("val", "frankfurt", (0, 1), 0.6)):
        for n, seq in enumerate(seqs):
            frames = clips.cut("bigbuckbunny", 5 + 40 * n + (60 if split == "val" else 0), 30, 256, 512, x0=x0)
            for k, image in enumerate(frames):
                name = f"{city}_{seq:06d}_{19 + 100 * n + k:06d}_leftImg8bit.png"
                _write(root / "leftImg8bit_sequence" / split / city / name, image)


def build_kitti(root: Path, clips: Clips) -> None:
    drives = (("train", kitti.TRAIN_DRIVES[0], 12), ("train", kitti.TRAIN_DRIVES[-1], 11)) + tuple(
        ("test", d, 10 + i) for i, d in enumerate(kitti.TEST_DRIVES)
    )
    for n, (split, drive, count) in enumerate(drives):
        for cam in kitti.CAMERAS[split]:
            shift = 0.1 if cam == "image_02" else 0.2
            frames = clips.cut("bikes", 20 * n, count, 188, 621, x0=shift)
            for k, image in enumerate(frames):
                _write(kitti.drive_dir(root, drive) / cam / "data" / f"{k:010d}.png", image)
    _text(root / "kitti_a.txt", ["# smoke KITTI-A: two fast-car windows", f"{kitti.TEST_DRIVES[2]} 0", f"{kitti.TEST_DRIVES[3]} 3"])


def build_davis(root: Path, clips: Clips) -> None:
    names = ("bike-packing", "blackswan")
    for n, name in enumerate(names):
        for k, image in enumerate(clips.cut("bigbuckbunny", 30 + 45 * n, 10, 240, 427, x0=0.3 * n)):
            _write(root / "DAVIS" / "JPEGImages" / "480p" / name / f"{k:05d}.jpg", image)
    _text(root / "DAVIS" / "ImageSets" / "2017" / "val.txt", list(names))


def build_vimeo(root: Path, clips: Clips) -> None:
    lists = {"train": ["00001/0001", "00001/0002", "00002/0001", "00003/0007"], "test": ["00004/0001", "00004/0002", "00005/0003"]}
    for n, clip in enumerate(lists["train"] + lists["test"]):
        for k, image in enumerate(clips.cut("bikes", 7 + 23 * n, 3, 256, 448, step=2, x0=0.15 * (n % 5))):
            _write(root / "vimeo_triplet" / "sequences" / clip / f"im{k + 1}.png", image)
    for split, ids in lists.items():
        _text(root / "vimeo_triplet" / f"tri_{split}list.txt", ids)


def build_vimeo_septuplet(root: Path, clips: Clips) -> None:
    subsets = {"fast": ["00001/0625", "00002/0010"], "medium": ["00003/0100"], "slow": ["00004/0200", "00005/0300"]}
    step = {"fast": 4, "medium": 2, "slow": 1}  # temporal subsampling mimics the motion classes
    n = 0
    for subset, ids in subsets.items():
        for clip in ids:
            for k, image in enumerate(clips.cut("bigbuckbunny", 3 + 17 * n, 7, 256, 448, step=step[subset], x0=0.1 * n)):
                _write(root / "vimeo_septuplet" / "sequences" / clip / f"im{k + 1}.png", image)
            n += 1
        _text(root / "meta_info" / f"{subset}_testset.txt", ids)


def build_ucf101(root: Path, clips: Clips) -> None:
    videos = ("v_ApplyEyeMakeup_g08_c01", "v_Biking_g10_c02", "v_Skiing_g12_c03")
    for n, video in enumerate(videos):
        source = ("bikes", "bigbuckbunny", "bikes")[n]
        for k, image in enumerate(clips.cut(source, 40 * n, 30, 240, 320, x0=0.4 * n)):
            _write(root / "jpegs_256" / video / f"frame{k + 1:06d}.jpg", image)
    _text(root / "ucfTrainTestlist" / "trainlist01.txt", [f"{v.split('_')[1]}/{v}.avi {i + 1}" for i, v in enumerate(videos)])


def build_ucfsports(root: Path, clips: Clips) -> None:
    videos = (("Diving-Side", "001"), ("Golf-Swing-Back", "001"))
    for n, (action, video) in enumerate(videos):
        for k, image in enumerate(clips.cut("carphone_pristine", 10 + 30 * n, 20, 240, 360, x0=0.5)):
            _write(root / "ucf_sports_actions" / "ucf action" / action / video / f"{2538 + n}-5_{70133 + k}.jpg", image)
    prefix = "E:/datasets/UCF-sport/ucf_sports_actions/ucf_action_images"
    _text(root / "lists" / "train.txt", [f"{prefix}/Diving-Side/001/,1", f"{prefix}/Diving-Side/001/,6", f"{prefix}/Golf-Swing-Back/001/,2"])
    _text(root / "lists" / "test.txt", [f"{prefix}/Diving-Side/001/,9", f"{prefix}/Golf-Swing-Back/001/,8"])


def build_human36m(root: Path, clips: Clips) -> None:
    videos = ("S1_Directions.54138969_", "S1_Walking.55011271_")
    for n, prefix in enumerate(videos):
        for k, image in enumerate(clips.cut("carphone_pristine", 5 + 40 * n, 14, 250, 250, x0=0.5)):
            _write(root / "images" / f"{prefix}{1 + 5 * k:06d}.jpg", image)
    # as users hold them: OpenSTL's train list (3 fields, paths under images/) and STRPM's test list (4 fields)
    _text(root / "train.txt", [f"images/{videos[0]},1,71", f"images/{videos[1]},11,81"])
    _text(root / "test.txt", [f"E:/datasets/human3.6m/S1/,{videos[0]},26,96", f"E:/datasets/human3.6m/S1/,{videos[1]},1,71"])


BUILDERS: dict[str, Callable[[Path, Clips], None]] = {
    "cityscapes": build_cityscapes,
    "kitti": build_kitti,
    "davis": build_davis,
    "vimeo": build_vimeo,
    "vimeo_septuplet": build_vimeo_septuplet,
    "ucf101": build_ucf101,
    "ucfsports": build_ucfsports,
    "human36m": build_human36m,
}


def _inputs_fingerprint(videos: dict[str, Path]) -> str:
    digest = hashlib.sha256(f"smoke-v{SMOKE_VERSION}".encode())
    digest.update(Path(__file__).read_bytes())  # a change of the builders invalidates the cache
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
    stamp = out / STAMP
    roots = {name: out / folder for name, folder in SMOKE_ROOTS.items()}
    if not force and stamp.is_file() and json.loads(stamp.read_text()).get("inputs") == fingerprint:
        return roots
    clips = Clips({name: decode_video(path) for name, path in videos.items()})
    with directory_written_aside(out) as work:
        for name, build in BUILDERS.items():
            build(work / name, clips)
        write_text_atomic(work / STAMP, json.dumps({"inputs": fingerprint, "version": SMOKE_VERSION}, indent=2) + "\n")
    return roots
