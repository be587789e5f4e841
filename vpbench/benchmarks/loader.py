"""Training-loader throughput: 9-frame clips with 256x256 crops, per loader worker (one process).

``python -m vpbench.benchmarks.loader [--prepared DIR] [--out results/benchmarks/loader.json]``

Without ``--prepared`` the smoke KITTI tree is prepared at the real KITTI size (256x832) into a temporary
folder, so the numbers are for the real on-disk format and resolution. The same clips are also timed as
9 PNG decodes (the official layout) for comparison, and the disk cost per frame of both is reported.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from data_prep.datasets import TrainClips, open_prepared
from data_prep.frames import encode_png
from vpbench.argtypes import POSITIVE_FLOAT
from vpbench.utils import atomic_write

CLIP_LENGTH = 9
CROP = 256
TARGET_CLIPS_PER_S = 50.0


def clips_per_second(dataset: TrainClips, seconds: float) -> tuple[float, int]:
    """Iterate ``dataset`` (cycling, new epoch each pass) for about ``seconds``; return (rate, clips)."""
    count, epoch, start = 0, 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        dataset.set_epoch(epoch)
        for index in range(len(dataset)):
            clip = dataset[index]
            assert clip.shape == (CLIP_LENGTH, 3, CROP, CROP)
            count += 1
        epoch += 1
    return count / (time.perf_counter() - start), count


def png_decode_rate(prepared: Path, seconds: float) -> float:
    """Clips/s when each clip means decoding 9 full-size PNG frames (the official per-frame PNG layout)."""
    split = open_prepared(prepared).split("train")
    frames = [encode_png(split.frames.frame(i)) for i in range(min(len(split.frames), CLIP_LENGTH * 4))]
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for k in range(0, len(frames) - CLIP_LENGTH + 1, CLIP_LENGTH):
            for data in frames[k : k + CLIP_LENGTH]:
                cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)[:CROP, :CROP]
            count += 1
    return count / (time.perf_counter() - start)


def prepare_smoke_kitti(work: Path) -> Path:
    from data_prep.preprocess import prepare
    from data_prep.smoke import build_smoke_data

    roots = build_smoke_data(work / "raw")
    prepare("kitti", roots["kitti"], work / "prepared", size=(256, 832), subset=True, splits=("train",))
    return work / "prepared"


def run(prepared: Path | None, seconds: float) -> dict[str, object]:
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        root = prepared or prepare_smoke_kitti(Path(tmp))
        tree = open_prepared(root)
        split = tree.split("train")
        frame_bytes = int(split.info["files"]["frames.bin"]["bytes"]) / max(1, int(split.info["frames"]))
        png_bytes = float(np.mean([len(encode_png(split.frames.frame(i))) for i in range(min(8, len(split.frames)))]))
        result: dict[str, object] = {
            "dataset": tree.dataset,
            "codec": split.info["codec"],
            "frame_size": [int(split.frames.height[0]), int(split.frames.width[0])],
            "clip_length": CLIP_LENGTH,
            "crop": CROP,
            "clips_per_s_per_worker": {},
            "png_decode_clips_per_s": round(png_decode_rate(root, seconds / 2), 1),
            "bytes_per_frame": {"prepared": round(frame_bytes), "png": round(png_bytes)},
            "target_clips_per_s": TARGET_CLIPS_PER_S,
            "machine": platform.processor() or platform.machine(),
            "note": "one process = one loader worker; page cache warm (the tree was just written or read)",
        }
        for augmentation in ("paper", "official"):
            dataset = TrainClips(root, CLIP_LENGTH, CROP, augmentation=augmentation, seed=0)
            rate, _ = clips_per_second(dataset, seconds)
            result["clips_per_s_per_worker"][augmentation] = round(rate, 1)  # type: ignore[index]
        result["meets_target"] = min(result["clips_per_s_per_worker"].values()) >= TARGET_CLIPS_PER_S  # type: ignore[union-attr]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vpbench.benchmarks.loader", description=__doc__.splitlines()[0])
    parser.add_argument("--prepared", type=Path, help="a prepared tree with a train split (default: smoke KITTI at 256x832)")
    parser.add_argument("--seconds", type=POSITIVE_FLOAT, default=3.0, help="time per measurement")
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks/loader.json"))
    args = parser.parse_args(argv)
    result = run(args.prepared, args.seconds)
    rates = result["clips_per_s_per_worker"]
    print(
        f"train loader: {rates['paper']} clips/s per worker (paper aug), {rates['official']} (official aug); "  # type: ignore[index]
        f"{CLIP_LENGTH} frames, {CROP}x{CROP} crops, codec {result['codec']}; "
        f"9 PNG decodes per clip instead: {result['png_decode_clips_per_s']} clips/s; "
        f"disk per frame {result['bytes_per_frame']['prepared']:,} B (PNG {result['bytes_per_frame']['png']:,} B)"  # type: ignore[index]
    )
    atomic_write(args.out, json.dumps(result, indent=2, sort_keys=True) + "\n")
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
