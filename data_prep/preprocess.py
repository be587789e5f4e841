"""Raw tree -> prepared tree: parse the layout, check the counts, resize, store, write the manifest.

The prepared tree is written aside and renamed into place only when complete; raw files are only read.
Everything written is a function of the raw inputs and the options, so preparing twice gives identical bytes.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from data_prep.errors import ChecksumError, CountMismatchError, LayoutError
from data_prep.frames import decode_frame, decode_video, decoder_version, encode_png, read_frame_bytes, resize_frame
from data_prep.integrity import directory_written_aside
from data_prep.layout import SequenceSource, SplitPlan
from data_prep.registry import Dataset, SourceFormat, choose_format, datasets, get_dataset
from data_prep.store import SplitWriter, StoredFrame
from vpbench.utils import atomic_write, sha256_file

MANIFEST = "manifest.json"
FORMAT = "vpbench-prepared-v1"
PASSTHROUGH_SUFFIXES = (".jpg", ".jpeg", ".png")


def _source_images(sequence: SequenceSource) -> Iterator[tuple[str, bytes | None, np.ndarray]]:
    """``(origin, encoded bytes or None, RGB image)`` of every frame of a sequence, in order."""
    if sequence.video is not None:
        for index, image in enumerate(decode_video(sequence.video)):
            yield f"{sequence.video} frame {index}", None, image
        return
    first: tuple[str, tuple[int, int]] | None = None
    for path in sequence.frames:
        data = read_frame_bytes(path)
        image = decode_frame(data, str(path), same_size_as=first)  # a stray size is refused from its header
        first = first or (str(path), (image.shape[0], image.shape[1]))
        yield str(path), data, image


def stored_frames(
    sequence: SequenceSource, size: tuple[int, int] | None, codec: str, required: tuple[int, int] | None = None
) -> Iterator[StoredFrame]:
    """Decode (always: a corrupt frame must fail here, not in training), check, resize, and encode for storage.

    Every frame must have the size of its sequence's first frame (a stray resolution is never resized away);
    ``required`` (H, W): the size the source must already have (formats that are never resized silently).
    """
    first: tuple[str, tuple[int, int]] | None = None
    for origin, data, image in _source_images(sequence):
        shape = (image.shape[0], image.shape[1])
        if first is None:
            first = (origin, shape)
            if required is not None and shape != required:
                raise LayoutError(
                    f"{origin}: frames are {shape[0]}x{shape[1]} (HxW), the protocol needs {required[0]}x{required[1]}. "
                    f"Pass --size {shape[0]}x{shape[1]} to prepare them at their own size, or --size "
                    f"{required[0]}x{required[1]} to resize them explicitly (either is recorded in the manifest)."
                )
        elif shape != first[1]:
            raise LayoutError(
                f"{origin}: frame is {shape[0]}x{shape[1]} (HxW), the other frames of its sequence are "
                f"{first[1][0]}x{first[1][1]} (first: {first[0]}); the raw tree is damaged or mixed"
            )
        resized = resize_frame(image, *size) if size is not None else image
        height, width = resized.shape[:2]
        if codec == "raw":
            payload = resized.tobytes()
        elif resized is image and data is not None and origin.lower().endswith(PASSTHROUGH_SUFFIXES):
            payload = data  # the source's own bytes: lossless and as small as the source
        else:
            payload = encode_png(resized)
        yield StoredFrame(payload, height, width)


def check_counts(spec: Dataset, plan: SplitPlan) -> None:
    """Full datasets must have the published number of windows (and per subset label, e.g. Vimeo's motion lists)."""
    accepted = spec.expected_windows.get(plan.split)
    if accepted and len(plan.windows) not in accepted:
        raise CountMismatchError(
            f"{spec.name} {plan.split}: {len(plan.windows):,} windows, the full dataset has "
            f"{' or '.join(f'{n:,}' for n in accepted)}. The raw tree is incomplete or a list differs; "
            "pass --subset if this is deliberately a part of the dataset."
        )
    for subset, expected in spec.expected_subsets.items():
        found = sum(w.subset == subset for w in plan.windows)
        if found != expected:
            raise CountMismatchError(f"{spec.name}: the {subset} list has {found} clips, expected {expected}")


def check_pinned_lists(spec: Dataset, plan: SplitPlan) -> None:
    for name, path in plan.lists.items():
        accepted = spec.pinned_lists.get(name)
        if accepted and sha256_file(path) not in accepted:
            raise ChecksumError(
                f"{path}: sha256 differs from the published list ({', '.join(sorted(accepted))}); use the original "
                "file, or pass --subset if it is a deliberately shortened list."
            )


def tool_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "opencv": cv2.__version__}
    for package in ("numpy", "pyarrow", "datasets", "av", "vpbench"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "unknown"
    return versions


def plan_splits(
    spec: Dataset, fmt: SourceFormat, raw_root: Path, splits: tuple[str, ...], subset: bool, list_path: Path | None = None
) -> dict[str, SplitPlan]:
    plans = {}
    for split in splits:
        if split not in spec.splits:
            raise ValueError(f"{spec.name} has splits {spec.splits}, not {split!r}")
        if fmt.splits is not None and split not in fmt.splits:
            raise LayoutError(f"the {spec.name} source format {fmt.name!r} holds only the {', '.join(fmt.splits)} split, not {split!r}")
        if list_path is not None:
            if fmt.list_planner is None:
                takers = sorted(d.name for d in datasets().values() if any(f.list_planner for f in d.formats))
                raise ValueError(f"a window list can only be given for {', '.join(takers)}")
            plan = fmt.list_planner(raw_root, split, list_path)
        else:
            plan = fmt.planner(raw_root, split, subset)
        if not plan.windows:
            raise LayoutError(f"{spec.name} {split}: no window could be formed from {raw_root} (format {fmt.name}); nothing is prepared")
        if not subset:
            check_pinned_lists(spec, plan)  # a wrong list explains a wrong count: report it first
            check_counts(spec, plan)
        plans[split] = plan
    return plans


def prepare(
    dataset: str,
    raw_root: Path,
    out: Path,
    size: tuple[int, int] | None = None,
    subset: bool = False,
    splits: tuple[str, ...] | None = None,
    list_path: Path | None = None,
    source: str | None = None,
) -> dict[str, object]:
    """Prepare ``dataset`` from ``raw_root`` into ``out``; return the manifest.

    ``size`` (H, W) overrides the protocol's resolution and is recorded; ``subset`` declares the input a part
    of the dataset, which switches off the count and list-hash checks of the full set; ``list_path`` is
    KITTI-A's window list when it is not ``<raw_root>/kitti_a.txt``; ``source`` names the source format
    (default: the one found under ``raw_root``, see ``registry.choose_format``).
    """
    spec = get_dataset(dataset)
    raw_root, out = Path(raw_root), Path(out)
    fmt = choose_format(spec, raw_root, source)
    target = size or spec.size
    required = spec.size if fmt.native_size and size is None else None
    plans = plan_splits(spec, fmt, raw_root, splits or fmt.splits or spec.splits, subset, list_path)
    codec = spec.codec
    source_info: dict[str, object] = {"format": fmt.name, "description": fmt.description}
    list_formats = {name: f for plan in plans.values() for name, f in sorted(plan.list_formats.items())}
    if list_formats:
        source_info["list_formats"] = list_formats
    if any(s.video is not None for plan in plans.values() for s in plan.sequences):
        source_info["decoder"] = decoder_version()
    manifest: dict[str, object] = {
        "format": FORMAT,
        "dataset": spec.name,
        "description": spec.description,
        "subset": subset,
        "counts_checked": not subset,
        "expected_windows": {k: list(v) for k, v in spec.expected_windows.items()},
        "height": target[0] if target else None,
        "width": target[1] if target else None,
        "size_override": list(size) if size else None,
        "resize": "cv2.resize INTER_LINEAR" if target else "none (native size)",
        "channel_order": "RGB",
        "raw_root": str(raw_root),
        "source": source_info,
        "lists": {name: sha256_file(path) for plan in plans.values() for name, path in sorted(plan.lists.items())},
        "tools": tool_versions(),
        "splits": {},
    }
    with directory_written_aside(out) as work:
        for split, plan in plans.items():
            writer = SplitWriter(work / split, codec)
            lengths = {}
            for sequence in tqdm(plan.sequences, desc=f"{spec.name}/{split}", unit="seq"):
                lengths[sequence.name] = writer.add_sequence(sequence.name, stored_frames(sequence, target, codec, required))
            for window in plan.windows:
                count = lengths[window.sequence] - window.start if window.num_frames is None else window.num_frames
                writer.add_window(window.window_id, window.sequence, window.start, count, window.subset)
            summary = writer.close()
            summary["max_temporal_stride"] = plan.max_temporal_stride
            summary["notes"] = plan.notes
            summary["dropped_sequences"] = {"count": len(plan.dropped), "names": plan.dropped}
            manifest["splits"][split] = summary  # type: ignore[index]
        atomic_write(work / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest
