"""Latency per predicted 720p frame: DVF against DMVFN (all blocks, and routed), in one run.

The paper (§4.2) reports, on an RTX 2080Ti, 0.130 s for DVF and 0.023 s for DMVFN per 720p frame (5.6x). Absolute
times depend on the machine, so this benchmark measures all methods in the same process, interleaved, and reports
the DVF / DMVFN ratio, which is what can be compared with the paper on any device.

Protocol: batch 1, two context frames at H x W (default 720x1280, the first two frames of the Big Buck Bunny
smoke clip, which is 1280x720; ``--frames noise`` uses uniform noise), ``torch.inference_mode``, ``--warmup``
untimed runs of every method, then ``--repeats`` timed rounds; in each round every method runs once, in turn, so
slow drifts of a shared machine hit all methods alike. On CUDA the device is synchronised before and after each
call. Reported: median, min and all times.

Cases:
* ``dvf``: DVF (U-Net voxel flow), the same network whatever its weights.
* ``dmvfn_all_blocks``: DMVFN running all 9 blocks, routing head skipped (the cost of "DMVFN w/o r").
* ``dmvfn_routed``: DMVFN's normal inference: routing head, then only the blocks it selects. With untrained
  weights the router fires each block with p ~ 0.5; pass ``--dmvfn-checkpoint`` (a ``vpbench train`` checkpoint
  or an official ``.pkl``) for the usage of a trained model. The mean number of blocks run is recorded.

    python -m vpbench.benchmarks.latency --device cpu --repeats 10 --out results/benchmarks/latency.json
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from vpbench.argtypes import NON_NEGATIVE_INT, POSITIVE_INT, SEED
from vpbench.utils import atomic_write_json, size_argument

#: the paper's §4.2 measurement (RTX 2080Ti, 720p, per predicted frame)
PAPER_LATENCY = {"device": "NVIDIA TITAN 2080Ti (as printed in the paper)", "dvf_s": 0.130, "dmvfn_s": 0.023}
ALL_CASES = ("dvf", "dmvfn_all_blocks", "dmvfn_routed")
REAL_FRAMES_CLIP = "bigbuckbunny"


@dataclass
class Case:
    name: str
    method: str
    options: dict[str, Any]
    run: Callable[[Tensor], Tensor | None]  # context [1, 2, 3, H, W] -> active blocks [1, n] or None
    times_s: list[float] = field(default_factory=list)
    active_counts: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "method": self.method,
            "options": self.options,
            "median_s": statistics.median(self.times_s),
            "min_s": min(self.times_s),
            "mean_s": statistics.fmean(self.times_s),
            "times_s": self.times_s,
        }
        if self.active_counts:  # routed runs draw their blocks anew each call: the count explains the spread
            out["mean_active_blocks"] = statistics.fmean(self.active_counts)
            out["active_blocks_per_run"] = self.active_counts
        return out


def real_context(height: int, width: int) -> Tensor:
    """The first two frames of the Big Buck Bunny smoke clip as [1, 2, 3, H, W] in [0, 1] (resized if needed)."""
    import av  # only needed for real frames

    from vpbench.assets import smoke_video

    path = smoke_video(REAL_FRAMES_CLIP)
    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            frames.append(torch.from_numpy(frame.to_ndarray(format="rgb24")).permute(2, 0, 1).float() / 255.0)
            if len(frames) == 2:
                break
    if len(frames) < 2:
        raise RuntimeError(f"{path}: fewer than 2 decodable frames")
    context = torch.stack(frames)
    if context.shape[-2:] != (height, width):
        context = F.interpolate(context, size=(height, width), mode="bilinear", align_corners=False).clamp(0, 1)
    return context.unsqueeze(0)


def noise_context(height: int, width: int, seed: int) -> Tensor:
    return torch.rand(1, 2, 3, height, width, generator=torch.Generator().manual_seed(seed))


def build_cases(names: list[str], device: torch.device, dmvfn_checkpoint: str | None) -> list[Case]:
    from models.registry import create_method

    cases: list[Case] = []
    dmvfn = None
    dmvfn_options: dict[str, Any] = {}
    if any(name.startswith("dmvfn") for name in names):
        if dmvfn_checkpoint:
            from vpbench.training.checkpoints import load_method

            dmvfn = load_method(dmvfn_checkpoint)
            dmvfn_options = {"checkpoint": str(dmvfn_checkpoint)}
            if not hasattr(dmvfn, "n_blocks"):
                raise ValueError(f"--dmvfn-checkpoint {dmvfn_checkpoint}: holds {type(dmvfn).__name__}, not DMVFN")
        else:
            dmvfn = create_method("dmvfn")
        dmvfn = dmvfn.to(device).eval()
    for name in names:
        if name == "dvf":
            dvf = create_method("dvf").to(device).eval()
            cases.append(Case(name, "dvf", {}, lambda context, m=dvf: _no_routing(m.predict(context).frame)))
        elif name == "dmvfn_all_blocks":
            assert dmvfn is not None
            ones = torch.ones(1, dmvfn.n_blocks, dtype=torch.bool, device=device)
            cases.append(
                Case(name, "dmvfn", dmvfn_options | {"active": "all"},
                     lambda context, m=dmvfn, a=ones: _no_routing(m(context[:, -2], context[:, -1], active=a)))
            )
        elif name == "dmvfn_routed":
            assert dmvfn is not None
            cases.append(
                Case(name, "dmvfn", dmvfn_options | {"active": "routed"},
                     lambda context, m=dmvfn: m.predict(context).active_blocks)
            )
        else:
            raise ValueError(f"unknown case {name!r}; choose from {', '.join(ALL_CASES)}")
    return cases


def _no_routing(_frame: Tensor) -> None:
    return None


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_call(case: Case, context: Tensor, device: torch.device) -> tuple[float, Tensor | None]:
    _synchronize(device)
    start = time.perf_counter()
    active = case.run(context)
    _synchronize(device)
    return time.perf_counter() - start, active


def run_benchmark(
    cases: list[Case], context: Tensor, device: torch.device, warmup: int, repeats: int, progress: bool = True
) -> None:
    from tqdm import tqdm

    context = context.to(device)
    with torch.inference_mode():
        for _ in range(warmup):
            for case in cases:
                time_call(case, context, device)
        for _ in tqdm(range(repeats), desc="latency rounds", disable=not progress, file=sys.stderr):
            for case in cases:
                seconds, active = time_call(case, context, device)
                case.times_s.append(seconds)
                if active is not None:
                    case.active_counts.append(int(active.sum()))


def device_description(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} logical cores)"


def ratios(summaries: dict[str, dict[str, Any]]) -> dict[str, float]:
    out = {}
    if "dvf" in summaries:
        for name in ("dmvfn_routed", "dmvfn_all_blocks"):
            if name in summaries:
                out[f"dvf_over_{name}"] = summaries["dvf"]["median_s"] / summaries[name]["median_s"]
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m vpbench.benchmarks.latency", description="Time per predicted frame of DVF and DMVFN (paper §4.2)."
    )
    parser.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1 ... (default cpu)")
    parser.add_argument("--size", type=size_argument, default=(720, 1280), help="frame size HxW (default 720x1280)")
    parser.add_argument("--repeats", type=POSITIVE_INT, default=10, help="timed rounds after warm-up (default 10)")
    parser.add_argument("--warmup", type=NON_NEGATIVE_INT, default=2, help="untimed runs of every case first (default 2)")
    parser.add_argument("--cases", default=",".join(ALL_CASES), help=f"comma-separated subset of {','.join(ALL_CASES)}")
    parser.add_argument("--frames", choices=("real", "noise"), default="real", help="real video frames or noise")
    parser.add_argument(
        "--dmvfn-checkpoint", default=None, help="trained or official DMVFN weights (default: untrained)"
    )
    parser.add_argument("--threads", type=POSITIVE_INT, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--seed", type=SEED, default=0, help="seeds the routing draws (and noise frames)")
    parser.add_argument("--out", type=Path, default=None, help="JSON file to write")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.repeats < 1 or args.warmup < 0:
        raise SystemExit(f"--repeats must be >= 1 and --warmup >= 0 (got {args.repeats}, {args.warmup})")
    names = [n.strip() for n in args.cases.split(",") if n.strip()]
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {args.device}: CUDA is not available on this machine")
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    height, width = args.size
    context = real_context(height, width) if args.frames == "real" else noise_context(height, width, args.seed)
    cases = build_cases(names, device, args.dmvfn_checkpoint)
    run_benchmark(cases, context, device, args.warmup, args.repeats, progress=not args.no_progress)

    summaries = {case.name: case.summary() for case in cases}
    payload = {
        "device": device_description(device),
        "device_type": device.type,
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "height": height,
        "width": width,
        "batch": 1,
        "frames": REAL_FRAMES_CLIP if args.frames == "real" else "noise",
        "warmup": args.warmup,
        "repeats": args.repeats,
        "seed": args.seed,
        "methods": summaries,
        "ratios": ratios(summaries),
        "paper": PAPER_LATENCY | {"ratio": PAPER_LATENCY["dvf_s"] / PAPER_LATENCY["dmvfn_s"]},
    }
    for name, summary in summaries.items():
        extra = f", {summary['mean_active_blocks']:.2f} blocks on average" if "mean_active_blocks" in summary else ""
        print(f"{name:>18}: median {summary['median_s']:.4f} s, min {summary['min_s']:.4f} s{extra}")
    for name, value in payload["ratios"].items():
        print(f"{name}: {value:.2f}x (paper, 2080Ti: DVF / DMVFN = {payload['paper']['ratio']:.2f}x)")
    if args.out is not None:
        atomic_write_json(args.out, payload)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
