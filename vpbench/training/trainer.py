"""The training engine every method shares: data, optimiser, schedule, DDP, AMP, logs and resumable checkpoints.

A method only supplies ``loss(context, target)`` (models/base.py). Per batch of clips ``[B, L, 3, H, W]`` the
engine cuts windows of ``context_length + 1`` consecutive frames (a triplet I_{t-1}, I_t -> I_{t+1} for
DMVFN) and takes one optimiser step per window:

* recipe ``paper`` asks the dataset for items of exactly one window, so one batch = one optimiser step;
* recipe ``official`` loads whole clips and steps on every consecutive window of the clip (n - 2 steps per
  batch for DMVFN), all at the learning rate of that batch: the schedule counts batches, as the released code.

``step`` (checkpoints, logs, ``max_steps``, the schedule) counts batches. A run is resumable at any checkpoint:
model, optimiser, scheduler, grad scaler, the RNG states of every rank and the data position (epoch and batch
within the epoch) are saved, and the data order of an epoch is a pure function of (seed, epoch), so a resumed
run sees exactly the batches the uninterrupted one would have seen. On CPU the final weights are bitwise
identical. With ``num_workers > 0`` this needs a dataset whose randomness is a function of (seed, epoch,
index), as ``TrainClips``; one that draws from the process RNG resumes bitwise only with ``num_workers = 0``.
"""

from __future__ import annotations

import importlib
import math
import os
import random
import re
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, Sampler
from tqdm import tqdm

from models.base import LossOutput, VideoPredictor
from models.contract import CLIP_BATCH, FrameContractError, frames_to_float
from models.registry import create_method
from models.routing import NonFiniteRouting
from vpbench.training.checkpoints import (
    CHECKPOINT_FORMAT,
    FINAL_NAME,
    LAST_NAME,
    CheckpointError,
    capture_rng_state,
    load_training_checkpoint,
    restore_rng_state,
    save_checkpoint,
)
from vpbench.training.distributed import DistributedContext, any_rank, barrier, gather_objects, init_distributed, shutdown
from vpbench.training.losses import VGGPerceptualLoss, VGGWeights
from vpbench.training.recipes import Recipe, default_clip_length, lr_schedule, resolve_recipe
from vpbench.training.run_folder import (  # noqa: F401 - spec_hash: public through here too
    TrainingLog,
    check_resumable,
    claim_run_folder,
    keep_finished,
    spec_hash,
)
from vpbench.outputs import OutputError, write_error
from vpbench.pipeline.spec import ExperimentSpec, SpecError, TrainSpec
from vpbench.utils import seed_everything

#: test hook: the process exits abruptly (as if killed) right after finishing this step
STOP_AFTER_STEP_ENV = "VPBENCH_TEST_STOP_AFTER_STEP"
STOP_EXIT_CODE = 86


class TrainingDiverged(RuntimeError):
    """A loss, routing probability, gradient or weight became NaN/inf; the last good checkpoint is left untouched."""


class AlreadyTrained(RuntimeError):
    """``final.pt`` exists in the output folder."""


@dataclass
class TrainResult:
    final_checkpoint: Path
    steps: int
    optimizer_steps: int
    seconds: float
    resumed_from_step: int | None
    method: VideoPredictor  # the trained method (still in training mode, on the training device)


# --------------------------------------------------------------------------------------------------------------
# Data


def build_train_dataset(train: TrainSpec, recipe: Recipe, clip_length: int, seed: int) -> Dataset:
    """The training clips of ``train.dataset``: ``data_prep.datasets.TrainClips`` on the prepared tree, or a
    ``"package.module:factory"`` called with the same keyword arguments (synthetic or user datasets)."""
    kwargs = dict(clip_length=clip_length, crop=recipe.crop, augmentation=recipe.augmentation,
                  max_clips=train.max_clips, seed=seed)
    if ":" in train.dataset:
        module_name, _, attr = train.dataset.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as err:
            raise SpecError(f"train.dataset={train.dataset!r}: cannot import the dataset factory ({err})") from err
        return factory(train.data_root, **kwargs)
    try:
        from data_prep.datasets import TrainClips
    except ImportError as err:
        raise RuntimeError(f"training on {train.dataset!r} needs data_prep.datasets.TrainClips ({err})") from err
    if not Path(train.data_root).exists():
        raise SpecError(f"train.data_root={train.data_root!r}: prepared dataset folder not found")
    dataset = TrainClips(train.data_root, **kwargs)
    _check_crop_fits(dataset, recipe.crop, train.data_root)
    return dataset


