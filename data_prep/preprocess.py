"""Raw tree -> prepared tree: parse the layout, check the counts, resize, store, write the manifest.

The prepared tree is written aside and renamed into place only when complete; raw files are only read.
Everything written is a function of the raw inputs and the options, so preparing twice gives identical bytes.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import platform
import shutil
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import closing, nullcontext
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from data_prep.codecs import FrameCodec, check_codec, default_params
from data_prep.errors import ChecksumError, CountMismatchError, DataPrepError, LayoutError
from data_prep.frames import decode_frame, decode_video, decoder_version, read_frame_bytes, resize_frame
from data_prep.integrity import directory_written_aside
from data_prep.layout import MANIFEST, SequenceSource, SplitPlan
from data_prep.registry import Dataset, SourceFormat, choose_format, datasets, get_dataset
from data_prep.store import SplitWriter, StoredFrame
from vpbench.utils import atomic_write, sha256_file

FORMAT = "vpbench-prepared-v1"
#: image files per worker task: small enough to spread a 14- or 30-frame snippet over several cores
TASK_FRAMES = 8
#: tasks submitted per worker ahead of the writer (bounds memory and the part files on disk)
IN_FLIGHT_PER_JOB = 2
PARTS = ".parts"


def available_cores() -> int:
    """The cores this process may run on (what SLURM, Snakemake or taskset gave it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _source_images(sequence: SequenceSource, first: int, count: int | None) -> Iterator[tuple[str, bytes | None, np.ndarray]]:
    """``(origin, encoded bytes or None, BGR image)`` of frames ``first .. first+count-1`` of a sequence (a video
    is always read whole), in order."""
    if sequence.video is not None:
        for index, image in enumerate(decode_video(sequence.video, bgr=True)):
            yield f"{sequence.video} frame {index}", None, image
        return
    # a stray size is refused from its header (against the run's first frame; the writer compares runs)
    run_first: tuple[str, tuple[int, int]] | None = None
    for path in sequence.frames[first : None if count is None else first + count]:
        data = read_frame_bytes(path)
        image = decode_frame(data, str(path), same_size_as=run_first, bgr=True)
        run_first = run_first or (str(path), (image.shape[0], image.shape[1]))
        yield str(path), data, image


@dataclass(frozen=True)
class FrameTask:
    """A run of frames of one sequence, decoded, resized and encoded by one worker into its own part file."""

    sequence: SequenceSource
    first: int
    count: int | None  # None: to the end (a video: all of it)
    size: tuple[int, int] | None
    codec: FrameCodec
    part: Path | None  # None: the payloads travel in the result (a task run in the writer's own process)


@dataclass(frozen=True)
class FrameDone:
    """What the writer needs to check and append one frame: its source size, then its payload's size."""

    origin: str
    source_shape: tuple[int, int]
    nbytes: int
    height: int
    width: int


@dataclass
class TaskResult:
    frames: list[FrameDone]
    error: DataPrepError | None = None  # raised by the writer after it has checked the frames before it
    payloads: list[bytes] | None = None  # when the task has no part file


def run_task(task: FrameTask) -> TaskResult:
    """Decode (always: a corrupt frame must fail here, not in training), resize and encode a run of frames.

    A data error stops the run; it travels back with the frames done before it, so the writer reports the first
    fault in sequence order whatever the number of workers.
    """
    result = TaskResult([], payloads=[] if task.part is None else None)
    with open(task.part, "wb") if task.part is not None else nullcontext() as part:
        try:
            for origin, data, image in _source_images(task.sequence, task.first, task.count):
                resized = resize_frame(image, *task.size) if task.size is not None else image
                source_bytes = data if resized is image else None
                resized = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)  # after the resize: a quarter of the pixels
                payload = task.codec.encode(resized, source_bytes, origin)
                if part is None:
                    result.payloads.append(payload)  # type: ignore[union-attr]
                else:
                    part.write(payload)
                result.frames.append(FrameDone(origin, (image.shape[0], image.shape[1]), len(payload), *resized.shape[:2]))
        except DataPrepError as err:
            result.error = err
    return result


def frame_tasks(sequence: SequenceSource, size: tuple[int, int] | None, codec: FrameCodec, parts: Path,
                serial: int) -> list[FrameTask]:
    """A sequence's tasks: runs of :data:`TASK_FRAMES` image files, or one video (decoded in order, whole)."""
    if sequence.video is not None:
        return [FrameTask(sequence, 0, None, size, codec, parts / f"{serial}-0.bin")]
    starts = range(0, max(1, len(sequence.frames)), TASK_FRAMES)  # an empty sequence still gets its (empty) task
    return [FrameTask(sequence, first, TASK_FRAMES, size, codec, parts / f"{serial}-{k}.bin") for k, first in enumerate(starts)]


