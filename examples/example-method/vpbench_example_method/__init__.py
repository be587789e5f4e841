"""An example method for vpbench: a small CNN that predicts the next frame as a residual on the current one.

It implements the two methods vpbench needs (``predict`` and ``loss``); vpbench trains it (optimiser, schedule,
data, checkpoints, DDP) and evaluates it with the same code as DMVFN, DVF, PredNet and copy-last-frame.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models.base import LossOutput, Prediction, VideoPredictor, as_pair


class ResidualCNN(VideoPredictor):
    context_length = 2  # takes I_{t-1}, I_t

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(6, width, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(width, 3, 3, padding=1),
        )
        nn.init.zeros_(self.net[-1].weight)  # start as copy-last-frame
        nn.init.zeros_(self.net[-1].bias)

    def _forward(self, context: Tensor) -> Tensor:
        prev, cur = as_pair(context)
        return torch.clamp(cur + self.net(torch.cat((prev, cur), 1)), 0.0, 1.0)

    def predict(self, context: Tensor) -> Prediction:
        return Prediction(frame=self._forward(context))

    def loss(self, context: Tensor, target: Tensor) -> LossOutput:
        pred = self._forward(context)
        total = F.l1_loss(pred, target)
        return LossOutput(total=total, final_prediction=pred, terms={"l1": float(total.detach())})


def build(**options) -> ResidualCNN:
    """The factory vpbench calls with the ``method_options`` of the config."""
    return ResidualCNN(**options)
