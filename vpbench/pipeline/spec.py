"""Experiment specification: what the pipeline hands to ``vpbench train`` / ``vpbench evaluate``.

An experiment = method + method options + training data + recipe + seed. The pipeline resolves each
experiment of ``config/*.yaml`` into one JSON file of this shape; every command also accepts the file directly,
so every step runs without Snakemake. Unknown keys are errors that name the key.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any


class SpecError(ValueError):
    """A spec file has an unknown key, a missing key or a bad value."""


@dataclass
class TrainSpec:
    dataset: str  # prepared training dataset name (cityscapes, kitti, ucf101, vimeo_train, ...)
    data_root: str  # prepared tree of that dataset
    recipe: str = "paper"  # "paper" (§3.3) | "official" (released scripts); see vpbench.training.recipes
    max_steps: int | None = None  # overrides epochs when set (smoke runs)
    epochs: int = 300
    batch_size: int = 64  # global batch, split over DDP processes
    crop: int | None = None  # None: the recipe's (224 paper, 256 official)
    clip_length: int | None = None  # frames per training clip; None: the dataset's default
    lr_max: float | None = None
    lr_min: float | None = None
    weight_decay: float | None = None
    grad_clip: float | None = None
    amp: bool = True  # only takes effect on CUDA
    num_workers: int = 4
    checkpoint_every: int = 1000
    log_every: int = 50
    max_clips: int | None = None  # use only the first N training clips (smoke runs)
    warmup_steps: int | None = None  # None: the recipe's (0 paper, 2000 official)
    perceptual_weight: float | None = None  # VGG19 term weight; None: the recipe's (0 paper, 0.5 official)
    amp_dtype: str = "bf16"  # "bf16" | "fp16" (fp16 adds a GradScaler); CUDA only

    def __post_init__(self) -> None:
        positive = ("epochs", "batch_size", "checkpoint_every", "log_every")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise SpecError(f"train.{name}: expected a positive integer, got {value!r}")
        for name, minimum in (("max_steps", 1), ("crop", 1), ("clip_length", 3), ("max_clips", 1), ("warmup_steps", 0)):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < minimum):
                raise SpecError(f"train.{name}: expected an integer >= {minimum} or null, got {value!r}")
        for name, strictly_positive in (("lr_max", True), ("lr_min", False), ("weight_decay", False),
                                        ("grad_clip", True), ("perceptual_weight", False)):
            value = getattr(self, name)
            if value is None:
                continue
            if (not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value)
                    or value < 0 or (strictly_positive and value == 0)):
                bound = "> 0" if strictly_positive else ">= 0"
                raise SpecError(f"train.{name}: expected a finite number {bound} or null, got {value!r}")
        if self.amp_dtype not in ("bf16", "fp16"):
            raise SpecError(f"train.amp_dtype: expected 'bf16' or 'fp16', got {self.amp_dtype!r}")
        if self.num_workers < 0:
            raise SpecError(f"train.num_workers: expected >= 0, got {self.num_workers!r}")


@dataclass
class EvalSpec:
    protocols: list[str] = field(default_factory=list)
    routing_seeds: list[int] = field(default_factory=lambda: [0])  # >1 seed for stochastic routing: mean ± std
    max_clips: int | None = None  # evaluate only the first N windows (smoke runs)
    channel_order_lpips: str = "rgb"  # "rgb" (default) | "bgr" (the official scripts)

    def __post_init__(self) -> None:
        seeds = self.routing_seeds
        if (not isinstance(seeds, list) or not seeds or len(set(seeds)) != len(seeds)
                or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)):
            raise SpecError(f"eval.routing_seeds: expected a non-empty list of distinct integers, got {seeds!r}")
        if self.max_clips is not None and (not isinstance(self.max_clips, int) or isinstance(self.max_clips, bool)
                                           or self.max_clips < 1):
            raise SpecError(f"eval.max_clips: expected an integer >= 1 or null, got {self.max_clips!r}")
        if self.channel_order_lpips not in ("rgb", "bgr"):
            raise SpecError(f"eval.channel_order_lpips: expected 'rgb' or 'bgr', got {self.channel_order_lpips!r}")


@dataclass
class ExperimentSpec:
    id: str
    method: str
    method_options: dict[str, Any] = field(default_factory=dict)
    train: TrainSpec | None = None  # None: nothing to train (copy-last-frame, official weights)
    eval: EvalSpec = field(default_factory=EvalSpec)
    seed: int = 1234
    source: str = "retrained"  # "retrained" | "official-weights" | "untrained"
    weights: str | None = None  # a checkpoint to evaluate instead of training (official weights)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, path: str | Path) -> None:
        from vpbench.utils import atomic_write_json

        atomic_write_json(path, self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "spec") -> ExperimentSpec:
        data = dict(data)
        if "train" in data and data["train"] is not None:
            data["train"] = _build(TrainSpec, data["train"], f"{where}.train")
        if "eval" in data and data["eval"] is not None:
            data["eval"] = _build(EvalSpec, data["eval"], f"{where}.eval")
        return _build(cls, data, where)

    @classmethod
    def load(cls, path: str | Path) -> ExperimentSpec:
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise SpecError(f"{path}: experiment spec not found") from None
        except json.JSONDecodeError as err:
            raise SpecError(f"{path}: not valid JSON ({err})") from None
        return cls.from_dict(data, where=str(path))


def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    if not isinstance(data, dict):
        raise SpecError(f"{where}: expected a mapping, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(known)}")
    try:
        return cls(**data)
    except TypeError as err:
        raise SpecError(f"{where}: {err}") from None
