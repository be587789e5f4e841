"""DMVFN: Dynamic Multi-Scale Voxel Flow Network (paper §3, Figure 2).

A chain of MVFBs refines a voxel flow F = (f_{t+1->t-1}, f_{t+1->t}, m) (Eqs. 1-5); a routing head picks, per
sample, which blocks run (Eqs. 6-12). ``DMVFN()`` is the paper's configuration: 9 blocks with scale factors
[4,4,4,2,2,2,1,1,1], widths 160/80/44, the spatial path, STEBS routing with beta = 0.5.

Where the paper is silent the authors' release is followed (and its parameter names are kept, so the released
checkpoints load unchanged): each block sees cat(I_{t-1}, I_t, both warped frames, the mask logit) and the current
flow; flow and mask logit are updated residually; warps always start from the original frames; the prediction is
clamp(W(I_{t-1}) * sigmoid(m) + W(I_t) * (1 - sigmoid(m)), 0, 1).

Differences from the release, each a named option:

* ``block_outputs="paper"``: during training, Eq. 6 with the soft gates v_i, (1 - v_i) defines every block's output,
  and Eq. 13 supervises those. ``"official"`` supervises, for blocks 1..n-1, the un-gated output the block would give.
* ``inference_routing="sample"``: per-sample decisions; ``"sample0"`` is the release's batch-wide draw of sample 0.
* ``empty_route="blend"``: when no block is selected, the prediction is what the zero voxel flow gives (Eq. 3 with
  f = 0, m = sigmoid(0)): the mean of I_{t-1} and I_t. ``"previous"`` returns I_{t-1} as the release does.
* any input size: inputs are padded (replicate, bottom/right) to a multiple of 4 * max(scales) and the output is
  cropped back; the release requires multiples of 16 and crashes otherwise (e.g. 480x854).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models.base import LossOutput, Prediction, VideoPredictor, as_pair
from models.contract import check_input_frames
from models.losses import LaplacianDistance, laplacian_l1
from models.mvfb import MVFB, BlockInputBuffer, block_input
from models.registry import register_method
from models.routing_choices import DEFAULT_ROUTING, routes
from models.routing import (
    INFERENCE_ROUTINGS,
    ROUTING_METHODS,
    BernoulliSTE,
    decide,
    gumbel_activation_probability,
    gumbel_soft_gates,
    gumbel_temperature,
    stebs_probabilities,
)
from models.warp import backward_warp

PAPER_SCALES: tuple[int, ...] = (4, 4, 4, 2, 2, 2, 1, 1, 1)
PAPER_WIDTHS: tuple[int, ...] = (160, 160, 160, 80, 80, 80, 44, 44, 44)
#: width of a block by its scale factor, used for sequences that are not 9 long (the release ties 160/80/44 to 4/2/1)
WIDTH_BY_SCALE: dict[int, int] = {8: 160, 4: 160, 2: 80, 1: 44}
ROUTING_HIDDEN = 32
#: the voxel flow F of Eq. 5: flow for I_{t-1} (x, y) and for I_t (x, y) in pixels, then the fusion mask logit
VOXEL_CHANNELS = 5


@dataclass
class DMVFNOutput:
    """What a forward pass can return besides the frame (``return_intermediate=True`` / training mode)."""

    frame: Tensor  # [B, 3, H, W] final prediction
    active: Tensor  # [B, n] bool: the blocks that ran (inference) / were drawn (training)
    probabilities: Tensor | None = None  # [B, n] activation probabilities (None without a routing head)
    intermediate: list[Tensor] = field(default_factory=list)  # prediction after each block in `executed`
    executed: list[int] = field(default_factory=list)
    flow: Tensor | None = None  # [B, 4, H, W] final voxel flow in pixels (x, y) for I_{t-1} then I_t
    mask: Tensor | None = None  # [B, 1, H, W] fusion map m = sigmoid(logit) weighting W(I_{t-1})


@dataclass
class DMVFNTrainOutput:
    """Training-mode forward: every block's output for Eq. 13, the gates, and the Gumbel regulariser."""

    block_predictions: list[Tensor]
    gates: Tensor  # [B, n] (binary for STEBS/random, soft for Gumbel, ones without routing)
    probabilities: Tensor | None
    regularizer: Tensor | None


