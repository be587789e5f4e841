"""Prepare throughput on natural 2048x1024 Cityscapes frames, on one core and on every core, against the floor.

``python -m vpbench.benchmarks.prepare [--jobs N] [--sequences S] [--out results/benchmarks/prepare.json]``

A temporary ``leftImg8bit_sequence`` tree of S 30-frame snippets is made from the bundled real clips
(``vpbench.benchmarks.natural``) and prepared as Cityscapes (1024x512, the dataset's codec unless ``--codec``) with
``--jobs 1`` and ``--jobs N`` (default: the cores this process may use). Reported:

* ``frames_per_s`` for 1 and N jobs (wall clock) and ``speedup`` (goal: at least 0.8 x N on an idle machine);
* ``floor_ratio``: the CPU time per frame of ``--jobs 1`` over a bare ``cv2.imread`` + ``cv2.resize``
  (INTER_LINEAR) of the same files, timed in the same run (goal: at most 1.1);
* ``peak_rss_mb``: the peak resident memory of the main process and of the largest worker of a
  ``vpbench prepare --jobs N`` command, which is what the Snakemake rule's memory request is derived from
  (``vpbench.pipeline.resources``);
* ``loadavg`` before and after: other work on the machine lowers the speed-up.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

from data_prep.layout import MANIFEST
from data_prep.preprocess import available_cores, prepare
from vpbench.benchmarks.natural import write_cityscapes_tree
from vpbench.argtypes import POSITIVE_INT
from vpbench.utils import atomic_write

DATASET = "cityscapes"
#: the prepared size of Cityscapes (W, H for OpenCV)
PREPARED = (1024, 512)
SPEEDUP_GOAL = 0.8  # x N
FLOOR_GOAL = 1.1

def floor_cpu_per_frame(files: list[Path]) -> float:
    """CPU seconds per frame of the bare read + resize (OpenCV on one thread, as in prepare)."""
    cv2.setNumThreads(1)
    start = time.process_time()
    for path in files:
        cv2.resize(cv2.imread(str(path), cv2.IMREAD_COLOR), PREPARED, interpolation=cv2.INTER_LINEAR)
    return (time.process_time() - start) / len(files)


def timed_prepare(raw: Path, out: Path, jobs: int, codec: str | None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one prepare of the train split."""
    wall, cpu = time.perf_counter(), time.process_time()
    prepare(DATASET, raw, out, subset=True, splits=("train",), codec=codec, jobs=jobs)
    return time.perf_counter() - wall, time.process_time() - cpu


def _hwm_mb(pid: int) -> float | None:
    """Peak resident memory (VmHWM) of a live process; None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def _descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        parent = queue.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
            found += children
            queue += children
    return found


def peak_rss_mb(raw: Path, out: Path, jobs: int, codec: str) -> dict[str, float]:
    """Peak RSS of ``vpbench prepare --jobs N``'s main process and of its largest worker, sampled from /proc
    (VmHWM only grows, so the last sample of each process is its peak up to then)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]),
                                                                    os.environ.get("PYTHONPATH", "")])))
    command = [sys.executable, "-m", "vpbench", "prepare", DATASET, "--root", str(raw), "--out", str(out),
               "--subset", "--splits", "train", "--no-download", "--jobs", str(jobs), "--codec", codec]
    peaks: dict[int, float] = {}
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env) as proc:
        while proc.poll() is None:
            for pid in [proc.pid, *_descendants(proc.pid)]:
                value = _hwm_mb(pid)
                if value is not None:
                    peaks[pid] = max(peaks.get(pid, 0.0), value)
            time.sleep(0.05)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(command)} failed with exit status {proc.returncode}")
    others = [value for pid, value in peaks.items() if pid != proc.pid]
    return {"main": round(peaks.get(proc.pid, 0.0), 1), "worker": round(max(others, default=0.0), 1)}


def run(jobs: int, sequences: int, codec: str | None) -> dict[str, object]:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        raw = write_cityscapes_tree(work / "raw", sequences)
        files = sorted((raw / "leftImg8bit_sequence").rglob("*.png"))
        floor = floor_cpu_per_frame(files)
        # a warm-up prepare first: the one-time imports (pyarrow, datasets) are not a per-frame cost
        timed_prepare(write_cityscapes_tree(work / "warm-raw", 1), work / "warm", 1, codec)
        wall_1, cpu_1 = timed_prepare(raw, work / "one", 1, codec)
        wall_n, _ = timed_prepare(raw, work / "many", jobs, codec)
        manifest = json.loads((work / "one" / MANIFEST).read_text())
        stored_codec = manifest["splits"]["train"]["codec"]
        rss = peak_rss_mb(raw, work / "rss", jobs, stored_codec)
    frames = len(files)
    fps_1, fps_n = frames / wall_1, frames / wall_n
    return {
        "dataset": DATASET,
        "frames": frames,
        "source_size": [1024, 2048],
        "prepared_size": [PREPARED[1], PREPARED[0]],
        "codec": stored_codec,
        "jobs": jobs,
        "frames_per_s": {"1": round(fps_1, 2), str(jobs): round(fps_n, 2)},
        "speedup": round(fps_n / fps_1, 2),
        "speedup_goal": round(SPEEDUP_GOAL * jobs, 2),
        "cpu_ms_per_frame": {"prepare": round(cpu_1 / frames * 1e3, 1), "floor": round(floor * 1e3, 1)},
        "floor_ratio": round(cpu_1 / frames / floor, 3),
        "floor_goal": FLOOR_GOAL,
        "peak_rss_mb": rss,
        "loadavg": {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]},
        "cores": available_cores(),
        "machine": platform.processor() or platform.machine(),
        "note": "natural frames from the bundled clips (vpbench.benchmarks.natural); page cache warm; imports warmed "
                "by a one-snippet prepare before the timed ones; "
                "speed-up goal on an idle machine",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vpbench.benchmarks.prepare", description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=POSITIVE_INT, default=available_cores(), help="the N of the N-job run (default: the cores)")
    parser.add_argument("--sequences", type=POSITIVE_INT, help="30-frame snippets to prepare (default: 2 per job, at least 4)")
    parser.add_argument("--codec", help="storage codec (default: the dataset's)")
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks/prepare.json"))
    args = parser.parse_args(argv)
    result = run(args.jobs, args.sequences or max(4, 2 * args.jobs), args.codec)
    fps = result["frames_per_s"]
    print(
        f"prepare {DATASET} ({result['frames']} frames 2048x1024 -> 1024x512, codec {result['codec']}): "
        f"{fps['1']} frames/s on 1 job, {fps[str(args.jobs)]} on {args.jobs}: speed-up {result['speedup']} "  # type: ignore[index]
        f"(goal >= {result['speedup_goal']} on an idle machine); CPU per frame {result['cpu_ms_per_frame']['prepare']} ms, "  # type: ignore[index]
        f"bare imread+resize {result['cpu_ms_per_frame']['floor']} ms: floor ratio {result['floor_ratio']} "  # type: ignore[index]
        f"(goal <= {FLOOR_GOAL}); peak RSS worker {result['peak_rss_mb']['worker']} MB, main {result['peak_rss_mb']['main']} MB; "  # type: ignore[index]
        f"load average {result['loadavg']['before']} -> {result['loadavg']['after']}"  # type: ignore[index]
    )
    atomic_write(args.out, json.dumps(result, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