def _check_crop_fits(dataset: Any, crop: int, data_root: str) -> None:
    """Refuse a crop larger than the prepared frames before the first batch (else every item fails in a worker)."""
    try:
        frames = dataset.split.frames
        height, width = int(frames.height.min()), int(frames.width.min())
    except (AttributeError, ValueError):  # another dataset layout: the first batch tells
        return
    if crop > min(height, width):
        raise SpecError(
            f"train.crop: crop {crop} is larger than the frames of {data_root} (smallest {height}x{width}); "
            f"set train.crop (the recipe's crop) <= {min(height, width)}"
        )


_CROP_TOO_LARGE = re.compile(r"crop \d+ is larger than the frames \([^)]*\)")


def _reworded_data_error(err: ValueError, train: TrainSpec) -> SpecError | None:
    """A data error the spec caused (raised in a loader worker, so buried in its traceback text), as one line."""
    found = _CROP_TOO_LARGE.search(str(err))
    if found is None:
        return None
    return SpecError(f"train.crop: {found.group(0)} of {train.data_root or train.dataset}; set a smaller train.crop")


class EpochBatchSampler(Sampler[int]):
    """Indices of one rank for one epoch, starting ``start_batch`` batches in.

    The epoch's order is ``randperm(len, seed + epoch)`` cut to whole global batches; rank r reads positions
    r, r + world, ... of it. The first k global batches are then the first k x global_batch indices of that
    permutation whatever the number of ranks, so skipping k batches per rank resumes at the same data.
    """

    def __init__(self, dataset_length: int, global_batch: int, world_size: int, rank: int, seed: int) -> None:
        if global_batch % world_size:
            raise SpecError(f"train.batch_size={global_batch} does not split over {world_size} processes")
        if dataset_length < global_batch:
            raise SpecError(
                f"the training set has {dataset_length} items, fewer than one global batch of {global_batch}; "
                "lower train.batch_size or add data"
            )
        self.dataset_length = dataset_length
        self.global_batch = global_batch
        self.world_size = world_size
        self.rank = rank
        self.seed = seed
        self.per_rank_batch = global_batch // world_size
        self.batches_per_epoch = dataset_length // global_batch
        self.epoch = 0
        self.start_batch = 0

    def set_position(self, epoch: int, start_batch: int) -> None:
        self.epoch, self.start_batch = epoch, start_batch

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(self.dataset_length, generator=generator)[: self.batches_per_epoch * self.global_batch]
        mine = order[self.rank :: self.world_size]
        return iter(mine[self.start_batch * self.per_rank_batch :].tolist())

    def __len__(self) -> int:
        return (self.batches_per_epoch - self.start_batch) * self.per_rank_batch


def _seed_worker(worker_id: int) -> None:
    # DataLoader seeds torch per worker from its generator; numpy and random follow it.
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


# --------------------------------------------------------------------------------------------------------------
# Model wrapper (DDP synchronises gradients only through ``forward``, so the loss is computed there)


class MethodLoss(nn.Module):
    def __init__(self, method: VideoPredictor) -> None:
        super().__init__()
        self.method = method

    def forward(self, context: Tensor, target: Tensor) -> tuple[Tensor, Tensor, dict[str, float]]:
        output = self.method.loss(context, target)
        name = type(self.method).__name__
        if not isinstance(output, LossOutput) or not isinstance(output.total, Tensor) or output.total.numel() != 1:
            raise FrameContractError(f"{name}.loss must return a LossOutput whose total is a scalar tensor, got "
                                     f"{type(output).__name__}")
        if not isinstance(output.final_prediction, Tensor) or output.final_prediction.shape != target.shape:
            shape = tuple(getattr(output.final_prediction, "shape", ()))
            raise FrameContractError(f"{name}.loss: final_prediction has shape {shape}, the target {tuple(target.shape)}")
        return output.total, output.final_prediction, dict(output.terms)


