"""Inference speed of DMVFN against a re-statement of the authors' forward pass, timed in the same process.

    python -m vpbench.benchmarks.inference [--sizes 256x448 720x1280] [--repeats 7] [--quick] [--out results/benchmarks/inference.json]

Batch 1, all 9 blocks (neither model runs its routing head), random weights shared by both models
(``vpbench.benchmarks.reference.ReferenceDMVFN`` loads our state dict). Before timing, the outputs of every block are
compared (all blocks on; tolerance 1e-4). "ours" is DMVFN as evaluation runs it: ``optimize_for_inference`` (channels_last
weights on CPU) under ``torch.inference_mode``. The reference runs as released (default layout) and, as a stricter
comparison, also in channels_last. The calls are interleaved (the order alternates every repeat) so that load on
a shared machine hits both alike; ratios are medians of the per-repeat ratios of wall-clock time (and of process
CPU time, less sensitive to other processes). Variants of ours (default layout; ``no_grad`` instead of
``inference_mode``) measure what each choice buys. "routed" times ours with its own routing (STEBS, beta = 0.5,
re-seeded every run: the same sub-network each time) for reference; it has no counterpart in the ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from models import DMVFN
from vpbench.argtypes import NON_NEGATIVE_INT, POSITIVE_INT
from vpbench.benchmarks.reference import ReferenceDMVFN
from vpbench.utils import atomic_write_json, parse_size

TOLERANCE = 1e-4
QUICK_SIZES = ["64x96"]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def environment(device: torch.device) -> dict[str, Any]:
    env = {
        "torch": torch.__version__,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_1_5_15": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    if device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(device)
        env["cuda"] = torch.version.cuda
    return env


def timed(fn: Callable[[], Any], device: torch.device) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of one call."""
    _sync(device)
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    _sync(device)
    return time.perf_counter() - wall, time.process_time() - cpu


def interleaved(runners: dict[str, Callable[[], Any]], device: torch.device, warmup: int, repeats: int) -> dict[str, dict[str, list[float]]]:
    """Time every runner once per repeat, alternating the order, after ``warmup`` untimed rounds."""
    names = list(runners)
    for _ in range(warmup):
        for name in names:
            runners[name]()
    times: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in names}
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            wall, cpu = timed(runners[name], device)
            times[name]["wall"].append(wall)
            times[name]["cpu"].append(cpu)
    return times


def ratio_summary(ours: dict[str, list[float]], ref: dict[str, list[float]]) -> dict[str, float]:
    return {
        "ratio_wall_median": statistics.median(o / r for o, r in zip(ours["wall"], ref["wall"])),
        "ratio_wall_of_medians": statistics.median(ours["wall"]) / statistics.median(ref["wall"]),
        "ratio_cpu_median": statistics.median(o / r for o, r in zip(ours["cpu"], ref["cpu"])),
    }


@dataclass
class Models:
    ours: DMVFN  # as evaluation runs it
    ours_default_layout: DMVFN
    reference: ReferenceDMVFN  # as released: default layout
    reference_channels_last: ReferenceDMVFN


def build_models(device: torch.device, seed: int = 0) -> Models:
    torch.manual_seed(seed)
    plain = DMVFN().eval().to(device)
    state = plain.state_dict()

    def ours() -> DMVFN:
        net = DMVFN().eval().to(device)
        net.load_state_dict(state)
        return net

    def reference() -> ReferenceDMVFN:
        net = ReferenceDMVFN().eval().to(device)
        net.load_state_dict(state)  # same names and shapes: strict load
        return net

    ref_cl = reference()
    if device.type == "cpu":
        ref_cl = ref_cl.to(memory_format=torch.channels_last)
    return Models(ours().optimize_for_inference(device), plain, reference(), ref_cl)


