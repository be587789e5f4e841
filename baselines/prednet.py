"""PredNet (Lotter, Kreiman, Cox, ICLR 2017) in the official KITTI configuration (prior-art §3.1).

Per layer l and time step t (the official ``prednet.py`` step, equations of the paper's Algorithm 1):

    top-down, l = L-1 .. 0   R_l, C_l = ConvLSTM([R_l(t-1), E_l(t-1), up2(R_{l+1}(t))], C_l(t-1))
    bottom-up, l = 0 .. L-1  Â_l = ReLU(conv(R_l))          (layer 0 also clipped at pixel_max: the frame prediction)
                             E_l = [ReLU(A_l - Â_l), ReLU(Â_l - A_l)]
                             A_{l+1} = maxpool2(ReLU(conv(E_l)))            (A_0 = the input frame)

The ConvLSTM gates are separate 'same' convolutions with biases, i, f, o through Keras' hard sigmoid
clip(0.2 x + 0.5, 0, 1) (not torch's x/6 + 1/2), the cell candidate and the output through tanh; up2 is nearest
neighbour; all states start at zero. Stack sizes (3, 48, 96, 192) = R stack sizes, all filters 3x3.

Note the order: R(t), hence Â_0(t), is computed from E(t-1) *before* frame t is read, so Â_0(t) is the
prediction of frame t from frames 0..t-1 (Â_0(0) is a blank prior).

How it predicts I_{t+1} here (``context_frames`` = 2 by default, the DMVFN protocol): from zero states, run full
steps on I_{t-1} and I_t, then one more top-down pass with no input and read Â_0 = Î_{t+1}. For t+k the engine
rolls out autoregressively on the two latest frames, predictions included, each call starting again from zero
states: PredNet sees exactly the frames DMVFN sees. ``context_frames=10`` gives the native-context variant.

Loss (``loss(context, target)``): the error-unit loss of the official training, on the sequence
context + target (nt frames): sum_t w_t sum_l lambda_l mean(E_l(t)), with time weights w_0 = 0 and
w_t = 1/(nt-1) otherwise, and layer weights "L_0" = (1, 0, 0, 0) (default) or "L_all" = (1, 0.1, 0.1, 0.1).

Input H, W need 2^(L-1) divisibility (8 here); other sizes are edge-padded and cropped back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from baselines.padding import crop_to, pad_to_multiple
from models.base import LossOutput, Prediction, VideoPredictor
from models.registry import register_method

KITTI_STACK_SIZES = (3, 48, 96, 192)
LAYER_LOSS_WEIGHTS = {"L_0": (1.0, 0.0, 0.0, 0.0), "L_all": (1.0, 0.1, 0.1, 0.1)}


def keras_hard_sigmoid(x: Tensor) -> Tensor:
    return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)


@dataclass
class PredNetState:
    r: list[Tensor]  # representation (ConvLSTM hidden) per layer
    c: list[Tensor]  # ConvLSTM cell per layer
    e: list[Tensor]  # error units per layer, 2 * stack size channels


@dataclass
class StepOutput:
    state: PredNetState
    frame_prediction: Tensor  # Â_0(t): the prediction of the frame read at this step
    layer_errors: Tensor  # [B, L]: mean of E_l(t) per layer (the official "error" output mode)


class ConvLSTMGates(nn.Module):
    """The four gate convolutions of one PredNet layer."""

    def __init__(self, in_channels: int, hidden: int, kernel_size: int) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.input_gate = nn.Conv2d(in_channels, hidden, kernel_size, padding=pad)
        self.forget_gate = nn.Conv2d(in_channels, hidden, kernel_size, padding=pad)
        self.cell = nn.Conv2d(in_channels, hidden, kernel_size, padding=pad)
        self.output_gate = nn.Conv2d(in_channels, hidden, kernel_size, padding=pad)

    def forward(self, inputs: Tensor, cell: Tensor) -> tuple[Tensor, Tensor]:
        i = keras_hard_sigmoid(self.input_gate(inputs))
        f = keras_hard_sigmoid(self.forget_gate(inputs))
        o = keras_hard_sigmoid(self.output_gate(inputs))
        cell = f * cell + i * torch.tanh(self.cell(inputs))
        return o * torch.tanh(cell), cell


class PredNetCore(nn.Module):
    """The recurrent network itself, on frames whose H and W are multiples of 2^(L-1)."""

    def __init__(
        self,
        stack_sizes: Sequence[int] = KITTI_STACK_SIZES,
        r_stack_sizes: Sequence[int] | None = None,
        a_filt_sizes: Sequence[int] = (3, 3, 3),
        ahat_filt_sizes: Sequence[int] = (3, 3, 3, 3),
        r_filt_sizes: Sequence[int] = (3, 3, 3, 3),
        pixel_max: float = 1.0,
    ) -> None:
        super().__init__()
        stack_sizes = tuple(stack_sizes)
        r_stack_sizes = tuple(r_stack_sizes) if r_stack_sizes is not None else stack_sizes
        n = len(stack_sizes)
        if len(r_stack_sizes) != n or len(ahat_filt_sizes) != n or len(r_filt_sizes) != n or len(a_filt_sizes) != n - 1:
            raise ValueError(
                "prednet: need len(r_stack_sizes) = len(ahat_filt_sizes) = len(r_filt_sizes) = len(stack_sizes) "
                f"and len(a_filt_sizes) = len(stack_sizes) - 1; got {r_stack_sizes}, {ahat_filt_sizes}, "
                f"{r_filt_sizes}, {a_filt_sizes} for stack_sizes {stack_sizes}"
            )
        for key, values in (("stack_sizes", stack_sizes), ("r_stack_sizes", r_stack_sizes), ("a_filt_sizes", a_filt_sizes),
                            ("ahat_filt_sizes", ahat_filt_sizes), ("r_filt_sizes", r_filt_sizes)):
            if not values or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values):
                # zero channels or kernels build on the meta device and fail only in the first convolution
                raise ValueError(f"prednet: {key} must be a non-empty list of positive integers, got {list(values)}")
        if stack_sizes[0] != 3:
            raise ValueError(f"prednet: stack_sizes[0] is the frame's channels and must be 3, got {stack_sizes[0]}")
        if not pixel_max > 0:
            raise ValueError(f"prednet: pixel_max must be > 0, got {pixel_max}")
        self.stack_sizes, self.r_stack_sizes, self.pixel_max = stack_sizes, r_stack_sizes, float(pixel_max)
        self.gates = nn.ModuleList()
        self.ahat_convs = nn.ModuleList()
        self.a_convs = nn.ModuleList()
        for layer in range(n):
            in_channels = r_stack_sizes[layer] + 2 * stack_sizes[layer]
            if layer < n - 1:
                in_channels += r_stack_sizes[layer + 1]
            self.gates.append(ConvLSTMGates(in_channels, r_stack_sizes[layer], r_filt_sizes[layer]))
            k = ahat_filt_sizes[layer]
            self.ahat_convs.append(nn.Conv2d(r_stack_sizes[layer], stack_sizes[layer], k, padding=k // 2))
            if layer < n - 1:
                k = a_filt_sizes[layer]
                self.a_convs.append(nn.Conv2d(2 * stack_sizes[layer], stack_sizes[layer + 1], k, padding=k // 2))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Keras defaults of the official model: Glorot-uniform kernels, zero biases.
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    @property
    def num_layers(self) -> int:
        return len(self.stack_sizes)

    @property
    def size_multiple(self) -> int:
        return 2 ** (self.num_layers - 1)

    def initial_state(self, batch: int, height: int, width: int, like: Tensor) -> PredNetState:
        r, c, e = [], [], []
        for layer in range(self.num_layers):
            h, w = height >> layer, width >> layer
            r.append(like.new_zeros(batch, self.r_stack_sizes[layer], h, w))
            c.append(like.new_zeros(batch, self.r_stack_sizes[layer], h, w))
            e.append(like.new_zeros(batch, 2 * self.stack_sizes[layer], h, w))
        return PredNetState(r, c, e)

    def top_down(self, state: PredNetState) -> tuple[list[Tensor], list[Tensor]]:
        """New R and C of every layer, from the previous step's R, C, E (top layer first)."""
        n = self.num_layers
        r_new: list[Tensor] = [state.r[0]] * n
        c_new: list[Tensor] = [state.c[0]] * n
        for layer in reversed(range(n)):
            inputs = [state.r[layer], state.e[layer]]
            if layer < n - 1:
                inputs.append(F.interpolate(r_new[layer + 1], scale_factor=2.0, mode="nearest"))
            r_new[layer], c_new[layer] = self.gates[layer](torch.cat(inputs, dim=1), state.c[layer])
        return r_new, c_new

    def predict_frame(self, r0: Tensor) -> Tensor:
        """Â_0 from R_0: ReLU, then clipped at pixel_max."""
        return torch.clamp(F.relu(self.ahat_convs[0](r0)), max=self.pixel_max)

    def step(self, frame: Tensor, state: PredNetState) -> StepOutput:
        """One full time step: predict the frame, then read it and compute every layer's error units."""
        r, c = self.top_down(state)
        errors: list[Tensor] = []
        frame_prediction = self.predict_frame(r[0])
        target = frame
        for layer in range(self.num_layers):
            a_hat = frame_prediction if layer == 0 else F.relu(self.ahat_convs[layer](r[layer]))
            error = torch.cat([F.relu(a_hat - target), F.relu(target - a_hat)], dim=1)
            errors.append(error)
            if layer < self.num_layers - 1:
                target = F.max_pool2d(F.relu(self.a_convs[layer](error)), 2)
        layer_errors = torch.stack([e.mean(dim=(1, 2, 3)) for e in errors], dim=1)
        return StepOutput(PredNetState(r, c, errors), frame_prediction, layer_errors)

    def forward(self, frames: Tensor) -> Tensor:
        """Frames [B, T, 3, H, W] -> the prediction of the frame after them, [B, 3, H, W]."""
        batch, _, _, height, width = frames.shape
        state = self.initial_state(batch, height, width, frames)
        for t in range(frames.shape[1]):
            state = self.step(frames[:, t], state).state
        r, _ = self.top_down(state)
        return self.predict_frame(r[0])