class RunningMeans:
    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.count = 0

    def add(self, values: dict[str, float]) -> None:
        for key, value in values.items():
            self.sums[key] = self.sums.get(key, 0.0) + value
        self.count += 1

    def pop(self) -> dict[str, float]:
        means = {key: value / max(self.count, 1) for key, value in self.sums.items()}
        self.sums, self.count = {}, 0
        return means


# --------------------------------------------------------------------------------------------------------------
# The loop


def _nonfinite_tensor(named: list[tuple[str, Tensor]]) -> str | None:
    """The name of the first tensor holding NaN/inf, or None (a single max-abs reduction when all are finite)."""
    tensors = [t.detach() for _, t in named]
    if not tensors or bool(torch.isfinite(torch.nn.utils.get_total_norm(tensors, norm_type=math.inf))):
        return None
    return next((name for name, tensor in named if not bool(torch.isfinite(tensor).all())), None)


@dataclass
class DataPosition:
    """Where a run stands: ``step`` batches done, the next batch is ``batch_in_epoch`` of ``epoch``."""

    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    optimizer_steps: int = 0

    def advance(self, batches_per_epoch: int, optimizer_steps: int) -> None:
        self.step += 1
        self.optimizer_steps += optimizer_steps
        self.batch_in_epoch += 1
        if self.batch_in_epoch == batches_per_epoch:
            self.epoch, self.batch_in_epoch = self.epoch + 1, 0


def train(
    spec: ExperimentSpec,
    out_dir: str | Path,
    *,
    resume: bool = False,
    device: str | None = None,
    dataset: Dataset | None = None,
    perceptual_weights: VGGWeights = "imagenet",
    progress: bool = True,
    tensorboard: bool = True,
    context: DistributedContext | None = None,
) -> TrainResult:
    """Train ``spec`` into ``out_dir`` (``last.pt`` every ``checkpoint_every`` batches, ``final.pt`` at the end).

    ``dataset`` replaces the spec's training data (tests, notebooks); ``perceptual_weights="random-for-tests"``
    lets tests exercise the VGG term without the ImageNet weights. Under ``torchrun`` every process calls this.
    """
    own_context = context is None
    context = context or init_distributed(device)
    out_dir = Path(out_dir)
    try:
        with claim_run_folder(out_dir, spec, resume, context.is_main):
            barrier(context)
            trainer = Trainer(spec, out_dir, context, dataset, perceptual_weights)
            if resume and trainer.last_path.exists():
                trainer.resume()
            elif trainer.last_path.exists():
                raise CheckpointError(f"{trainer.last_path} exists: pass --resume to continue it, or use a new output folder")
            return trainer.run(progress=progress, tensorboard=tensorboard)
    finally:
        if own_context:
            shutdown(context)


