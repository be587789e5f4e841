"""Named training recipes: optimiser, learning-rate schedule, batch, crop, sampling and extra loss terms.

``paper`` (the default) follows DMVFN §3.3: AdamW with weight decay 1e-4, cosine annealing of the learning
rate from 1e-4 to 1e-5, global batch 64, 224x224 patches, 300 epochs, loss = Eq. (13) only.
The paper does not say how training clips become samples. Our reading: every sample is one consecutive
frame triplet (I_{t-1}, I_t -> I_{t+1}) at a random position of a training clip (the dataset is asked for
3-frame items and draws the start from (seed, epoch, index)), an epoch is one pass over the training clips,
and one batch of 64 such triplets is one optimiser step.

``official`` follows the released training script (model/model.py, scripts/train.py): a 2,000-step linear
warm-up from 1e-5 to 1e-4 then cosine to 1e-5, weight decay 1e-3, 256x256 crops, whole clips loaded
(Cityscapes 30 frames, KITTI 9, UCF101 10) and one optimiser step per consecutive triplet of the clip
(n - 2 steps per batch, all at the same learning rate: the schedule counts batches), and a 0.5 x VGG19
perceptual term on the final prediction (see :mod:`vpbench.training.losses`).

``official-megengine`` is the MegEngine port's variant of ``official``: no VGG term, gradient-norm clipping 1.0.

Every value can be overridden per experiment through :class:`vpbench.pipeline.spec.TrainSpec`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from vpbench.pipeline.spec import SpecError, TrainSpec

TripletSampling = Literal["one_per_clip", "all_consecutive"]


@dataclass(frozen=True)
class Recipe:
    name: str
    lr_max: float
    lr_min: float
    weight_decay: float
    warmup_steps: int  # linear warm-up from ``warmup_start_lr`` to ``lr_max``, counted in batches
    warmup_start_lr: float
    batch_size: int  # global batch, split over DDP processes
    crop: int
    epochs: int
    #: "one_per_clip": the dataset yields 3-frame clips, one optimiser step per batch (paper reading);
    #: "all_consecutive": one optimiser step per consecutive triplet of each loaded clip (official code)
    triplets: TripletSampling
    #: frames the dataset yields per item; None: context + 1 for "one_per_clip", the dataset's default otherwise
    clip_length: int | None
    augmentation: str  # passed to the training dataset ("paper" | "official")
    perceptual_weight: float  # weight of the VGG19 term on the final prediction (0: not computed)
    grad_clip: float | None


RECIPES: dict[str, Recipe] = {
    "paper": Recipe(
        name="paper",
        lr_max=1e-4,
        lr_min=1e-5,
        weight_decay=1e-4,
        warmup_steps=0,
        warmup_start_lr=1e-4,
        batch_size=64,
        crop=224,
        epochs=300,
        triplets="one_per_clip",
        clip_length=None,
        augmentation="paper",
        perceptual_weight=0.0,
        grad_clip=None,
    ),
    "official": Recipe(
        name="official",
        lr_max=1e-4,
        lr_min=1e-5,
        weight_decay=1e-3,
        warmup_steps=2000,
        warmup_start_lr=1e-5,
        batch_size=64,  # 8 per GPU x 8 GPUs in the README commands
        crop=256,
        epochs=300,
        triplets="all_consecutive",
        clip_length=None,
        augmentation="official",
        perceptual_weight=0.5,
        grad_clip=None,
    ),
}
RECIPES["official-megengine"] = replace(
    RECIPES["official"], name="official-megengine", perceptual_weight=0.0, grad_clip=1.0
)


#: frames per training clip in the released code, by training set (``all_consecutive`` recipes)
OFFICIAL_CLIP_LENGTHS = {"cityscapes": 30, "kitti": 9, "ucf101": 10}


def default_clip_length(recipe: Recipe, dataset: str, window: int) -> int:
    """Frames per training item: ``window`` (context + target) for ``one_per_clip``; the released code's clip
    length of the dataset for ``all_consecutive`` unless the spec sets ``train.clip_length``."""
    if recipe.triplets == "one_per_clip":
        if recipe.clip_length not in (None, window):
            raise SpecError(f"train.clip_length={recipe.clip_length}: recipe {recipe.name!r} trains on {window}-frame items")
        return window
    if recipe.clip_length is not None:
        return recipe.clip_length
    for name, length in OFFICIAL_CLIP_LENGTHS.items():
        if name in dataset.lower():
            return length
    raise SpecError(
        f"train.clip_length is not set and recipe {recipe.name!r} knows no clip length for dataset {dataset!r} "
        f"(known: {OFFICIAL_CLIP_LENGTHS}); set train.clip_length"
    )


def get_recipe(name: str) -> Recipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise SpecError(f"train.recipe: unknown recipe {name!r}; known: {sorted(RECIPES)}") from None


def resolve_recipe(train: TrainSpec) -> Recipe:
    """The named recipe with the spec's explicit overrides applied (None in the spec keeps the recipe's value)."""
    recipe = get_recipe(train.recipe)
    overrides = {
        "lr_max": train.lr_max,
        "lr_min": train.lr_min,
        "weight_decay": train.weight_decay,
        "crop": train.crop,
        "clip_length": train.clip_length,
        "grad_clip": train.grad_clip,
        "warmup_steps": train.warmup_steps,
        "perceptual_weight": train.perceptual_weight,
        "batch_size": train.batch_size,
        "epochs": train.epochs,
    }
    recipe = replace(recipe, **{key: value for key, value in overrides.items() if value is not None})
    if recipe.clip_length is not None and recipe.clip_length < 3:
        raise SpecError(f"train.clip_length={recipe.clip_length}: a training clip needs at least 3 frames")
    if recipe.lr_min > recipe.lr_max:
        raise SpecError(f"train.lr_min={recipe.lr_min} is above train.lr_max={recipe.lr_max}")
    return recipe


class WarmupCosineSchedule:
    """Multiplier of ``lr_max`` at batch ``step`` (a picklable callable for ``torch.optim.lr_scheduler.LambdaLR``).

    Linear warm-up from ``warmup_start_lr`` to ``lr_max`` over ``warmup_steps`` batches, then cosine annealing
    from ``lr_max`` to ``lr_min`` at ``total_steps``. With no warm-up this is the paper's cosine annealing.
    Official code: ``lr = 1e-5 + 9e-5 * step / 2000`` during warm-up, then
    ``1e-5 + 9e-5 * (0.5 + 0.5 cos(pi (step - 2000) / (total - 2000)))``: the same curve.
    """

    def __init__(self, lr_max: float, lr_min: float, total_steps: int, warmup_steps: int = 0,
                 warmup_start_lr: float | None = None) -> None:
        if total_steps < 1:
            raise ValueError(f"total_steps must be >= 1, got {total_steps}")
        self.lr_max = lr_max
        self.lr_min = lr_min
        self.total_steps = total_steps
        self.warmup_steps = min(warmup_steps, total_steps)
        self.warmup_start_lr = lr_max if warmup_start_lr is None else warmup_start_lr

    def lr(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.warmup_start_lr + (self.lr_max - self.warmup_start_lr) * step / self.warmup_steps
        span = max(self.total_steps - self.warmup_steps, 1)
        progress = min(max(step - self.warmup_steps, 0) / span, 1.0)
        return self.lr_min + (self.lr_max - self.lr_min) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def __call__(self, step: int) -> float:
        return self.lr(step) / self.lr_max


def lr_schedule(recipe: Recipe, total_steps: int) -> WarmupCosineSchedule:
    return WarmupCosineSchedule(recipe.lr_max, recipe.lr_min, total_steps, recipe.warmup_steps, recipe.warmup_start_lr)
