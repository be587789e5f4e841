"""Disk each dataset needs with each codec: measured bytes per frame on natural frames at the dataset's prepared
size, times the number of frames the full dataset stores.

``python -m vpbench.benchmarks.disk [--out results/benchmarks/disk.json]`` prints the Markdown table of
docs/data.md ("Disk per codec"). Frames are made from the bundled clips (``vpbench.benchmarks.natural``) at twice
the prepared size and resized with INTER_LINEAR, as preparation does with Cityscapes' 2048x1024 frames. The
``encoded`` column is PNG (what that codec stores after a resize; sources kept at their own size keep their own,
usually JPEG, bytes and are not estimated here).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from data_prep.codecs import CODECS, FrameCodec, default_params
from data_prep.registry import get_dataset
from vpbench.benchmarks.natural import natural_frame
from vpbench.utils import atomic_write

#: sample frames per size: sequences alternate between a rendered and a filmed source
SAMPLE = [(seq, k) for seq in range(4) for k in (0, 9)]


def stored_frames() -> list[tuple[str, str, int, str]]:
    """(dataset, split, frames stored by the full dataset, how the count is known)."""
    def windows(name: str, split: str) -> int:
        return get_dataset(name).expected_windows[split][0]

    return [
        ("cityscapes", "train", windows("cityscapes", "train") * 30, "2,975 snippets x 30 frames"),
        ("cityscapes", "test", windows("cityscapes", "test") * 14, "500 snippets x the 14 frames read"),
        ("kitti", "train + test", 15_300, "unique frames of the drives used (frames are stored once)"),
        ("vimeo", "train", windows("vimeo", "train") * 3, "triplets x 3"),
        ("vimeo", "test", windows("vimeo", "test") * 3, "triplets x 3"),
        ("vimeo_septuplet", "test", windows("vimeo_septuplet", "test") * 7, "septuplets x 7"),
        ("davis", "test", windows("davis", "test") * 9, "30 sequences x 9 frames"),
        ("ucfsports", "train + test", (windows("ucfsports", "train") + windows("ucfsports", "test")) * 10,
         "at most: windows x 10 (windows may share frames)"),
        ("human36m", "train + test", (windows("human36m", "train") + windows("human36m", "test")) * 8,
         "at most: windows x 8 (windows may share frames)"),
    ]


def bytes_per_frame(height: int, width: int) -> dict[str, float]:
    frames = [cv2.resize(natural_frame(seq, k, (2 * height, 2 * width)), (width, height), interpolation=cv2.INTER_LINEAR)
              for seq, k in SAMPLE]
    return {codec: float(np.mean([len(FrameCodec(codec, default_params(codec)).encode(f)) for f in frames]))
            for codec in CODECS}


def run() -> dict[str, object]:
    sizes: dict[str, dict[str, float]] = {}
    rows = []
    for dataset, split, frames, how in stored_frames():
        height, width = get_dataset(dataset).size  # type: ignore[misc]
        key = f"{height}x{width}"
        if key not in sizes:
            sizes[key] = bytes_per_frame(height, width)
        rows.append({"dataset": dataset, "split": split, "frames": frames, "count": how, "size": key,
                     "gb": {codec: round(frames * sizes[key][codec] / 1e9, 1) for codec in CODECS}})
    ratios = {key: {codec: round(value / per["raw"], 3) for codec, value in per.items()} for key, per in sizes.items()}
    return {"bytes_per_frame": {k: {c: round(v) for c, v in per.items()} for k, per in sizes.items()},
            "ratio_vs_raw": ratios, "datasets": rows, "sample_frames": len(SAMPLE),
            "tiled_zstd_params": default_params("tiled-zstd")}


def table(result: dict[str, object]) -> str:
    lines = ["| dataset | split | frames | size (HxW) | raw (GB) | tiled-zstd (GB) | encoded as PNG (GB) | frames counted as |",
             "|---|---|---:|---|---:|---:|---:|---|"]
    for row in result["datasets"]:  # type: ignore[attr-defined]
        gb = row["gb"]
        lines.append(f"| {row['dataset']} | {row['split']} | {row['frames']:,} | {row['size']} | {gb['raw']:,} | "
                     f"{gb['tiled-zstd']:,} | {gb['encoded']:,} | {row['count']} |")
    lines.append("")
    lines.append("| size (HxW) | raw (B/frame) | tiled-zstd | encoded (PNG) |")
    lines.append("|---|---:|---:|---:|")
    for key, per in result["bytes_per_frame"].items():  # type: ignore[attr-defined]
        ratio = result["ratio_vs_raw"][key]  # type: ignore[index]
        lines.append(f"| {key} | {per['raw']:,} | {per['tiled-zstd']:,} ({ratio['tiled-zstd']}x) | "
                     f"{per['encoded']:,} ({ratio['encoded']}x) |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vpbench.benchmarks.disk", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks/disk.json"))
    args = parser.parse_args(argv)
    result = run()
    print(table(result))
    atomic_write(args.out, json.dumps(result, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