class Trainer:
    """One training run of one experiment on this process (one rank of a DDP job)."""

    def __init__(self, spec: ExperimentSpec, out_dir: Path, ctx: DistributedContext, dataset: Dataset | None,
                 perceptual_weights: VGGWeights) -> None:
        if spec.train is None:
            raise SpecError(f"experiment {spec.id!r} has no 'train' section: nothing to train")
        self.spec, self.out_dir, self.ctx = spec, out_dir, ctx
        self.train_spec = spec.train
        self.recipe = recipe = resolve_recipe(spec.train)
        self.last_path, self.final_path = out_dir / LAST_NAME, out_dir / FINAL_NAME
        if self.final_path.exists():
            raise AlreadyTrained(f"{self.final_path} exists: this experiment is trained; delete it to train again")

        seed_everything(spec.seed)  # identical initial weights on every rank (DDP also broadcasts rank 0's)
        try:
            self.method = create_method(spec.method, **spec.method_options)
        except (KeyError, TypeError, ValueError) as err:  # unknown method, unknown or bad option
            raise SpecError(f"{spec.id}: cannot build method {spec.method!r} with {spec.method_options}: {err}") from err
        if not self.method.trainable:
            raise SpecError(f"method {spec.method!r} has nothing to train; give the experiment no 'train' section")
        self.method = self.method.to(ctx.device).optimize_for_training(ctx.device).train()
        self.window = self.method.context_length + 1  # frames per optimiser step: context + target
        if dataset is None:
            clip_length = default_clip_length(recipe, spec.train.dataset, self.window)
            dataset = build_train_dataset(spec.train, recipe, clip_length, spec.seed)
        self.dataset = dataset
        self.sampler = EpochBatchSampler(len(dataset), recipe.batch_size, ctx.world_size, ctx.rank, spec.seed)
        self.total_steps = spec.train.max_steps or recipe.epochs * self.sampler.batches_per_epoch

        self.parameters = [p for p in self.method.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.parameters, lr=recipe.lr_max, weight_decay=recipe.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lr_schedule(recipe, self.total_steps))
        self.use_amp = spec.train.amp and ctx.device.type == "cuda"
        self.amp_dtype = torch.float16 if spec.train.amp_dtype == "fp16" else torch.bfloat16
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp and self.amp_dtype == torch.float16)
        self.perceptual = (
            VGGPerceptualLoss(perceptual_weights).to(ctx.device) if recipe.perceptual_weight > 0 else None
        )
        self.loss_module: nn.Module = MethodLoss(self.method)
        if ctx.is_distributed:
            device_ids = [ctx.device.index] if ctx.device.type == "cuda" else None
            # find_unused_parameters as in the released code: routing variants may leave parameters out of a step
            self.loss_module = DistributedDataParallel(self.loss_module, device_ids=device_ids,
                                                       find_unused_parameters=True)
        self.position = DataPosition()
        self.elapsed_before = 0.0
        self.resumed_from: int | None = None
        seed_everything(spec.seed + ctx.rank)  # per-rank streams for stochastic routing and augmentation

    # ------------------------------------------------------------------------------------------ checkpoints
    def resume(self) -> None:
        # loaded on CPU: load_state_dict moves weights and optimiser state to the parameters' device
        checkpoint = load_training_checkpoint(self.last_path, map_location="cpu")
        check_resumable(checkpoint, self.spec, self.last_path)
        self.method.load_state_dict(checkpoint["model"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        self.scheduler.load_state_dict(checkpoint["scheduler"])
        if checkpoint["grad_scaler"]:  # empty when written without fp16 AMP (e.g. by a CPU run)
            self.scaler.load_state_dict(checkpoint["grad_scaler"])
        self.position = DataPosition(checkpoint["step"], checkpoint["epoch"], checkpoint["batch_in_epoch"],
                                     checkpoint["optimizer_steps"])
        self.elapsed_before = float(checkpoint.get("elapsed_seconds", 0.0))
        self.resumed_from = self.position.step
        if checkpoint["world_size"] == self.ctx.world_size:
            restore_rng_state(checkpoint["rng"][self.ctx.rank])
        else:
            warnings.warn(
                f"{self.last_path}: written by {checkpoint['world_size']} processes, resumed by "
                f"{self.ctx.world_size}: same data order, but the random streams are re-seeded (not bitwise identical)",
                stacklevel=2,
            )
            seed_everything(self.spec.seed + 1_000_003 * (self.ctx.rank + 1) + self.position.step)

    def save(self, path: Path, finished: bool, elapsed: float) -> None:
        """Every rank calls this (collectives); rank 0 writes. Refuses to save non-finite weights."""
        bad = _nonfinite_tensor(list(self.method.named_parameters()))
        if any_rank(self.ctx, bad is not None):
            kept = f"{self.last_path} is kept as the last good checkpoint" if self.last_path.exists() else (
                "no checkpoint had been written yet")
            raise TrainingDiverged(
                f"step {self.position.step}: the weight {bad or '(on another rank)'} is not finite; training stopped, "
                f"{kept}"
            )
        rng_states = gather_objects(self.ctx, capture_rng_state())
        if not self.ctx.is_main:
            return
        payload = {
            "format": CHECKPOINT_FORMAT,
            "method": self.spec.method,
            "method_options": dict(self.spec.method_options),
            "model": self.method.state_dict(),
            "spec": self.spec.to_dict(),
            "recipe": asdict(self.recipe),
            "step": self.position.step,
            "total_steps": self.total_steps,
            "epoch": self.position.epoch,
            "batch_in_epoch": self.position.batch_in_epoch,
            "optimizer_steps": self.position.optimizer_steps,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "grad_scaler": self.scaler.state_dict(),
            "rng": rng_states,
            "world_size": self.ctx.world_size,
            "elapsed_seconds": elapsed,
            "finished": finished,
        }
        try:
            save_checkpoint(payload, path)
        except OutputError as err:  # no space left, read-only: the previous checkpoint is untouched (atomic write)
            kept = f"{self.last_path} is kept as the last good checkpoint" if self.last_path.exists() else (
                "no checkpoint had been written yet")
            raise OutputError(f"step {self.position.step}: {err}; training stopped, {kept}") from None

    # ---------------------------------------------------------------------------------------------- steps
    def loader(self) -> DataLoader:
        """The rest of the current epoch (the order is a function of seed and epoch only).

        A new loader per epoch (no persistent workers): workers then receive the dataset after ``set_epoch``.
        """
        epoch = self.position.epoch
        self.sampler.set_position(epoch, self.position.batch_in_epoch)
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)
        return DataLoader(
            self.dataset,
            batch_size=self.sampler.per_rank_batch,
            sampler=self.sampler,
            drop_last=True,
            num_workers=self.train_spec.num_workers,
            # an explicit generator: creating the iterator must not consume the global RNG
            generator=torch.Generator().manual_seed(self.spec.seed * 100_003 + epoch * 1_009 + self.ctx.rank),
            worker_init_fn=_seed_worker,
            pin_memory=self.ctx.device.type == "cuda",
        )

    def _batches(self) -> Iterator[Tensor]:
        iterator = iter(self.loader())
        while True:
            try:
                clips = next(iterator)
            except StopIteration:
                return
            except ValueError as err:
                reworded = _reworded_data_error(err, self.train_spec)
                if reworded is None:
                    raise
                raise reworded from err
            yield clips

    def train_batch(self, clips: Tensor) -> tuple[dict[str, float], int]:
        """One optimiser step per window of the clips; returns the terms averaged over windows and the step count."""
        frames = frames_to_float(clips, self.ctx.device, layout=CLIP_BATCH, where="the training dataset")
        n_windows = frames.shape[1] - self.window + 1
        if n_windows < 1 or (self.recipe.triplets == "one_per_clip" and n_windows != 1):
            wanted = f"exactly {self.window}" if self.recipe.triplets == "one_per_clip" else f"at least {self.window}"
            raise ValueError(
                f"training items have {frames.shape[1]} frames; recipe {self.recipe.name!r} with a "
                f"{self.method.context_length}-frame context needs {wanted}"
            )
        batch_terms: dict[str, float] = {}
        for i in range(n_windows):
            self.method.set_training_progress((self.position.step + i / n_windows) / self.total_steps)
            context, target = frames[:, i : i + self.window - 1], frames[:, i + self.window - 1]
            for key, value in self.optimizer_step(context, target, i).items():
                batch_terms[key] = batch_terms.get(key, 0.0) + value / n_windows
        self.scheduler.step()  # the schedule counts batches, as the released code
        return batch_terms, n_windows

    def optimizer_step(self, context: Tensor, target: Tensor, window_index: int) -> dict[str, float]:
        """One optimiser step; any NaN/inf (routing probability, loss, gradient, weight) stops the run."""
        where = f"window {window_index}"
        problem: str | None = None
        try:
            with torch.autocast(self.ctx.device.type, dtype=self.amp_dtype, enabled=self.use_amp):
                total, final_prediction, terms = self.loss_module(context, target)
                if self.perceptual is not None:
                    perceptual_term = self.perceptual(final_prediction.float(), target)
                    total = total + self.recipe.perceptual_weight * perceptual_term
                    terms["perceptual"] = float(perceptual_term.detach())
        except NonFiniteRouting as err:
            problem = f"the {err}"
        else:
            if not bool(torch.isfinite(total.detach())):
                problem = f"the loss is not finite ({float(total.detach())})"
        self._stop_if_nonfinite(problem, where)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(total).backward()
        if self.scaler.is_enabled():
            # fp16: the scaler skips steps with inf/NaN gradients and lowers its scale; that is not divergence
            self.scaler.unscale_(self.optimizer)
        else:
            bad = _nonfinite_tensor([(n, p.grad) for n, p in self.method.named_parameters() if p.grad is not None])
            self._stop_if_nonfinite(bad and f"the gradient of {bad} is not finite", where)
        if self.recipe.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.parameters, self.recipe.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        bad = _nonfinite_tensor(list(self.method.named_parameters()))
        self._stop_if_nonfinite(bad and f"the weight {bad} is not finite after the optimiser step", where)
        return {"loss": float(total.detach()), **terms}

    def _stop_if_nonfinite(self, problem: str | None, where: str) -> None:
        """The one non-finite stop: name the step and the value, keep the last good checkpoint (every rank agrees)."""
        if not any_rank(self.ctx, problem is not None):
            return
        kept = f"{self.last_path} is kept as the last good checkpoint" if self.last_path.exists() else (
            "no checkpoint had been written yet")
        raise TrainingDiverged(
            f"step {self.position.step + 1} (epoch {self.position.epoch}, {where}): "
            f"{problem or 'a value is not finite on another rank'}"
            f"{f' on rank {self.ctx.rank}' if self.ctx.is_distributed and problem else ''}; training stopped, {kept}"
        )

    # ------------------------------------------------------------------------------------------------ run
    def run(self, progress: bool = True, tensorboard: bool = True) -> TrainResult:
        ctx, position = self.ctx, self.position
        if ctx.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            try:
                self.spec.save(self.out_dir / "spec.json")
            except OSError as err:
                raise write_error(err, self.out_dir / "spec.json", "nothing was trained") from None
        log = TrainingLog(self.out_dir, self.resumed_from, enabled=ctx.is_main, tensorboard=tensorboard)
        stop_after = int(os.environ.get(STOP_AFTER_STEP_ENV, "0") or 0)
        start_time = window_time = time.perf_counter()
        running = RunningMeans()
        bar = tqdm(total=self.total_steps, initial=position.step, disable=not (progress and ctx.is_main),
                   desc=f"train {self.spec.id}", unit="batch", dynamic_ncols=True)
        try:
            while position.step < self.total_steps:
                for clips in self._batches():
                    lr = self.scheduler.get_last_lr()[0]
                    terms, optimizer_steps = self.train_batch(clips)
                    position.advance(self.sampler.batches_per_epoch, optimizer_steps)
                    running.add(terms)
                    bar.update(1)
                    step = position.step
                    if step % self.train_spec.log_every == 0 or step == self.total_steps:
                        now = time.perf_counter()
                        count = running.count
                        means = running.pop()
                        bar.set_postfix(loss=f"{means.get('loss', math.nan):.4f}", lr=f"{lr:.2e}")
                        log.write({"step": step, "epoch": position.epoch, "lr": lr,
                                   "seconds": round(self.elapsed_before + now - start_time, 3),
                                   "step_seconds": round((now - window_time) / max(count, 1), 4), **means})
                        window_time = now
                    if step % self.train_spec.checkpoint_every == 0 and step < self.total_steps:
                        self.save(self.last_path, False, self.elapsed_before + time.perf_counter() - start_time)
                    if stop_after and step == stop_after:
                        os._exit(STOP_EXIT_CODE)  # test hook: die like a killed process (no cleanup)
                    if step >= self.total_steps:
                        break
            seconds = self.elapsed_before + time.perf_counter() - start_time
            self.save(self.final_path, True, seconds)
            if ctx.is_main:
                keep_finished(self.out_dir)
        finally:
            bar.close()
            log.close()
        return TrainResult(
            final_checkpoint=self.final_path,
            steps=position.step,
            optimizer_steps=position.optimizer_steps,
            seconds=seconds,
            resumed_from_step=self.resumed_from,
            method=self.method,
        )