def frames(height: int, width: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    base = torch.rand(1, 3, height, width + 4, generator=gen)
    return base[..., :width].contiguous().to(device), base[..., 4:].contiguous().to(device)  # a 4-pixel pan


@torch.inference_mode()
def agreement(models: Models, prev: torch.Tensor, cur: torch.Tensor) -> dict[str, Any]:
    """Max |ours - reference| of every block's prediction, all blocks on (ours as evaluation runs it)."""
    on = torch.ones(1, models.ours.n_blocks, dtype=torch.bool, device=prev.device)
    out = models.ours(prev, cur, active=on, return_intermediate=True)
    theirs = models.reference(torch.cat((prev, cur), 1), run_all=True)
    per_block = [float((a - b).abs().max()) for a, b in zip(out.intermediate, theirs)]
    final = float((out.frame - theirs[-1]).abs().max())
    passed = len(per_block) == len(theirs) == models.ours.n_blocks and max(per_block + [final]) <= TOLERANCE
    return {"max_abs_diff_per_block": per_block, "max_abs_diff_final": final, "tolerance": TOLERANCE, "passed": passed}


def compare(models: Models, prev: torch.Tensor, cur: torch.Tensor, warmup: int, repeats: int, variants: bool) -> dict[str, Any]:
    """Interleaved timings of ours (and its variants) and the reference(s); one row per (ours, reference) pair."""
    device = prev.device
    on = torch.ones(1, models.ours.n_blocks, dtype=torch.bool, device=device)
    pair = torch.cat((prev, cur), 1)

    def under(context: Callable[[], contextlib.AbstractContextManager], fn: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with context():
                return fn()
        return run

    runners: dict[str, Callable[[], Any]] = {
        "reference": under(torch.inference_mode, lambda: models.reference(pair, run_all=True)),
        "ours": under(torch.inference_mode, lambda: models.ours(prev, cur, active=on)),
    }
    if device.type == "cpu":
        runners["reference_channels_last"] = under(
            torch.inference_mode, lambda: models.reference_channels_last(pair, run_all=True)
        )
        if variants:
            runners["ours_default_layout"] = under(torch.inference_mode, lambda: models.ours_default_layout(prev, cur, active=on))
            runners["ours_no_grad"] = under(torch.no_grad, lambda: models.ours(prev, cur, active=on))
    times = interleaved(runners, device, warmup, repeats)
    rows = []
    for name in runners:
        if name.startswith("reference"):
            continue
        for ref_name in [n for n in runners if n.startswith("reference")]:
            rows.append({
                "variant": name,
                "against": ref_name,
                "ours_median_s": statistics.median(times[name]["wall"]),
                "reference_median_s": statistics.median(times[ref_name]["wall"]),
                **ratio_summary(times[name], times[ref_name]),
            })
    return {"times": times, "rows": rows}


def routed_timing(net: DMVFN, prev: torch.Tensor, cur: torch.Tensor, warmup: int, repeats: int) -> dict[str, Any]:
    with torch.inference_mode():
        torch.manual_seed(1234)
        blocks = net(prev, cur, return_intermediate=True).executed

        def run() -> None:
            torch.manual_seed(1234)
            net(prev, cur)

        times = interleaved({"routed": run}, prev.device, warmup, repeats)["routed"]
    return {"blocks_run": blocks, "median_s": statistics.median(times["wall"]), "times_s": times["wall"]}


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run(sizes: list[str], devices: list[str], warmup: int, repeats: int, variants: bool, threads: int | None) -> dict[str, Any]:
    report: dict[str, Any] = {
        "settings": {"batch": 1, "blocks": "all 9 (no routing head) unless 'routed'", "warmup": warmup, "repeats": repeats,
                     "threads": threads or torch.get_num_threads(), "tolerance": TOLERANCE},
        "environment": {},
        "results": [],
    }
    with _threads(threads):
        for device_name in devices:
            device = torch.device(device_name)
            report["environment"][device_name] = environment(device)
            models = build_models(device)
            for size in sizes:
                height, width = parse_size(size)
                prev, cur = frames(height, width, device)
                entry: dict[str, Any] = {"device": device_name, "size": size, "agreement": agreement(models, prev, cur)}
                compared = compare(models, prev, cur, warmup, repeats, variants)
                entry["comparisons"], entry["times"] = compared["rows"], compared["times"]
                entry["routed"] = routed_timing(models.ours, prev, cur, warmup, repeats)
                report["results"].append(entry)
                print_entry(entry)
    report["agreement_passed"] = all(e["agreement"]["passed"] for e in report["results"])
    return report


def print_entry(entry: dict[str, Any]) -> None:
    agree = entry["agreement"]
    print(f"{entry['device']:5} {entry['size']:>9}  outputs agree: {agree['passed']} "
          f"(max |diff| over blocks {max(agree['max_abs_diff_per_block']):.2e})", flush=True)
    for row in entry["comparisons"]:
        print(f"      {row['variant']:20} {1000 * row['ours_median_s']:9.1f} ms  vs {row['against']:24} "
              f"{1000 * row['reference_median_s']:9.1f} ms  ratio {row['ratio_wall_median']:.3f} (wall) "
              f"{row['ratio_cpu_median']:.3f} (cpu)", flush=True)
    routed = entry["routed"]
    print(f"      ours routed ({len(routed['blocks_run'])} blocks) {1000 * routed['median_s']:9.1f} ms", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["256x448", "720x1280"])
    parser.add_argument("--devices", nargs="+", default=None, help="default: cpu, and cuda when present")
    parser.add_argument("--repeats", type=POSITIVE_INT, default=7)
    parser.add_argument("--warmup", type=NON_NEGATIVE_INT, default=1)
    parser.add_argument("--threads", type=POSITIVE_INT, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--no-variants", action="store_true", help="time only ours as evaluation runs it")
    parser.add_argument("--quick", action="store_true", help=f"smoke mode: CPU, {QUICK_SIZES[0]}, 2 repeats")
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks/inference.json"))
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.devices, args.repeats, args.warmup = QUICK_SIZES, ["cpu"], 2, 1
    devices = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    report = run(args.sizes, devices, args.warmup, args.repeats, not args.no_variants, args.threads)
    report["settings"]["quick"] = args.quick
    atomic_write_json(args.out, report)
    print(f"wrote {args.out}")
    return 0 if report["agreement_passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
