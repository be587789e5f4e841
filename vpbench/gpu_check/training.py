"""Training parts: the engine's own optimiser step under AMP, timed; DDP through torchrun with resume.

Single-device runs build the engine's :class:`vpbench.training.trainer.Trainer` (device placement, AdamW, schedule, autocast,
GradScaler) and call its ``train_batch`` once per batch with a synchronisation after each, so every step is timed
and the loop can stop at a wall-clock cap; the final checkpoint is written by ``Trainer.save`` on the device. The
full ``Trainer.run`` loop (DataLoader with workers and pinned memory, logs, checkpoints, resume) runs in the DDP
part, under torchrun.
"""

from __future__ import annotations

import csv
import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vpbench.gpu_check.runner import CheckFailed
from vpbench.pipeline.spec import ExperimentSpec, TrainSpec

#: dataset factory the specs name (the torchrun workers import it)
CROPS_FACTORY = "vpbench.gpu_check.data:cached_crops"
SEED = 1234
#: fewer steps than this (plumbing runs) record the loss trend without judging it
MIN_STEPS_FOR_TREND = 20
#: Eq. 13's distance computed under autocast may differ from fp32 by at most this fraction of its value
LOSS_ROUNDING_TOLERANCE = 0.01


@dataclass(frozen=True)
class TrainCase:
    name: str
    method: str
    options: dict[str, Any] = field(default_factory=dict)


