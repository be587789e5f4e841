"""Shared pieces for the training-engine tests: a tiny method and a tiny in-memory clip dataset.

Both are importable by path (``tests.test_train_support:tiny_predictor``), so specs run through the CLI in a
subprocess can name them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset

from models.base import LossOutput, Prediction, VideoPredictor, as_pair
from vpbench.pipeline.spec import ExperimentSpec, TrainSpec

TINY_METHOD = "tests.test_train_support:tiny_predictor"
RANDOM_CLIPS = "tests.test_train_support:random_clips"


class TinyPredictor(VideoPredictor):
    """Next frame = I_t + a small conv correction. ``noise`` adds training-time randomness (like stochastic
    routing) so that resuming must restore the RNG state to reproduce a run."""

    def __init__(self, width: int = 4, noise: bool = True, nan_after: int | None = None) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(6, width, 3, padding=1), nn.PReLU(width), nn.Conv2d(width, 3, 3, padding=1))
        self.noise = noise
        self.nan_after = nan_after  # test hook: the loss becomes NaN from this many loss calls on
        self.progress: list[float] = []
        self.calls = 0

    def set_training_progress(self, progress: float) -> None:
        self.progress.append(progress)

    def _forward(self, context: Tensor) -> Tensor:
        prev, cur = as_pair(context)
        x = torch.cat([prev, cur], 1)
        if self.training and self.noise:
            x = F.dropout(x, 0.1, training=True)
        return (cur + self.net(x)).clamp(0, 1)

    def predict(self, context: Tensor) -> Prediction:
        return Prediction(frame=self._forward(context))

    def loss(self, context: Tensor, target: Tensor) -> LossOutput:
        self.calls += 1
        prediction = self._forward(context)
        total = (prediction - target).abs().mean()
        if self.nan_after is not None and self.calls > self.nan_after:
            total = total * float("nan")
        return LossOutput(total=total, final_prediction=prediction, terms={"l1": float(total.detach())})


def tiny_predictor(**options) -> TinyPredictor:
    return TinyPredictor(**options)


class RandomClips(Dataset):
    """Random uint8 clips; item i is a function of (seed, epoch, i), plus a flip drawn from the global RNG
    (as a careless dataset would) to check that resuming restores RNG states."""

    def __init__(self, num_clips: int = 16, clip_length: int = 3, crop: int = 16, seed: int = 0, flip: bool = True) -> None:
        self.num_clips, self.clip_length, self.crop, self.seed, self.epoch = num_clips, clip_length, crop, seed, 0
        self.flip = flip

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.num_clips

    def __getitem__(self, index: int) -> Tensor:
        generator = torch.Generator().manual_seed(self.seed * 7919 + self.epoch * 104_729 + index)
        clip = torch.randint(0, 256, (self.clip_length, 3, self.crop, self.crop), generator=generator, dtype=torch.uint8)
        if self.flip and torch.rand(()) < 0.5:
            clip = clip.flip(-1)
        return clip


def random_clips(data_root: str, *, clip_length: int, crop: int, augmentation: str, max_clips: int | None,
                 seed: int) -> RandomClips:
    return RandomClips(max_clips or 16, clip_length=clip_length, crop=crop, seed=seed)


def tiny_spec(experiment_id: str = "tiny", recipe: str = "paper", method_options: dict | None = None,
              **train_options) -> ExperimentSpec:
    train = dict(dataset=RANDOM_CLIPS, data_root="", recipe=recipe, max_steps=6, batch_size=4, crop=16,
                 num_workers=0, checkpoint_every=2, log_every=1, max_clips=16)
    train.update(train_options)
    return ExperimentSpec(id=experiment_id, method=TINY_METHOD, method_options=method_options or {},
                          train=TrainSpec(**train), seed=3)


def state_dicts_equal(a: dict[str, Tensor], b: dict[str, Tensor]) -> list[str]:
    """Names whose tensors differ (empty: bitwise identical)."""
    return sorted(k for k in set(a) | set(b) if k not in a or k not in b or not torch.equal(a[k], b[k]))