class PredNet(VideoPredictor):
    """PredNet as a next-frame predictor from ``context_frames`` frames (see the module docstring)."""

    def __init__(
        self,
        context_frames: int = 2,
        stack_sizes: Sequence[int] = KITTI_STACK_SIZES,
        r_stack_sizes: Sequence[int] | None = None,
        a_filt_sizes: Sequence[int] = (3, 3, 3),
        ahat_filt_sizes: Sequence[int] = (3, 3, 3, 3),
        r_filt_sizes: Sequence[int] = (3, 3, 3, 3),
        pixel_max: float = 1.0,
        layer_loss_weights: str | Sequence[float] = "L_0",
    ) -> None:
        super().__init__()
        if context_frames < 1:
            raise ValueError(f"prednet: context_frames must be >= 1, got {context_frames}")
        self.context_length = int(context_frames)
        self.core = PredNetCore(stack_sizes, r_stack_sizes, a_filt_sizes, ahat_filt_sizes, r_filt_sizes, pixel_max)
        if isinstance(layer_loss_weights, str):
            if layer_loss_weights not in LAYER_LOSS_WEIGHTS:
                raise ValueError(
                    f"prednet: layer_loss_weights {layer_loss_weights!r} is not one of {sorted(LAYER_LOSS_WEIGHTS)}"
                    " or a list of floats"
                )
            if self.core.num_layers != 4:
                raise ValueError(f"prednet: named layer_loss_weights {layer_loss_weights!r} assume 4 layers")
            layer_loss_weights = LAYER_LOSS_WEIGHTS[layer_loss_weights]
        weights = torch.tensor([float(w) for w in layer_loss_weights])
        if weights.numel() != self.core.num_layers:
            raise ValueError(f"prednet: {weights.numel()} layer_loss_weights for {self.core.num_layers} layers")
        self.register_buffer("layer_loss_weights", weights, persistent=False)

    def _padded(self, frames: Tensor) -> Tensor:
        return pad_to_multiple(frames, self.core.size_multiple)

    def predict(self, context: Tensor) -> Prediction:
        self.check_context(context, self.context_length, "PredNet")
        height, width = context.shape[-2:]
        frame = self.core(self._padded(context[:, -self.context_length :]))
        return Prediction(frame=crop_to(frame, height, width))

    def loss(self, context: Tensor, target: Tensor) -> LossOutput:
        """The error-unit loss over context + target, time weight 0 at t = 0 (official training)."""
        self.check_context(context, self.context_length, "PredNet")
        height, width = target.shape[-2:]
        frames = self._padded(torch.cat([context[:, -self.context_length :], target.unsqueeze(1)], dim=1))
        batch, steps = frames.shape[:2]
        state = self.core.initial_state(batch, frames.shape[-2], frames.shape[-1], frames)
        weighted = frames.new_zeros(batch)
        time_weight = 1.0 / (steps - 1)
        for t in range(steps):
            out = self.core.step(frames[:, t], state)
            state = out.state
            if t > 0:  # the t = 0 prediction is a blank prior: the official time weight is 0
                weighted = weighted + time_weight * (out.layer_errors * self.layer_loss_weights).sum(dim=1)
        total = weighted.mean()
        prediction = crop_to(out.frame_prediction, height, width)  # Â_0 at the target step
        l1 = (prediction.detach() - target).abs().mean()
        terms = {"error_units": float(total.detach()), "l1": float(l1)}
        return LossOutput(total=total, final_prediction=prediction, terms=terms)


@register_method("prednet")
def prednet(**options: object) -> PredNet:
    return PredNet(**options)  # type: ignore[arg-type]


__all__ = [
    "KITTI_STACK_SIZES",
    "LAYER_LOSS_WEIGHTS",
    "PredNet",
    "PredNetCore",
    "PredNetState",
    "keras_hard_sigmoid",
    "prednet",
]
