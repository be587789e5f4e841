"""The method interface every video predictor implements (DMVFN, the baselines, user plugins).

The engine (``vpbench``) trains and evaluates any :class:`VideoPredictor` the same way:

* ``predict(context)`` maps the ``context_length`` latest frames ``[B, T, 3, H, W]`` (RGB, [0, 1]) to the next
  frame; the engine rolls it out autoregressively, feeding predictions back as floats.
* ``loss(context, target)`` returns the method's own loss terms; optimiser, schedule, data, DDP, AMP and
  checkpoints belong to the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from models.contract import check_input_frames


@dataclass
class Prediction:
    """One predicted frame per sample, plus what the evaluation records beside it."""

    frame: Tensor  # [B, 3, H, W] in [0, 1]
    active_blocks: Tensor | None = None  # [B, n_blocks] bool routing decisions (dynamic methods only)


@dataclass
class LossOutput:
    """A method's training loss: ``total`` is minimised; ``terms`` are logged (detached floats)."""

    total: Tensor
    final_prediction: Tensor  # [B, 3, H, W]: the frame the engine's optional perceptual term is applied to
    terms: dict[str, float] = field(default_factory=dict)


class VideoPredictor(nn.Module):
    """Base class of every method. Subclasses set ``context_length`` and implement ``predict`` and ``loss``."""

    #: how many past frames ``predict`` and ``loss`` take
    context_length: int = 2
    #: False for parameter-free methods (copy-last-frame): the engine skips training
    trainable: bool = True
    #: the blocks that run vary per sample, so GFLOPs are weighted by measured usage (DMVFN overrides it)
    routed: bool = False

    def predict(self, context: Tensor) -> Prediction:  # pragma: no cover - interface
        raise NotImplementedError

    def loss(self, context: Tensor, target: Tensor) -> LossOutput:  # pragma: no cover - interface
        raise NotImplementedError

    def set_training_progress(self, progress: float) -> None:
        """Called by the engine before every step with the fraction of training done (schedules hook in here)."""

    def optimize_for_inference(self, device: torch.device) -> VideoPredictor:
        """Called by the engine before evaluation on ``device``: layout changes that speed up inference."""
        return self

    def optimize_for_training(self, device: torch.device) -> VideoPredictor:
        """Called by the engine after moving the method to ``device`` for training (before any optimiser exists):
        layout changes that speed up the training step without changing what is computed."""
        return self

    @staticmethod
    def check_context(context: Tensor, length: int, method: str = "this method") -> None:
        """Shape, dtype and value range of a context (:mod:`models.contract`); ``method`` names the caller."""
        check_input_frames(method, context=context)
        if context.dim() != 5 or context.shape[2] != 3:
            raise ValueError(f"{method}: context must be [B, T, 3, H, W], got {tuple(context.shape)}")
        if context.shape[1] < length:
            raise ValueError(f"{method} needs {length} context frames, got {context.shape[1]}")


def as_pair(context: Tensor, method: str = "this method") -> tuple[Tensor, Tensor]:
    """The two latest frames (I_{t-1}, I_t) of a ``[B, T, 3, H, W]`` context."""
    VideoPredictor.check_context(context, 2, method)
    return context[:, -2], context[:, -1]


__all__ = ["Prediction", "LossOutput", "VideoPredictor", "as_pair", "torch"]