def _ordered_results(tasks: Iterator[FrameTask], jobs: int) -> Iterator[tuple[FrameTask, TaskResult]]:
    """Each task with its result, in task order; at most ``IN_FLIGHT_PER_JOB x jobs`` tasks ahead of the writer."""
    if jobs == 1:  # in this process: a run of image files stays in memory (no part file written and read back)
        for task in tasks:
            yield task, run_task(task if task.sequence.video is not None else replace(task, part=None))
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        pending: deque[tuple[FrameTask, Future[TaskResult]]] = deque()
        try:
            for task in tasks:
                pending.append((task, pool.submit(run_task, task)))
                if len(pending) >= IN_FLIGHT_PER_JOB * jobs:
                    done, future = pending.popleft()
                    yield done, future.result()
            while pending:
                done, future = pending.popleft()
                yield done, future.result()
        finally:  # on an error: no new task starts; the running ones finish before the pool closes
            pool.shutdown(wait=True, cancel_futures=True)


def _stored_frames(results: Iterator[tuple[FrameTask, TaskResult]], required: tuple[int, int] | None) -> Iterator[StoredFrame]:
    """The frames of one sequence's results, checked in order: every frame must have the size of the sequence's
    first (a stray resolution is never resized away); ``required`` (H, W): the size the source must already have
    (formats that are never resized silently)."""
    first: tuple[str, tuple[int, int]] | None = None
    for task, result in results:
        payloads = iter(result.payloads) if result.payloads is not None else None
        with open(task.part, "rb") if payloads is None else nullcontext() as part:
            for done in result.frames:
                shape = done.source_shape
                if first is None:
                    first = (done.origin, shape)
                    if required is not None and shape != required:
                        raise LayoutError(
                            f"{done.origin}: frames are {shape[0]}x{shape[1]} (HxW), the protocol needs "
                            f"{required[0]}x{required[1]}. Pass --size {shape[0]}x{shape[1]} to prepare them at their own "
                            f"size, or --size {required[0]}x{required[1]} to resize them explicitly (either is recorded "
                            "in the manifest)."
                        )
                elif shape != first[1]:
                    raise LayoutError(
                        f"{done.origin}: frame is {shape[0]}x{shape[1]} (HxW), the other frames of its sequence are "
                        f"{first[1][0]}x{first[1][1]} (first: {first[0]}); the raw tree is damaged or mixed"
                    )
                yield StoredFrame(next(payloads) if part is None else part.read(done.nbytes), done.height, done.width)  # type: ignore[arg-type]
        if part is not None:
            task.part.unlink()
        if result.error is not None:
            raise result.error


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
    codec: str | None = None,
    jobs: int = 1,
) -> dict[str, object]:
    """Prepare ``dataset`` from ``raw_root`` into ``out``; return the manifest.

    ``size`` (H, W) overrides the protocol's resolution and is recorded; ``subset`` declares the input a part
    of the dataset, which switches off the count and list-hash checks of the full set; ``list_path`` is
    KITTI-A's window list when it is not ``<raw_root>/kitti_a.txt``; ``source`` names the source format
    (default: the one found under ``raw_root``, see ``registry.choose_format``); ``codec``: how frames are stored
    (``data_prep.codecs``; default the dataset's); ``jobs``: worker processes that decode, resize and encode
    (``vpbench prepare`` defaults to :func:`available_cores`; never more than a split has runs of frames). The
    output is byte-identical for every ``jobs``: one writer appends the workers' results in sequence order.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    spec = get_dataset(dataset)
    raw_root, out = Path(raw_root), Path(out)
    fmt = choose_format(spec, raw_root, source)
    target = size or spec.size
    required = spec.size if fmt.native_size and size is None else None
    plans = plan_splits(spec, fmt, raw_root, splits or fmt.splits or spec.splits, subset, list_path)
    frame_codec = FrameCodec(check_codec(codec or spec.codec), default_params(codec or spec.codec))
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
        parts = work / PARTS
        parts.mkdir()
        for split, plan in plans.items():
            writer = SplitWriter(work / split, frame_codec.name, frame_codec.params)
            lengths = {}
            tasks = [task for serial, sequence in enumerate(plan.sequences)
                     for task in frame_tasks(sequence, target, frame_codec, parts, serial)]
            workers = max(1, min(jobs, len(tasks)))  # a small split is not worth a pool
            with closing(_ordered_results(iter(tasks), workers)) as ordered:  # an error closes the pool first
                by_sequence = itertools.groupby(ordered, key=lambda done: done[0].sequence)
                progress = tqdm(by_sequence, total=len(plan.sequences), desc=f"{spec.name}/{split}", unit="seq")
                for sequence, results in progress:
                    lengths[sequence.name] = writer.add_sequence(sequence.name, _stored_frames(results, required))
            for window in plan.windows:
                count = lengths[window.sequence] - window.start if window.num_frames is None else window.num_frames
                writer.add_window(window.window_id, window.sequence, window.start, count, window.subset)
            summary = writer.close()
            summary["max_temporal_stride"] = plan.max_temporal_stride
            summary["notes"] = plan.notes
            summary["dropped_sequences"] = {"count": len(plan.dropped), "names": plan.dropped}
            manifest["splits"][split] = summary  # type: ignore[index]
        shutil.rmtree(parts)
        atomic_write(work / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest
