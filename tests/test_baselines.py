"""Baselines: shapes and value range at odd sizes, short training runs, DVF synthesis, PredNet mechanics, costs."""

from __future__ import annotations

import pytest
import torch

from baselines import costs
from baselines.copy_last import CopyLastFrame
from baselines.dvf import DVF
from baselines.prednet import PredNet, PredNetCore, keras_hard_sigmoid
from models.base import VideoPredictor
from models.registry import available_methods, create_method

BASELINES = ("copy_last", "dvf", "prednet")
# Small PredNet for training tests: same mechanics, a fraction of the compute of the official (3, 48, 96, 192).
TINY_PREDNET = {"stack_sizes": [3, 8, 16], "a_filt_sizes": [3, 3], "ahat_filt_sizes": [3, 3, 3],
                "r_filt_sizes": [3, 3, 3], "layer_loss_weights": [1.0, 0.0, 0.0]}


def moving_square_clip(
    batch: int, frames: int, height: int, width: int, velocity: tuple[int, int] = (2, 1)
) -> torch.Tensor:
    """[B, T, 3, H, W] clips of a textured square moving at constant velocity (x, y) px/frame on a gradient."""
    generator = torch.Generator().manual_seed(0)
    ys = torch.linspace(0.1, 0.4, height).view(height, 1).expand(height, width)
    clips = torch.empty(batch, frames, 3, height, width)
    for b in range(batch):
        texture = torch.rand(3, 8, 8, generator=generator) * 0.5 + 0.5
        x0, y0 = 3 + 2 * b, 4 + b
        for t in range(frames):
            frame = ys.expand(3, height, width).clone()
            x, y = x0 + velocity[0] * t, y0 + velocity[1] * t
            frame[:, y : y + 8, x : x + 8] = texture[:, : min(8, height - y), : min(8, width - x)]
            clips[b, t] = frame
    return clips


def test_all_baselines_are_registered() -> None:
    assert set(BASELINES) <= set(available_methods())
    for name in BASELINES:
        assert isinstance(create_method(name), VideoPredictor)


@pytest.mark.parametrize("name", BASELINES)
@pytest.mark.parametrize("size", [(21, 35), (24, 40)])
def test_predict_shape_and_range_at_odd_and_even_sizes(name: str, size: tuple[int, int]) -> None:
    torch.manual_seed(0)
    method = create_method(name).eval()
    context = torch.rand(2, method.context_length, 3, *size)
    with torch.inference_mode():
        prediction = method.predict(context)
    assert prediction.frame.shape == (2, 3, *size)
    assert prediction.frame.min() >= 0.0 and prediction.frame.max() <= 1.0
    assert prediction.active_blocks is None  # no routing in any baseline


def test_copy_last_returns_the_latest_frame_and_is_not_trainable() -> None:
    method = CopyLastFrame()
    context = torch.rand(1, 2, 3, 9, 11)
    assert torch.equal(method.predict(context).frame, context[:, -1])
    assert method.trainable is False and sum(p.numel() for p in method.parameters()) == 0


def test_too_short_context_is_an_error() -> None:
    with pytest.raises(ValueError, match="context"):
        create_method("dvf").predict(torch.rand(1, 1, 3, 8, 8))


def _train(method: VideoPredictor, clip: torch.Tensor, steps: int, lr: float) -> list[float]:
    optimizer = torch.optim.Adam(method.parameters(), lr=lr)
    n = method.context_length
    context, target = clip[:, :n], clip[:, n]
    losses = []
    method.train()
    for _ in range(steps):
        out = method.loss(context, target)
        optimizer.zero_grad()
        out.total.backward()
        optimizer.step()
        losses.append(float(out.total.detach()))
    return losses


def test_dvf_training_reduces_l1() -> None:
    torch.manual_seed(0)
    losses = _train(DVF(max_motion_px=4.0), moving_square_clip(2, 3, 24, 32), steps=12, lr=3e-3)
    assert sum(losses[-3:]) / 3 < 0.8 * losses[0], losses


def test_prednet_training_reduces_error_units() -> None:
    torch.manual_seed(0)
    losses = _train(create_method("prednet", **TINY_PREDNET), moving_square_clip(2, 3, 24, 32), steps=15, lr=1e-2)
    assert sum(losses[-3:]) / 3 < 0.8 * losses[0], losses


def translating_clip(frames: int, height: int, width: int, velocity: tuple[int, int]) -> torch.Tensor:
    """[1, T, 3, H, W]: windows of one random texture, the whole scene moving by ``velocity`` (x, y) px/frame."""
    vx, vy = velocity
    generator = torch.Generator().manual_seed(1)
    texture = torch.rand(3, height + frames * abs(vy), width + frames * abs(vx), generator=generator)
    x0, y0 = frames * max(vx, 0), frames * max(vy, 0)  # window origin such that every window stays inside
    windows = [texture[:, y0 - vy * t : y0 - vy * t + height, x0 - vx * t : x0 - vx * t + width] for t in range(frames)]
    return torch.stack(windows).unsqueeze(0)


def test_dvf_extrapolates_linear_motion(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the voxel flow fixed to the true per-frame motion, DVF's synthesis reproduces the next frame."""
    velocity, (h, w) = (2, -1), (24, 32)
    clip = translating_clip(3, h, w, velocity)
    # content enters at the borders: compare where both samples stay inside the frame
    inside = (slice(None), slice(None), slice(2, h - 2), slice(4, w - 4))
    model = DVF().eval()
    motion = torch.tensor(velocity, dtype=torch.float32).view(1, 2, 1, 1).expand(1, 2, h, w)
    for weight_prev in (0.0, 1.0):  # all from I_t (one step back), then all from I_{t-1} (two steps back)
        monkeypatch.setattr(model, "voxel_flow", lambda p, c, m=weight_prev: (motion, torch.full((1, 1, h, w), m)))
        prediction = model(clip[:, 0], clip[:, 1])
        assert torch.allclose(prediction[inside], clip[:, 2][inside], atol=1e-5), f"weight_prev={weight_prev}"
    # the opposite motion does not reproduce it, so the check above can fail
    monkeypatch.setattr(model, "voxel_flow", lambda p, c: (-motion, torch.zeros(1, 1, h, w)))
    assert not torch.allclose(model(clip[:, 0], clip[:, 1])[inside], clip[:, 2][inside], atol=1e-2)


def test_keras_hard_sigmoid() -> None:
    x = torch.tensor([-3.0, -2.5, 0.0, 1.0, 2.5, 3.0])
    assert torch.allclose(keras_hard_sigmoid(x), torch.tensor([0.0, 0.0, 0.5, 0.7, 1.0, 1.0]))


def test_prednet_predicts_a_frame_before_reading_it() -> None:
    torch.manual_seed(0)
    core = PredNetCore(**{k: v for k, v in TINY_PREDNET.items() if k != "layer_loss_weights"}).eval()
    frames = torch.rand(1, 2, 3, 16, 16)
    state = core.step(frames[:, 0], core.initial_state(1, 16, 16, frames)).state
    a = core.step(frames[:, 1], state)
    b = core.step(torch.rand(1, 3, 16, 16), state)
    assert torch.equal(a.frame_prediction, b.frame_prediction)  # Â_0(t) does not see frame t
    assert not torch.equal(a.layer_errors, b.layer_errors)  # the error units do


def test_prednet_loss_is_time_weighted_layer_0_error() -> None:
    """L_0 with time weights (0, 1/(nt-1), ...): the mean over t >= 1 of mean(E_0(t)) = mean|Â_0 - I| / 2."""
    torch.manual_seed(0)
    method = create_method("prednet", **TINY_PREDNET)
    clip = moving_square_clip(2, 3, 16, 24)
    core, frames = method.core, clip
    state = core.initial_state(2, 16, 24, frames)
    expected = torch.zeros(2)
    for t in range(3):
        out = core.step(frames[:, t], state)
        state = out.state
        if t > 0:
            expected += (out.frame_prediction - frames[:, t]).abs().mean(dim=(1, 2, 3)) / 2 / 2
    loss = method.loss(clip[:, :2], clip[:, 2])
    assert torch.allclose(loss.total, expected.mean(), atol=1e-6)
    assert torch.allclose(loss.final_prediction, out.frame_prediction)


def test_prednet_rejects_bad_options() -> None:
    with pytest.raises(ValueError, match="layer_loss_weights"):
        PredNet(layer_loss_weights="L_1")
    with pytest.raises(ValueError, match="layer_loss_weights"):
        PredNet(layer_loss_weights=[1.0, 0.0])
    with pytest.raises(ValueError, match="a_filt_sizes"):
        PredNet(stack_sizes=[3, 8], a_filt_sizes=[3, 3])


def test_prednet_native_context_uses_the_last_frames() -> None:
    method = create_method("prednet", context_frames=4, **TINY_PREDNET).eval()
    assert method.context_length == 4
    clip = torch.rand(1, 6, 3, 16, 16)
    with torch.inference_mode():
        assert torch.equal(method.predict(clip).frame, method.predict(clip[:, 2:]).frame)


def test_dvf_fvcore_gflops_match_the_paper_within_one_percent() -> None:
    """Counted at two small sizes (checking exact proportionality) and scaled to the paper's resolutions."""
    per_pixel = costs.per_pixel_flops(costs.dvf_flops, sizes=((16, 24), (24, 16)))
    for dataset, (height, width) in costs.PAPER_RESOLUTIONS.items():
        paper = costs.PAPER_GFLOPS["dvf"][dataset]
        gflops = per_pixel * height * width / 1e9
        assert gflops == pytest.approx(paper, rel=0.01), dataset


def test_prednet_step_cost_is_the_sum_of_its_convolutions() -> None:
    """fvcore's per-step count = conv MACs derived from the layer sizes (+ nearest upsampling, 1 per element)."""
    s = (3, 48, 96, 192)
    conv = 0.0
    for layer in range(4):
        area = 4.0**-layer
        lstm_in = s[layer] + 2 * s[layer] + (s[layer + 1] if layer < 3 else 0)
        conv += 4 * lstm_in * s[layer] * 9 * area  # i, f, c, o gates
        conv += s[layer] * s[layer] * 9 * area  # Â_l
        if layer < 3:
            conv += 2 * s[layer] * s[layer + 1] * 9 * area  # A_{l+1}
    upsample = sum(s[layer + 1] * 4.0**-layer for layer in range(3))
    assert costs.per_pixel_flops(costs.prednet_step_flops, sizes=((16, 16), (16, 24))) == pytest.approx(conv + upsample)


def test_per_pixel_flops_detects_non_proportional_counts() -> None:
    with pytest.raises(costs.ProportionalityError):
        costs.per_pixel_flops(lambda h, w: float(h * w + 100), sizes=((8, 8), (16, 16)))
