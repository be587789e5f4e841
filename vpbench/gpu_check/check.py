"""The command: run every part in order, print one line per part, keep the report up to date on disk."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from vpbench.argtypes import POSITIVE_FLOAT, POSITIVE_INT
from vpbench.gpu_check.runner import CheckFailed, PartOutcome, Report, run_part

# ---- Sizes of a GPU run: all parts together finish in < 8 minutes on one H200 (measured per part in the report).
TRAIN_STEPS = 200  # per method and AMP dtype: "a few hundred" optimiser steps
TRAIN_WARMUP_STEPS = 10  # left out of steps/s (cuDNN algorithm search, allocator growth)
TRAIN_TIME_CAP_S = 20.0  # per method and dtype: a slower GPU stops early (recorded) instead of overrunning
TRAIN_BATCH = 64  # the paper's global batch (§3.3)
TRAIN_CROP = 224  # the paper's crop (§3.3)
TRAIN_CROPS = 512  # distinct cached triplets; fitting them is what makes "the loss falls" a fair check
DDP_STEPS = 40  # interrupted at half, resumed to the end
DDP_BATCH_PER_PROCESS = 16
DDP_TIMEOUT_S = 240.0  # per torchrun call
LATENCY_SIZE = (720, 1280)  # the paper's 720p (§4.2)
LATENCY_WARMUP = 3
LATENCY_REPEATS = 15
EVAL_MAX_CLIPS = None  # every window of the smoke protocol (2 clips x 5 steps)
BUDGET_S = 450.0  # parts not started by then are reported as not run, so the whole run stays under 8 minutes

#: --quick: CPU-sized numbers for a plumbing run (CUDA parts are still skipped when there is no CUDA)
QUICK = {"train_steps": 3, "train_batch": 2, "train_crop": 64, "train_crops": 8, "ddp_steps": 4,
         "ddp_batch": 2, "latency_size": (64, 96), "latency_warmup": 1, "latency_repeats": 2}
AMP_DTYPES = ("fp16", "bf16")


@dataclass
class Settings:
    work: Path
    train_steps: int = TRAIN_STEPS
    train_batch: int = TRAIN_BATCH
    train_crop: int = TRAIN_CROP
    train_crops: int = TRAIN_CROPS
    train_time_cap_s: float = TRAIN_TIME_CAP_S
    ddp_steps: int = DDP_STEPS
    ddp_batch: int = DDP_BATCH_PER_PROCESS
    latency_size: tuple[int, int] = LATENCY_SIZE
    latency_warmup: int = LATENCY_WARMUP
    latency_repeats: int = LATENCY_REPEATS
    compile: bool = True
    budget_s: float = BUDGET_S


@dataclass
class Part:
    name: str
    needs_cuda: bool
    run: Callable[[], dict[str, Any]]


class Check:
    """The parts of one run and what they hand each other (data paths, checkpoints, measured speeds)."""

    def __init__(self, settings: Settings, device: torch.device) -> None:
        self.s = settings
        self.device = device
        self.crops_path: Path | None = None
        self.eval_tree: Path | None = None
        self.results: dict[str, dict[str, Any]] = {}  # what each finished part measured (failed checks too)
        self.failed: set[str] = set()

    def fresh(self, name: str) -> Path:
        path = self.s.work / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def data(self) -> dict[str, Any]:
        from vpbench.gpu_check.data import EVAL_DATASET, build_eval_tree, build_training_crops

        crops = self.s.work / "data" / f"crops-{self.s.train_crops}x{self.s.train_crop}.npy"
        self.crops_path = build_training_crops(crops, self.s.train_crops, self.s.train_crop)
        self.eval_tree = build_eval_tree(self.s.work / "data")
        return {"training_crops": str(self.crops_path), "crops": self.s.train_crops, "crop": self.s.train_crop,
                "eval_tree": str(self.eval_tree), "eval_dataset": EVAL_DATASET}

    def needs_data(self) -> tuple[Path, Path]:
        if self.crops_path is None or self.eval_tree is None:
            raise CheckFailed("the data part did not finish, so there is nothing to train or evaluate on")
        return self.crops_path, self.eval_tree

    def train(self, case: Any, amp_dtype: str) -> dict[str, Any]:
        from vpbench.gpu_check.training import run_training

        crops, _ = self.needs_data()
        return run_training(case, amp_dtype, crops, self.fresh(f"train/{case.name}-{amp_dtype}"), self.device,
                            steps=self.s.train_steps, batch=self.s.train_batch, crop=self.s.train_crop,
                            warmup_steps=min(TRAIN_WARMUP_STEPS, self.s.train_steps // 2),
                            time_cap_s=self.s.train_time_cap_s)

    def ddp(self) -> dict[str, Any]:
        from vpbench.gpu_check.training import run_ddp

        crops, _ = self.needs_data()
        nproc = torch.cuda.device_count() if self.device.type == "cuda" else 1
        return run_ddp(crops, self.fresh("ddp"), self.device.type, nproc, steps=self.s.ddp_steps,
                       batch_per_process=self.s.ddp_batch, crop=self.s.train_crop, timeout_s=DDP_TIMEOUT_S)

    def evaluation(self) -> dict[str, Any]:
        from vpbench.gpu_check.evaluation import eval_checkpoint, run_evaluation

        _, tree = self.needs_data()
        # the DMVFN trained by this run (written before its checks, so also when one of them failed)
        trained = [self.s.work / "train" / f"dmvfn-{d}" / "final.pt" for d in AMP_DTYPES
                   if f"train_dmvfn_{d}" in self.results]
        checkpoint, origin = eval_checkpoint(self.fresh("eval"), next((p for p in trained if p.is_file()), None))
        result = run_evaluation(tree, checkpoint, ("cpu", str(self.device)), EVAL_MAX_CLIPS, with_tf32_off=True)
        return {"weights": origin, "checkpoint": str(checkpoint), **result}

    def latency(self, variants: tuple[str, ...]) -> dict[str, Any]:
        from vpbench.gpu_check.latency import run_latency

        height, width = self.s.latency_size
        return run_latency(self.device, height, width, self.s.latency_warmup, self.s.latency_repeats, variants)

    def plan_estimate(self) -> dict[str, Any]:
        from vpbench.gpu_check.hours import plan_estimate

        return plan_estimate()

    def gpu_hours(self) -> dict[str, Any]:
        from vpbench.gpu_check.hours import recompute_hours
        from vpbench.gpu_check.training import TRAIN_CASES

        # a training part that failed one of its checks after training still measured its speed
        measured = {case.name: self.results.get(f"train_{case.name}_bf16", {}) for case in TRAIN_CASES}
        rates = {name: 1.0 / r["steps_per_s"] for name, r in measured.items() if r.get("steps_per_s")}
        if not rates:
            raise CheckFailed("no bf16 training part measured a speed")
        result = recompute_hours(rates, self.s.train_batch, self.s.train_crop, device_name(self.device))
        result["speeds_from_failed_parts"] = sorted(n for n in rates if f"train_{n}_bf16" in self.failed)
        return result

    def parts(self) -> list[Part]:
        from vpbench.gpu_check.latency import COMPILE_VARIANTS, VARIANTS
        from vpbench.gpu_check.training import TRAIN_CASES

        parts = [Part("data", False, self.data)]
        for case in TRAIN_CASES:
            for amp_dtype in AMP_DTYPES:
                parts.append(Part(f"train_{case.name}_{amp_dtype}", True,
                                  lambda c=case, d=amp_dtype: self.train(c, d)))
        parts += [
            Part("ddp_nccl_resume", True, self.ddp),
            Part("eval_cuda_vs_cpu", True, self.evaluation),
            Part("plan_estimate", False, self.plan_estimate),
            Part("gpu_hours_measured", True, self.gpu_hours),
            Part("latency_720p", True, lambda: self.latency(VARIANTS)),
        ]
        if self.s.compile:
            parts.append(Part("latency_720p_compile", True, lambda: self.latency(COMPILE_VARIANTS)))
        return parts


def device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


def default_out(cuda: bool) -> Path:
    name = torch.cuda.get_device_name(0) if cuda else "no-cuda"
    return Path("results/benchmarks") / f"gpu-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}.json"


def environment(cuda: bool) -> dict[str, Any]:
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "cuda_available": cuda,
        "git_commit": _git_commit(),
    }
    if cuda:
        env.update(
            cuda=torch.version.cuda,
            cudnn=torch.backends.cudnn.version(),
            devices=[torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
            capability=".".join(map(str, torch.cuda.get_device_capability(0))),
            memory_gib=torch.cuda.get_device_properties(0).total_memory / 2**30,
            cudnn_allow_tf32=torch.backends.cudnn.allow_tf32,
            matmul_allow_tf32=torch.backends.cuda.matmul.allow_tf32,
            cudnn_benchmark=torch.backends.cudnn.benchmark,
        )
    return env


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def headline(outcome: PartOutcome) -> str:
    """One line per part: status, time and its key numbers."""
    r = outcome.result
    text = f"[{outcome.seconds:7.1f} s] {outcome.name}: {outcome.status}"
    if outcome.reason:
        text += f" ({outcome.reason})"
    if "steps_per_s" in r:
        text += (f"; {r['steps']} steps, {r['steps_per_s']:.2f} steps/s, {r['clips_per_s']:.0f} clips/s, "
                 f"loss {r['loss']['first_mean']:.4f} -> {r['loss']['last_mean']:.4f}")
        if "peak_memory_allocated_gib" in r:
            text += f", peak {r['peak_memory_allocated_gib']:.2f} GiB"
    elif "summary" in r and isinstance(r["summary"], str):
        text += f"; {r['summary']}"
    elif "comparison" in r:
        text += f"; max |step-mean diff| {r['comparison']['max_abs_diff_of_step_means']}"
    elif "train_hours" in r and "device" in r:
        text += (f"; {r['train_hours']:,.1f} h training on {r['device']} "
                 f"(plan: {r['plan_train_hours']:,.1f} h on {r['plan_reference_gpu']})")
    elif "printed" in r:
        text += f"; {r['printed'].splitlines()[0]}"
    elif "final_step" in r:
        worker = r["worker"]
        text += (f"; {worker.get('backend')} x{worker.get('world_size')}, resumed at "
                 f"{worker.get('resumed_from_step')} -> {r['final_step']}")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vpbench.gpu_check", description=(
        "Exercise every CUDA path of the harness in one short run and write a JSON report "
        "(CUDA parts read 'skipped: no CUDA' on a machine without a GPU)."))
    parser.add_argument("--out", type=Path, default=None,
                        help="report file (default results/benchmarks/gpu-<device>.json)")
    parser.add_argument("--work", type=Path, default=Path("results/gpu-check"), help="scratch folder (rewritten)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a plumbing run that takes seconds")
    parser.add_argument("--train-steps", type=POSITIVE_INT, help=f"steps per method and AMP dtype (default {TRAIN_STEPS})")
    parser.add_argument("--train-time-cap", type=POSITIVE_FLOAT, help=f"seconds per training run (default {TRAIN_TIME_CAP_S:g})")
    parser.add_argument("--ddp-steps", type=POSITIVE_INT, help=f"DDP steps, interrupted at half (default {DDP_STEPS})")
    parser.add_argument("--latency-repeats", type=POSITIVE_INT, help=f"timed rounds (default {LATENCY_REPEATS})")
    parser.add_argument("--no-compile", action="store_true", help="leave out the torch.compile latency part")
    parser.add_argument("--budget", type=POSITIVE_FLOAT, help=f"seconds after which no part starts (default {BUDGET_S:g})")
    parser.add_argument("--only", help="comma-separated part names (data and plan_estimate always run)")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    settings = Settings(work=args.work, **(QUICK if args.quick else {}))
    for flag, field in (("train_steps", "train_steps"), ("train_time_cap", "train_time_cap_s"),
                        ("ddp_steps", "ddp_steps"), ("latency_repeats", "latency_repeats"), ("budget", "budget_s")):
        value = getattr(args, flag)
        if value is not None:
            if value <= 0:
                raise SystemExit(f"--{flag.replace('_', '-')} must be positive, got {value}")
            setattr(settings, field, value)
    settings.compile = not args.no_compile
    return settings


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = settings_from(args)
    cuda = torch.cuda.is_available()
    device = torch.device("cuda", torch.cuda.current_device()) if cuda else torch.device("cpu")
    out = args.out or default_out(cuda)
    check = Check(settings, device)
    parts = check.parts()
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")} | {"data", "plan_estimate"}
        unknown = wanted - {p.name for p in parts}
        if unknown:
            raise SystemExit(f"--only: unknown part(s) {sorted(unknown)}; parts: {[p.name for p in parts]}")
        parts = [p for p in parts if p.name in wanted]
    settings_record = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(settings).items()}
    report = Report(out, environment(cuda), settings_record | {"quick": args.quick},
                    dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    report.write()
    print(f"gpu check on {device_name(device)}; report: {out}", flush=True)
    started = time.perf_counter()
    for part in parts:
        late = time.perf_counter() - started > settings.budget_s
        reason = f"the time budget of {settings.budget_s:g} s was spent before it started" if late else None
        outcome = run_part(part.name, part.run, part.needs_cuda, cuda, reason)
        if outcome.result:
            check.results[part.name] = outcome.result
        if outcome.status == "failed":
            check.failed.add(part.name)
        report.add(outcome)
        print(headline(outcome), flush=True)
    report.finished = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    report.write()
    summary = report.summary()
    print(f"{summary['ok']} ok, {summary['failed']} failed, {summary['skipped']} skipped in "
          f"{time.perf_counter() - started:.1f} s; wrote {out}", flush=True)
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
