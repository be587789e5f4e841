"""Copy-last-frame: the trivial baseline of the paper's Table 5 (first row): predict I_{t+1} = I_t.

It has no parameters, so the engine skips training (``trainable = False``). It asks for the same two context
frames as DMVFN so that it is scored on exactly the same (context, target) windows of every clip.
"""

from __future__ import annotations

from torch import Tensor

from models.contract import check_input_frames
from models.base import LossOutput, Prediction, VideoPredictor
from models.registry import register_method


class CopyLastFrame(VideoPredictor):
    context_length = 2
    trainable = False

    def forward(self, prev: Tensor, cur: Tensor) -> Tensor:
        check_input_frames("copy_last", prev=prev, cur=cur)
        return cur.clone()

    def predict(self, context: Tensor) -> Prediction:
        self.check_context(context, self.context_length, "copy_last")
        return Prediction(frame=context[:, -1].clone())

    def loss(self, context: Tensor, target: Tensor) -> LossOutput:
        """The L1 error of copying: there is nothing to optimise, the value is only reported."""
        prediction = self.predict(context).frame
        l1 = (prediction - target).abs().mean()
        return LossOutput(total=l1, final_prediction=prediction, terms={"l1": float(l1.detach())})


@register_method("copy_last")
def copy_last() -> CopyLastFrame:
    return CopyLastFrame()


__all__ = ["CopyLastFrame", "copy_last"]
