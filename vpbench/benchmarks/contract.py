"""What the frame contract (``models.contract``) costs per evaluation step, against the step itself.

One evaluation step of the rollout is DMVFN's ``predict`` on a ``[B, 2, 3, H, W]`` context (scoring excluded, so the
ratio is an upper bound). The contract adds, per step: the engine's check of the predicted frame
(``rollout._check_output``), DMVFN's check of its two input frames (inside ``predict``) and the loader's range check
of a float clip (``frames_to_float``). Each is timed on the step's own tensors (medians of repeated rounds); the
goal is under 1 % of the step.

    python -m vpbench.benchmarks.contract --out results/benchmarks/contract.json [--size 256x448] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from vpbench.argtypes import POSITIVE_INT
from vpbench.utils import atomic_write, format_size, size_argument

GOAL = 0.01


def _median_seconds(function, repeats: int, inner: int, device: torch.device) -> float:
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        for _ in range(inner):
            function()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append((time.perf_counter() - start) / inner)
    return statistics.median(times)


def measure(size: tuple[int, int], device: str = "cpu", batch: int = 1, repeats: int = 7) -> dict[str, object]:
    from models.contract import check_input_frames, frames_to_float
    from models.dmvfn import DMVFN
    from vpbench.evaluation.rollout import _check_output

    dev = torch.device(device)
    torch.manual_seed(0)
    height, width = size
    model = DMVFN().to(dev).eval().optimize_for_inference(dev)
    context = torch.rand(batch, 2, 3, height, width, device=dev)
    clip = torch.rand(3, 3, height, width, device=dev)
    with torch.inference_mode():
        model.predict(context)  # warm-up
        step = _median_seconds(lambda: model.predict(context), repeats, 1, dev)
        predicted = model.predict(context)
        shape = context[:, -1].shape
        output_check = _median_seconds(lambda: _check_output(predicted, shape, 1), repeats, 20, dev)
        input_check = _median_seconds(lambda: check_input_frames("DMVFN", prev=context[:, 0], cur=context[:, 1]),
                                      repeats, 20, dev)
        loader_check = _median_seconds(lambda: frames_to_float(clip, dev, where="clip 'c'"), repeats, 20, dev) / clip.shape[0]
    checks = output_check + input_check + loader_check
    return {
        "size": format_size(size), "device": device, "batch": batch,
        "step_seconds": step, "output_check_seconds": output_check, "input_check_seconds": input_check,
        "loader_check_seconds_per_frame": loader_check, "checks_seconds": checks,
        "fraction_of_step": checks / step, "goal": GOAL, "meets_goal": checks / step < GOAL,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=size_argument, action="append", help="HxW (repeatable; default 256x448)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=POSITIVE_INT, default=7)
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks/contract.json"))
    args = parser.parse_args(argv)
    results = [measure(size, args.device, repeats=args.repeats) for size in (args.size or [(256, 448)])]
    for row in results:
        print(f"{row['size']} on {row['device']}: step {row['step_seconds'] * 1e3:.1f} ms, contract checks "
              f"{row['checks_seconds'] * 1e6:.0f} us = {row['fraction_of_step']:.3%} of the step (goal < {GOAL:.0%})")
    payload = {"results": results, "host": platform.node(), "cpus": os.cpu_count(),
               "load_average": list(os.getloadavg()), "torch": torch.__version__}
    atomic_write(args.out, json.dumps(payload, indent=2) + "\n")
    return 0 if all(row["meets_goal"] for row in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