def default_widths(scales: Sequence[int]) -> list[int]:
    if len(scales) == len(PAPER_WIDTHS):
        # Same widths by position for every 9-block ablation, so scale sequences differ only in their scales.
        return list(PAPER_WIDTHS)
    try:
        return [WIDTH_BY_SCALE[s] for s in scales]
    except KeyError as err:
        raise ValueError(f"no default width for scale {err.args[0]}; pass widths= explicitly") from None


class DMVFN(VideoPredictor):
    context_length = 2

    def __init__(
        self,
        scales: Sequence[int] = PAPER_SCALES,
        widths: Sequence[int] | None = None,
        spatial_path: bool = True,
        routing: str = DEFAULT_ROUTING,
        beta: float = 0.5,
        supervision: str = "all",
        gamma: float = 0.8,
        inference_routing: str = "sample",
        block_outputs: str = "paper",
        empty_route: str = "blend",
        gumbel_tau_start: float = 10.0,
        gumbel_tau_end: float = 0.1,
        gumbel_reg_weight: float = 1.0,
        laplacian_levels: int = 5,
    ) -> None:
        super().__init__()
        scales = [int(s) for s in scales]
        if not scales or any(s < 1 for s in scales):
            raise ValueError(f"scales must be a non-empty list of positive integers, got {scales}")
        widths = list(widths) if widths is not None else default_widths(scales)
        if len(widths) != len(scales):
            raise ValueError(f"{len(widths)} widths for {len(scales)} scales")
        if any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths):
            # a zero width builds on the meta device and fails only in the first convolution, with torch's words
            raise ValueError(f"widths must be positive integers (channels of each block), got {widths}")
        if not 0 < gamma < math.inf:
            raise ValueError(f"gamma must be a finite number > 0 (the decay of the blocks' loss weights), got {gamma}")
        if int(laplacian_levels) < 1:
            raise ValueError(f"laplacian_levels must be >= 1, got {laplacian_levels}")
        if not 0 < gumbel_tau_end <= gumbel_tau_start < math.inf:
            raise ValueError(f"gumbel_tau_end must be in (0, gumbel_tau_start = {gumbel_tau_start}], got {gumbel_tau_end}")
        _check_choice("routing", routing, ROUTING_METHODS)
        _check_choice("inference_routing", inference_routing, INFERENCE_ROUTINGS)
        _check_choice("supervision", supervision, ("all", "last"))
        _check_choice("block_outputs", block_outputs, ("paper", "official"))
        _check_choice("empty_route", empty_route, ("blend", "previous"))
        if not 0.0 < beta <= 1.0:
            raise ValueError(f"beta must be in (0, 1], got {beta}")
        self.scales = scales
        self.widths = widths
        self.spatial_path = spatial_path
        self.routing_method = routing
        self.beta = float(beta)
        self.supervision = supervision
        self.gamma = float(gamma)
        self.inference_routing = inference_routing
        self.block_outputs = block_outputs
        self.empty_route = empty_route
        self.gumbel_tau_start = float(gumbel_tau_start)
        self.gumbel_tau_end = float(gumbel_tau_end)
        self.gumbel_tau = float(gumbel_tau_start)
        self.gumbel_reg_weight = float(gumbel_reg_weight)
        self.laplacian_levels = int(laplacian_levels)
        self.pad_multiple = 4 * max(scales)
        # Blocks are attributes block0..block{n-1} (not a ModuleList) to keep the released parameter names.
        for i, (s, w) in enumerate(zip(scales, widths)):
            self.add_module(f"block{i}", MVFB(s, w, spatial_path))
        if routing in ("stebs", "gumbel"):
            # Eq. 7: v~ = Linear(AvgPooling(Convs(I_{t-1}, I_t))), at full input resolution as released.
            self.routing = nn.Sequential(
                nn.Conv2d(6, ROUTING_HIDDEN, 3, 1, 1),
                nn.ReLU(),
                nn.Conv2d(ROUTING_HIDDEN, ROUTING_HIDDEN, 3, 1, 1),
                nn.AdaptiveAvgPool2d(1),
            )
            self.l1 = nn.Linear(ROUTING_HIDDEN, len(scales))

    # ------------------------------------------------------------------------------------------------ helpers
    @property
    def n_blocks(self) -> int:
        return len(self.scales)

    @property
    def blocks(self) -> list[MVFB]:
        return [getattr(self, f"block{i}") for i in range(self.n_blocks)]

    @property
    def routed(self) -> bool:
        """The blocks that run vary per sample (expected GFLOPs weight blocks by their measured usage)."""
        return routes(self.routing_method)

    @property
    def has_routing_head(self) -> bool:
        return self.routing_method in ("stebs", "gumbel")

    def routing_logits(self, prev: Tensor, cur: Tensor) -> Tensor:
        """v~ of Eq. 7, [B, n]."""
        pooled = self.routing(torch.cat((prev, cur), 1)).flatten(1)
        return self.l1(pooled)

    def activation_probabilities(self, prev: Tensor, cur: Tensor) -> Tensor | None:
        """Per-block probability of running at inference ([B, n]); None when every block always runs."""
        if self.routing_method == "none":
            return None
        if self.routing_method == "random":
            return prev.new_full((prev.shape[0], self.n_blocks), 0.5)
        logits = self.routing_logits(prev, cur)
        if self.routing_method == "stebs":
            return stebs_probabilities(logits, self.beta)
        return gumbel_activation_probability(logits)

    def set_training_progress(self, progress: float) -> None:
        self.gumbel_tau = gumbel_temperature(progress, self.gumbel_tau_start, self.gumbel_tau_end)

    def optimize_for_inference(self, device: torch.device) -> DMVFN:
        """channels_last weights on CPU: measured about 1.5x faster at 256x448 and 720x1280 (vpbench.benchmarks.inference);
        the final frame differs from the default layout's by up to ~7e-5 (random weights, 720x1280)."""
        return self._cpu_channels_last(device)

    def optimize_for_training(self, device: torch.device) -> DMVFN:
        """channels_last on CPU for training too: the step of vpbench.benchmarks.train is faster in it (numbers in
        README "Training throughput"); on CUDA the default layout is kept."""
        return self._cpu_channels_last(device)

    def _cpu_channels_last(self, device: torch.device) -> DMVFN:
        if torch.device(device).type == "cpu":
            self.to(memory_format=torch.channels_last)
        return self

    def _pad(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % self.pad_multiple, (-w) % self.pad_multiple
        if ph == 0 and pw == 0:
            return x
        return F.pad(x, (0, pw, 0, ph), mode="replicate")

    @property
    def memory_format(self) -> torch.memory_format:
        """The layout the convolutions run in (channels_last after ``optimize_for_inference`` on CPU)."""
        weight = self.block0.conv0[0][0].weight
        if not weight.is_contiguous() and weight.is_contiguous(memory_format=torch.channels_last):
            return torch.channels_last
        return torch.contiguous_format

    def _initial_state(self, prev: Tensor, cur: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Padded frames, and Eq. 5's initial voxel flow F^0 = 0: [B, 5, H, W], flow (pixels) then mask logit,
        in the convolutions' layout (the blocks' output layout, so that the residual updates stay in one layout)."""
        img0, img1 = self._pad(prev), self._pad(cur)
        b, _, hp, wp = img0.shape
        return img0, img1, img0.new_zeros(b, VOXEL_CHANNELS, hp, wp).contiguous(
            memory_format=self.memory_format
        )

    @staticmethod
    def _warp(img0: Tensor, img1: Tensor, voxel: Tensor) -> tuple[Tensor, Tensor]:
        """W(I_{t-1}) and W(I_t) under the voxel flow's two flow fields (Eq. 3)."""
        return backward_warp(img0, voxel[:, 0:2]), backward_warp(img1, voxel[:, 2:4])

    @staticmethod
    def _blend(warped0: Tensor, warped1: Tensor, mask_logit: Tensor) -> Tensor:
        m = torch.sigmoid(mask_logit)
        return torch.clamp(warped0 * m + warped1 * (1.0 - m), 0.0, 1.0)

    @staticmethod
    def _check_inputs(prev: Tensor, cur: Tensor) -> None:
        check_input_frames("DMVFN", prev=prev, cur=cur)
        if prev.dim() != 4 or prev.shape[1] != 3 or prev.shape != cur.shape:
            raise ValueError(
                f"DMVFN takes two [B, 3, H, W] frames of the same shape, got {tuple(prev.shape)} and {tuple(cur.shape)}"
            )

    # ------------------------------------------------------------------------------------------------ forward
    def forward(
        self,
        prev: Tensor,
        cur: Tensor,
        active: Tensor | None = None,
        return_intermediate: bool = False,
        generator: torch.Generator | None = None,
    ) -> Tensor | DMVFNOutput | DMVFNTrainOutput:
        """Predict I_{t+1} from I_{t-1} = ``prev`` and I_t = ``cur`` ([B, 3, H, W] in [0, 1]).

        Eval mode: the predicted frame, or a :class:`DMVFNOutput` with ``return_intermediate=True``.
        ``active`` ([B, n] bool) overrides routing and runs exactly those blocks.
        Training mode: a :class:`DMVFNTrainOutput` (every block's output, gates, regulariser) for the loss.
        """
        self._check_inputs(prev, cur)
        if self.training:
            return self._forward_train(prev, cur, active)
        return self._forward_infer(prev, cur, active, return_intermediate, generator)

    def _forward_infer(
        self,
        prev: Tensor,
        cur: Tensor,
        active: Tensor | None,
        return_intermediate: bool,
        generator: torch.Generator | None,
        blend_each_block: bool | None = None,
    ) -> Tensor | DMVFNOutput:
        """``blend_each_block`` (default: ``return_intermediate``) fills ``DMVFNOutput.intermediate``."""
        if blend_each_block is None:
            blend_each_block = return_intermediate
        batch, _, height, width = prev.shape
        probs = None
        if active is None:
            probs = self.activation_probabilities(prev, cur)
            if probs is None:
                active = torch.ones(batch, self.n_blocks, dtype=torch.bool, device=prev.device)
            else:
                active = decide(probs, self.inference_routing, prev, cur, generator)
        else:
            active = torch.as_tensor(active, device=prev.device).bool()
            if active.shape != (batch, self.n_blocks):
                raise ValueError(f"active must be a bool tensor [{batch}, {self.n_blocks}], got {tuple(active.shape)}")

        img0, img1, voxel = self._initial_state(prev, cur)
        warped0, warped1 = img0, img1
        layout = self.memory_format
        inputs = BlockInputBuffer(img0, img1, layout)
        intermediate: list[Tensor] = []
        executed: list[int] = []
        active_cpu = active.cpu()
        for i, block in enumerate(self.blocks):
            column = active_cpu[:, i]
            if not bool(column.any()):
                continue  # skipped blocks cost nothing
            executed.append(i)
            if bool(column.all()):
                voxel = voxel + block(inputs.update(warped0, warped1, voxel))
                warped0, warped1 = self._warp(img0, img1, voxel)
            else:
                # Per-sample routing: run the block on the samples that selected it, keep the others' state.
                idx = column.nonzero().squeeze(1).to(prev.device)
                i0, i1 = img0[idx], img1[idx]
                x = block_input(i0, i1, warped0[idx], warped1[idx], voxel[idx]).contiguous(memory_format=layout)
                sub_voxel = voxel[idx] + block(x)
                sub_warped0, sub_warped1 = self._warp(i0, i1, sub_voxel)
                voxel = voxel.index_copy(0, idx, sub_voxel)
                warped0 = warped0.index_copy(0, idx, sub_warped0)
                warped1 = warped1.index_copy(0, idx, sub_warped1)
            if blend_each_block:
                intermediate.append(self._blend(warped0, warped1, voxel[:, 4:5])[..., :height, :width])

        frame = self._blend(warped0, warped1, voxel[:, 4:5])[..., :height, :width]
        if self.empty_route == "previous":
            none_ran = ~active.any(dim=1)
            if bool(none_ran.any()):
                frame = torch.where(none_ran.view(-1, 1, 1, 1), prev, frame)
        if not return_intermediate:
            return frame
        return DMVFNOutput(
            frame=frame,
            active=active,
            probabilities=probs,
            intermediate=intermediate,
            executed=executed,
            flow=voxel[:, :4, :height, :width],
            mask=torch.sigmoid(voxel[:, 4:5, :height, :width]),
        )

    def _training_gates(self, prev: Tensor, cur: Tensor) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """Gates [B, n], activation probabilities, and the Gumbel regulariser for one training pass."""
        batch = prev.shape[0]
        if self.routing_method == "none":
            return prev.new_ones(batch, self.n_blocks), None, None
        if self.routing_method == "random":
            probs = prev.new_full((batch, self.n_blocks), 0.5)
            return torch.bernoulli(probs), probs, None
        logits = self.routing_logits(prev, cur)
        if self.routing_method == "stebs":
            probs = stebs_probabilities(logits, self.beta)
            return BernoulliSTE.apply(probs), probs, None
        gates = gumbel_soft_gates(logits, self.gumbel_tau)
        return gates, gumbel_activation_probability(logits.detach()), gates.mean(dim=1).mean()

    def _forward_train(self, prev: Tensor, cur: Tensor, active: Tensor | None) -> DMVFNTrainOutput:
        height, width = prev.shape[-2:]
        if active is not None:
            gates, probs, reg = torch.as_tensor(active, device=prev.device).to(prev.dtype), None, None
        else:
            gates, probs, reg = self._training_gates(prev, cur)
        img0, img1, voxel = self._initial_state(prev, cur)
        warped0, warped1 = img0, img1
        outputs: list[Tensor] = []
        last = self.n_blocks - 1
        for i, block in enumerate(self.blocks):
            delta = block(block_input(img0, img1, warped0, warped1, voxel))
            if self.block_outputs == "official" and i < last:
                # The release supervises what block i would output if it ran, whatever its gate.
                ungated = voxel + delta
                outputs.append(self._blend(*self._warp(img0, img1, ungated), ungated[:, 4:5])[..., :height, :width])
            # Eq. 6 in training: v_i * f(state) + (1 - v_i) * state, with residual f.
            voxel = voxel + gates[:, i].view(-1, 1, 1, 1) * delta
            warped0, warped1 = self._warp(img0, img1, voxel)
            if self.block_outputs == "paper" or i == last:
                outputs.append(self._blend(warped0, warped1, voxel[:, 4:5])[..., :height, :width])
        return DMVFNTrainOutput(block_predictions=outputs, gates=gates, probabilities=probs, regularizer=reg)

    # ------------------------------------------------------------------------------------------ method API
    def predict(self, context: Tensor) -> Prediction:
        prev, cur = as_pair(context, "DMVFN")
        out = self._forward_infer(prev, cur, None, True, None, blend_each_block=False) if not self.training else None
        if out is None:
            raise RuntimeError("predict() needs eval mode: call .eval() first")
        assert isinstance(out, DMVFNOutput)
        return Prediction(frame=out.frame, active_blocks=out.active)

    def loss(self, context: Tensor, target: Tensor) -> LossOutput:
        """Eq. 13: sum_i gamma^(n-i) d(I~^i, I_{t+1}) over every block (``supervision="last"``: the last only)."""
        prev, cur = as_pair(context, "DMVFN")
        out = self._forward_train(prev, cur, None)
        preds = out.block_predictions
        n = len(preds)
        if self.supervision == "all":
            # d(., I_{t+1}) of every term compares with the same target pyramid: build it once, not n times.
            distance = LaplacianDistance(target, self.laplacian_levels)
            total = sum(self.gamma ** (n - 1 - i) * distance(p) for i, p in enumerate(preds))
        else:
            total = laplacian_l1(preds[-1], target, self.laplacian_levels)
        terms = {"reconstruction": float(total.detach())}
        if out.regularizer is not None:
            total = total + self.gumbel_reg_weight * out.regularizer
            terms["routing_regularizer"] = float(out.regularizer.detach())
            terms["gumbel_tau"] = self.gumbel_tau
        terms["active_rate"] = float(out.gates.detach().float().mean())
        return LossOutput(total=total, final_prediction=preds[-1], terms=terms)  # type: ignore[arg-type]


def _check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")


@register_method("dmvfn")
def build_dmvfn(**options) -> DMVFN:
    """Factory for the registry: ``create_method("dmvfn", routing="gumbel", scales=[1]*9, ...)``."""
    return DMVFN(**options)
