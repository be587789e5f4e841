"""Inference speed of DMVFN: batch 1, after warm-up, median of N runs; all blocks and routed; CPU and CUDA.

    python -m vpbench.bench_inference --sizes 256x448 720x1280 --repeats 10 --out results/benchmarks/inference.json

"routed" uses the model's own routing (STEBS, beta = 0.5) re-seeded before every run, so each run executes the
same sub-network and the comparison with "all blocks" is fair run to run. A random-init router puts ~4.5 blocks on
per sample; a trained one differs. Timings are wall-clock under ``torch.inference_mode``; CUDA runs synchronise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from models import DMVFN
from vpbench.complexity import parse_size


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_runs(fn: Callable[[], Any], device: torch.device, warmup: int, repeats: int) -> list[float]:
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return times


def bench_one(
    net: DMVFN, height: int, width: int, device: torch.device, mode: str, channels_last: bool, warmup: int, repeats: int
) -> dict[str, Any]:
    gen = torch.Generator().manual_seed(0)
    prev = torch.rand(1, 3, height, width, generator=gen).to(device)
    cur = torch.rand(1, 3, height, width, generator=gen).to(device)
    if channels_last:
        prev, cur = prev.contiguous(memory_format=torch.channels_last), cur.contiguous(memory_format=torch.channels_last)
    active = torch.ones(1, net.n_blocks, dtype=torch.bool, device=device) if mode == "all_blocks" else None
    with torch.inference_mode():
        torch.manual_seed(1234)
        blocks = net(prev, cur, active=active, return_intermediate=True).executed

        def run() -> None:
            torch.manual_seed(1234)
            net(prev, cur, active=active)

        times = time_runs(run, device, warmup, repeats)
    return {
        "size": f"{height}x{width}",
        "mode": mode,
        "channels_last": channels_last,
        "blocks_run": blocks,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "times_s": times,
    }


def environment(device: torch.device) -> dict[str, Any]:
    env = {
        "torch": torch.__version__,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
    }
    if device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(device)
        env["cuda"] = torch.version.cuda
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["256x448", "720x1280"])
    parser.add_argument("--devices", nargs="+", default=None, help="default: cpu, and cuda when present")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--no-channels-last", action="store_true", help="skip the channels_last comparison")
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks/inference.json"))
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    results: list[dict[str, Any]] = []
    for device_name in devices:
        device = torch.device(device_name)
        torch.manual_seed(0)
        for channels_last in ([False] if args.no_channels_last else [False, True]):
            net = DMVFN().eval().to(device)
            if channels_last:
                net = net.to(memory_format=torch.channels_last)
            for size in args.sizes:
                h, w = parse_size(size)
                for mode in ("all_blocks", "routed"):
                    row = bench_one(net, h, w, device, mode, channels_last, args.warmup, args.repeats)
                    row["device"] = device_name
                    results.append(row)
                    print(
                        f"{device_name:5} {row['size']:>9} {mode:10} channels_last={channels_last!s:5} "
                        f"blocks={len(row['blocks_run'])} median {1000 * row['median_s']:8.1f} ms "
                        f"(min {1000 * row['min_s']:.1f})",
                        flush=True,
                    )
    report = {"environment": {d: environment(torch.device(d)) for d in devices}, "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".part")
    tmp.write_text(json.dumps(report, indent=2))
    os.replace(tmp, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