#: the methods trained on CUDA: DMVFN with the paper's STEBS routing, its Gumbel variant, and the two baselines
TRAIN_CASES: tuple[TrainCase, ...] = (
    TrainCase("dmvfn", "dmvfn"),
    TrainCase("dmvfn_gumbel", "dmvfn", {"routing": "gumbel"}),
    TrainCase("dvf", "dvf"),
    TrainCase("prednet", "prednet"),
)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def loss_trend(losses: list[float]) -> dict[str, Any]:
    """Mean loss of the first and of the last fifth of the steps; "falling" when the last is lower (None: too few
    steps to tell a trend from the noise of random batches)."""
    k = max(1, len(losses) // 5)
    first, last = statistics.fmean(losses[:k]), statistics.fmean(losses[-k:])
    falling = last < first if len(losses) >= MIN_STEPS_FOR_TREND else None
    return {"first_mean": first, "last_mean": last, "window_steps": k, "falling": falling}


def training_spec(case: TrainCase, amp_dtype: str, *, steps: int, batch: int, crop: int, data_root: str,
                  num_workers: int = 0, checkpoint_every: int | None = None, log_every: int = 10) -> ExperimentSpec:
    train = TrainSpec(dataset=CROPS_FACTORY, data_root=data_root, recipe="paper", max_steps=steps, batch_size=batch,
                      crop=crop, amp=True, amp_dtype=amp_dtype, num_workers=num_workers,
                      checkpoint_every=checkpoint_every or steps, log_every=log_every)
    return ExperimentSpec(id=f"gpu-check-{case.name}-{amp_dtype}", method=case.method,
                          method_options=dict(case.options), train=train, seed=SEED, source="retrained")


def run_training(case: TrainCase, amp_dtype: str, crops_path: Path, out_dir: Path, device: torch.device, *,
                 steps: int, batch: int, crop: int, warmup_steps: int, time_cap_s: float) -> dict[str, Any]:
    """Train ``case`` for up to ``steps`` batches (or ``time_cap_s`` seconds); numbers, or CheckFailed."""
    from vpbench.training.distributed import DistributedContext
    from vpbench.gpu_check.data import cached_crops
    from vpbench.training.trainer import Trainer

    spec = training_spec(case, amp_dtype, steps=steps, batch=batch, crop=crop, data_root=str(crops_path))
    dataset = cached_crops(str(crops_path), clip_length=3, crop=crop, augmentation="paper", max_clips=None, seed=SEED)
    if dataset.crops.shape[-1] != crop:
        raise ValueError(f"{crops_path} holds {dataset.crops.shape[-1]}-pixel crops, not {crop}")
    crops = torch.from_numpy(np.array(dataset.crops))  # [N, 3, 3, crop, crop] uint8
    if device.type == "cuda":
        crops = crops.pin_memory()
        torch.cuda.reset_peak_memory_stats(device)
    context = DistributedContext(0, 1, 0, device)
    trainer = Trainer(spec, out_dir, context, dataset, "imagenet")
    generator = torch.Generator().manual_seed(SEED)
    losses: list[float] = []
    step_seconds: list[float] = []
    start = time.perf_counter()
    for _ in range(steps):
        clips = crops[torch.randint(len(crops), (batch,), generator=generator)]
        began = time.perf_counter()
        terms, windows = trainer.train_batch(clips)  # raises TrainingDiverged on a NaN/inf loss
        trainer.position.advance(trainer.sampler.batches_per_epoch, windows)
        synchronize(device)
        step_seconds.append(time.perf_counter() - began)
        losses.append(float(terms["loss"]))
        if time.perf_counter() - start > time_cap_s:
            break
    trainer.save(trainer.final_path, True, time.perf_counter() - start)  # written on the device, read on CPU later
    extra_errors: dict[str, str] = {}
    amp_error = _guarded(extra_errors, "loss_rel_diff_autocast_vs_fp32", autocast_loss_error, trainer, clips, device)
    rounding = _guarded(extra_errors, "laplacian_l1_rel_error_under_autocast", laplacian_rounding, trainer, clips,
                        device)
    timed = step_seconds[warmup_steps:] or step_seconds
    steps_per_s = len(timed) / sum(timed)
    result: dict[str, Any] = {
        "method": case.method,
        "options": dict(case.options),
        "amp_dtype": amp_dtype,
        "autocast": trainer.use_amp,
        "grad_scaler": trainer.scaler.is_enabled(),
        "batch": batch,
        "crop": crop,
        "steps": len(losses),
        "steps_asked": steps,
        "stopped_by_time_cap": len(losses) < steps,
        "warmup_steps_excluded": len(step_seconds) - len(timed),
        "steps_per_s": steps_per_s,
        "clips_per_s": steps_per_s * batch,
        "median_step_s": statistics.median(timed),
        "first_step_s": step_seconds[0],
        "loss": loss_trend(losses),
        "losses_every_10": losses[::10],
        "checkpoint": str(trainer.final_path),
        "loss_rel_diff_autocast_vs_fp32": amp_error,
        "laplacian_l1_rel_error_under_autocast": rounding,
    }
    if extra_errors:
        result["errors"] = extra_errors
    if trainer.scaler.is_enabled():
        result["final_loss_scale"] = float(trainer.scaler.get_scale())
    if device.type == "cuda":
        result["peak_memory_allocated_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
        result["peak_memory_reserved_gib"] = torch.cuda.max_memory_reserved(device) / 2**30
    if not all(math.isfinite(v) for v in losses):
        raise CheckFailed("a loss was not finite", result)
    if result["loss"]["falling"] is False:
        raise CheckFailed(
            f"the loss did not fall: mean {result['loss']['first_mean']:.4f} over the first "
            f"{result['loss']['window_steps']} steps, {result['loss']['last_mean']:.4f} over the last", result)
    if extra_errors:
        raise CheckFailed(f"a precision measurement failed: {extra_errors}", result)
    if rounding is not None and rounding > LOSS_ROUNDING_TOLERANCE:
        raise CheckFailed(
            f"Eq. 13's Laplacian L1 under {amp_dtype} autocast is {100 * rounding:.1f}% off its fp32 value at the "
            f"trained model's prediction (tolerance {100 * LOSS_ROUNDING_TOLERANCE:g}%): models/losses.py blurs in "
            "the autocast dtype, so rounding, not the prediction error, drives the loss", result)
    return result


def _guarded(errors: dict[str, str], name: str, function: Any, *args: Any) -> Any:
    """``function(*args)``, or None with the error kept under ``name`` (the step timings are worth keeping)."""
    try:
        return function(*args)
    except Exception as error:
        errors[name] = f"{type(error).__name__}: {error}"
        return None


def autocast_loss_error(trainer: Any, clips: torch.Tensor, device: torch.device) -> float | None:
    """Relative difference of the method's loss on one batch under the run's autocast and in fp32 (same RNG draws):
    how much of the loss is rounding. None when the run had no autocast."""
    from models.contract import CLIP_BATCH, frames_to_float

    if not trainer.use_amp:
        return None
    frames = frames_to_float(clips, device, layout=CLIP_BATCH, where="the training dataset")
    context, target = frames[:, : trainer.window - 1], frames[:, trainer.window - 1]
    values = []
    with torch.no_grad():
        for enabled in (True, False):
            torch.manual_seed(SEED)
            with torch.autocast(device.type, dtype=trainer.amp_dtype, enabled=enabled):
                values.append(float(trainer.method.loss(context, target).total))
    return abs(values[0] - values[1]) / max(abs(values[1]), 1e-12)


def laplacian_rounding(trainer: Any, clips: torch.Tensor, device: torch.device) -> float | None:
    """Relative error of Eq. 13's distance (``models.losses.laplacian_l1``) computed under the run's autocast instead
    of fp32, at the trained DMVFN's own prediction: the rounding the loss carries once training is under way.
    None for runs without autocast and for methods that do not use that loss."""
    from models.contract import CLIP_BATCH, frames_to_float
    from models.losses import laplacian_l1

    if not trainer.use_amp or trainer.spec.method != "dmvfn":
        return None
    frames = frames_to_float(clips, device, layout=CLIP_BATCH, where="the training dataset")
    trainer.method.eval()
    try:
        with torch.no_grad():
            torch.manual_seed(SEED)
            prediction = trainer.method(frames[:, 0], frames[:, 1])
            target = frames[:, 2]
            with torch.autocast(device.type, dtype=trainer.amp_dtype):
                low = float(laplacian_l1(prediction, target))
            full = float(laplacian_l1(prediction, target))
    finally:
        trainer.method.train()
    return abs(low - full) / max(abs(full), 1e-12)


# --------------------------------------------------------------------------------------------------------------
# DDP under torchrun


def torchrun_command(nproc: int, worker_args: list[str]) -> list[str]:
    """``torchrun --standalone --nproc_per_node=N -m vpbench.gpu_check.ddp_worker ...`` (torchrun's own module,
    run with this interpreter so that the workers import this checkout)."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
            "-m", "vpbench.gpu_check.ddp_worker", *worker_args]


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(extra)
    return env


def _read_log(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _tail(text: str, lines: int = 15) -> list[str]:
    return text.strip().splitlines()[-lines:]


def run_ddp(crops_path: Path, out_dir: Path, device_type: str, nproc: int, *, steps: int, batch_per_process: int,
            crop: int, timeout_s: float) -> dict[str, Any]:
    """First run stopped after half the steps (checkpoint written), then ``--resume`` to the end; both via torchrun."""
    from vpbench.training.checkpoints import load_training_checkpoint
    from vpbench.training.trainer import STOP_AFTER_STEP_ENV, STOP_EXIT_CODE

    half = max(1, steps // 2)
    spec = training_spec(TRAIN_CASES[0], "fp16", steps=steps, batch=batch_per_process * nproc, crop=crop,
                         data_root=str(crops_path), num_workers=2, checkpoint_every=half, log_every=1)
    spec_path = out_dir / "spec.json"
    run_dir = out_dir / "run"
    spec.save(spec_path)
    base = ["--spec", str(spec_path), "--out", str(run_dir), "--device", device_type,
            "--result", str(out_dir / "worker-result.json")]
    result: dict[str, Any] = {"nproc_per_node": nproc, "steps": steps, "stopped_at": half,
                              "global_batch": batch_per_process * nproc, "amp_dtype": "fp16", "crop": crop}

    started = time.perf_counter()
    first = subprocess.run(torchrun_command(nproc, base), env=_child_env({STOP_AFTER_STEP_ENV: str(half)}),
                           capture_output=True, text=True, timeout=timeout_s)
    result["first_run_s"] = time.perf_counter() - started
    last = run_dir / "last.pt"
    if not last.is_file():
        raise CheckFailed(f"the interrupted torchrun run left no {last.name} (exit {first.returncode})",
                          result | {"first_run_output": _tail(first.stdout + first.stderr)})
    written = load_training_checkpoint(last)
    result["checkpoint_step"] = int(written["step"])
    result["checkpoint_world_size"] = int(written["world_size"])
    result["checkpoint_grad_scaler_state"] = bool(written["grad_scaler"])
    result["first_run_exit"] = first.returncode
    result["stop_exit_code_expected"] = STOP_EXIT_CODE

    started = time.perf_counter()
    second = subprocess.run(torchrun_command(nproc, [*base, "--resume"]), env=_child_env({}), capture_output=True,
                            text=True, timeout=timeout_s)
    result["resumed_run_s"] = time.perf_counter() - started
    if second.returncode != 0:
        raise CheckFailed(f"the resumed torchrun run exited with {second.returncode}",
                          result | {"resumed_run_output": _tail(second.stdout + second.stderr)})
    worker = json.loads((out_dir / "worker-result.json").read_text())
    final = load_training_checkpoint(run_dir / "final.pt")
    log = _read_log(run_dir / "train_log.csv")
    losses = [float(row["loss"]) for row in log]
    result.update(worker=worker, final_step=int(final["step"]), logged_steps=[int(row["step"]) for row in log],
                  losses=losses)
    problems = []
    if result["checkpoint_step"] != half:
        problems.append(f"the interrupted run's checkpoint is at step {result['checkpoint_step']}, not {half}")
    if worker.get("resumed_from_step") != half:
        problems.append(f"the resumed run started at step {worker.get('resumed_from_step')}, not {half}")
    if result["final_step"] != steps:
        problems.append(f"final.pt is at step {result['final_step']}, not {steps}")
    if result["logged_steps"] != list(range(1, steps + 1)):
        problems.append("train_log.csv does not hold every step exactly once")
    if not all(math.isfinite(v) for v in losses):
        problems.append("a logged loss is not finite")
    if device_type == "cuda" and not result["checkpoint_grad_scaler_state"]:
        problems.append("the fp16 run's checkpoint holds no GradScaler state")
    if not worker.get("ddp_wrapped"):
        problems.append("the model was not wrapped in DistributedDataParallel")
    if worker.get("all_reduce_ok") is not True:
        problems.append("the all_reduce sanity check failed")
    if problems:
        raise CheckFailed("; ".join(problems), result)
    return result
