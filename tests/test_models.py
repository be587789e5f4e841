"""DMVFN: parameter layout, every ablation variant, routing behaviour, checkpoints."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from models import DMVFN, CheckpointError, create_method, load_official_checkpoint, save_official_format
from models.base import VideoPredictor
from models.losses import laplacian_l1
from models.routing import gumbel_soft_gates, stebs_probabilities
from models.warp import backward_warp

REFERENCE = Path(__file__).parent / "data" / "official-state-dict.txt"
TABLE11_SCALES = {
    "[1]": [1] * 9,
    "[2]": [2] * 9,
    "[4]": [4] * 9,
    "[1,2]": [1] * 4 + [2] * 5,
    "[1,4]": [1] * 4 + [4] * 5,
    "[2,1]": [2] * 4 + [1] * 5,
    "[4,1]": [4] * 4 + [1] * 5,
    "[1,2,4]": [1, 1, 1, 2, 2, 2, 4, 4, 4],
    "[4,2,1]": [4, 4, 4, 2, 2, 2, 1, 1, 1],
}


def reference_shapes() -> dict[str, tuple[int, ...]]:
    shapes = {}
    for line in REFERENCE.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, shape = line.split("\t")[:2]
        shapes[name] = tuple(int(v) for v in shape.strip("()").split(",") if v.strip())
    return shapes


def frames(batch: int = 2, height: int = 32, width: int = 48, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    base = torch.rand(batch, 3, height, width + 2, generator=gen)
    return base[..., :width].contiguous(), base[..., 2:].contiguous()  # cur = prev shifted by 2 px


# ------------------------------------------------------------------------------------------------ layout
def test_paper_configuration_parameter_counts() -> None:
    net = DMVFN()
    assert sum(p.numel() for p in net.parameters()) == 3_559_930
    routing = sum(p.numel() for n, p in net.named_parameters() if n.startswith(("routing.", "l1.")))
    assert routing == 11_305
    assert sum(b.numel() for b in net.buffers()) == 0


def test_state_dict_matches_the_released_layout() -> None:
    ours = {k: tuple(v.shape) for k, v in DMVFN().state_dict().items()}
    ref = reference_shapes()
    assert len(ref) == 240
    assert ours == ref


def test_without_routing_head_has_no_routing_parameters() -> None:
    net = DMVFN(routing="none")
    assert sum(p.numel() for p in net.parameters()) == 3_559_930 - 11_305


# ------------------------------------------------------------------------------------------------ checkpoints
def test_saved_state_dict_loads_strictly_into_a_fresh_model(tmp_path: Path) -> None:
    net = DMVFN()
    path = tmp_path / "plain.pt"
    torch.save(net.state_dict(), path)
    fresh = DMVFN()
    fresh.load_state_dict(torch.load(path, weights_only=True), strict=True)
    for k, v in net.state_dict().items():
        assert torch.equal(v, fresh.state_dict()[k])


def test_official_format_with_module_prefix_loads(tmp_path: Path) -> None:
    net = DMVFN()
    path = save_official_format(net, tmp_path / "dmvfn_city.pkl")
    keys = torch.load(path, weights_only=True).keys()
    assert all(k.startswith("module.") for k in keys)
    loaded = load_official_checkpoint(path)
    assert not loaded.training
    prev, cur = frames()
    active = torch.ones(2, 9, dtype=torch.bool)
    with torch.inference_mode():
        assert torch.equal(net.eval()(prev, cur, active=active), loaded(prev, cur, active=active))


def test_wrong_file_fails_naming_missing_and_unexpected_keys(tmp_path: Path) -> None:
    state = DMVFN().state_dict()
    state.pop("block3.lastconv.bias")
    state["module_extra.weight"] = torch.zeros(1)
    path = tmp_path / "wrong.pkl"
    torch.save(state, path)
    with pytest.raises(CheckpointError) as err:
        load_official_checkpoint(path)
    text = str(err.value)
    assert "missing keys: block3.lastconv.bias" in text
    assert "unexpected keys: module_extra.weight" in text
    assert str(path) in text


def test_shape_mismatch_and_truncated_files_fail_clearly(tmp_path: Path) -> None:
    small = tmp_path / "small.pkl"
    save_official_format(DMVFN(scales=[4, 2, 1], widths=[160, 80, 44]), small)
    with pytest.raises(CheckpointError, match="missing keys"):
        load_official_checkpoint(small)
    other = tmp_path / "widths.pkl"
    save_official_format(DMVFN(widths=[64] * 9), other)
    with pytest.raises(CheckpointError, match="shape mismatches: block0"):
        load_official_checkpoint(other)
    truncated = tmp_path / "truncated.pkl"
    truncated.write_bytes((tmp_path / "small.pkl").read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="truncated.pkl"):
        load_official_checkpoint(truncated)
    with pytest.raises(FileNotFoundError, match="missing.pkl"):
        load_official_checkpoint(tmp_path / "missing.pkl")


# ------------------------------------------------------------------------------------------------ variants
VARIANTS = [
    pytest.param({"routing": r}, id=f"routing-{r}") for r in ("stebs", "gumbel", "random", "none")
] + [
    pytest.param({"scales": s, "routing": "none"}, id=f"scales-{name}") for name, s in TABLE11_SCALES.items()
] + [
    pytest.param({"scales": [4, 2, 1]}, id="scales-short"),
    pytest.param({"spatial_path": False}, id="no-spatial-path"),
    pytest.param({"spatial_path": False, "routing": "none"}, id="no-spatial-path-no-routing"),
    pytest.param({"supervision": "last"}, id="single-supervision"),
    pytest.param({"block_outputs": "official"}, id="official-block-outputs"),
    pytest.param({"beta": 0.3}, id="beta-0.3"),
]


@pytest.mark.parametrize("options", VARIANTS)
def test_every_variant_runs_forward_and_backward(options: dict) -> None:
    torch.manual_seed(0)
    net = create_method("dmvfn", **options)
    assert isinstance(net, VideoPredictor)
    prev, cur = frames(height=32, width=32)
    context = torch.stack((prev, cur), 1)
    net.train()
    out = net.loss(context, torch.rand(2, 3, 32, 32))
    assert torch.isfinite(out.total)
    out.total.backward()
    grads = [p.grad for p in net.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    net.eval()
    with torch.inference_mode():
        pred = net.predict(context)
    assert pred.frame.shape == (2, 3, 32, 32)
    assert pred.frame.min() >= 0 and pred.frame.max() <= 1
    assert pred.active_blocks is not None and pred.active_blocks.shape == (2, net.n_blocks)


@pytest.mark.parametrize("routing", ["stebs", "gumbel"])
def test_routing_gradients_reach_the_routing_module(routing: str) -> None:
    torch.manual_seed(1)
    net = DMVFN(routing=routing).train()
    prev, cur = frames(height=32, width=32)
    net.loss(torch.stack((prev, cur), 1), torch.rand(2, 3, 32, 32)).total.backward()
    for name in ("routing.0.weight", "routing.2.weight", "l1.weight", "l1.bias"):
        grad = dict(net.named_parameters())[name].grad
        assert grad is not None and grad.abs().sum() > 0, name


def test_gumbel_regulariser_and_temperature_schedule() -> None:
    net = DMVFN(routing="gumbel", gumbel_tau_start=10.0, gumbel_tau_end=0.1).train()
    net.set_training_progress(0.0)
    assert net.gumbel_tau == pytest.approx(10.0)
    net.set_training_progress(1.0)
    assert net.gumbel_tau == pytest.approx(0.1)
    prev, cur = frames(height=32, width=32)
    out = net.loss(torch.stack((prev, cur), 1), torch.rand(2, 3, 32, 32))
    assert 0.0 < out.terms["routing_regularizer"] < 1.0


def test_equation_9_is_the_sigmoid_form() -> None:
    torch.manual_seed(0)
    logits = torch.randn(4, 9)
    tau = 0.7
    torch.manual_seed(5)
    ours = gumbel_soft_gates(logits, tau)
    torch.manual_seed(5)
    u = torch.rand_like(logits).clamp_(1e-10, 1.0 - 1e-7)
    g = -torch.log(-torch.log(u))
    on, off = torch.exp((logits + g) / tau), torch.exp((2 - logits - g) / tau)
    assert torch.allclose(ours, on / (on + off), atol=1e-6)


def test_stebs_rates_sum_to_beta_n_and_are_capped_at_one() -> None:
    logits = torch.tensor([[0.1, -0.2, 0.3, 0.0, 0.2, -0.1, 0.05, -0.3, 0.15]])
    for beta in (0.3, 0.5):
        rates = stebs_probabilities(logits, beta)
        assert rates.sum().item() == pytest.approx(beta * 9, rel=1e-5)
    capped = stebs_probabilities(torch.tensor([[8.0] + [-8.0] * 8]), 0.5)
    assert capped[0, 0].item() == 1.0 and capped.max().item() <= 1.0


# ------------------------------------------------------------------------------------------------ inference routing
def test_active_override_runs_exactly_those_blocks() -> None:
    net = DMVFN().eval()
    prev, cur = frames()
    active = torch.tensor([[1, 0, 1, 0, 0, 1, 0, 0, 1], [1, 0, 1, 0, 0, 1, 0, 0, 1]], dtype=torch.bool)
    with torch.inference_mode():
        out = net(prev, cur, active=active, return_intermediate=True)
    assert out.executed == [0, 2, 5, 8]
    assert torch.equal(out.active, active)
    assert len(out.intermediate) == 4 and torch.equal(out.intermediate[-1], out.frame)


def test_inference_matches_the_training_path_for_the_same_blocks() -> None:
    torch.manual_seed(0)
    net = DMVFN(block_outputs="official")
    prev, cur = frames()
    active = torch.tensor([[1, 1, 0, 1, 0, 1, 1, 0, 1]] * 2, dtype=torch.bool)
    net.eval()
    with torch.no_grad():
        fast = net(prev, cur, active=active)
        net.train()
        slow = net(prev, cur, active=active).block_predictions[-1]
    assert torch.allclose(fast, slow, atol=1e-6)


def test_per_sample_routing_equals_running_each_sample_alone() -> None:
    torch.manual_seed(0)
    net = DMVFN().eval()
    prev, cur = frames(batch=3)
    active = torch.tensor(
        [[1, 0, 1, 0, 1, 0, 1, 0, 1], [0, 1, 0, 1, 0, 1, 0, 1, 0], [1, 1, 1, 0, 0, 0, 1, 1, 1]], dtype=torch.bool
    )
    with torch.inference_mode():
        batched = net(prev, cur, active=active)
        for b in range(3):
            alone = net(prev[b : b + 1], cur[b : b + 1], active=active[b : b + 1])
            assert torch.allclose(batched[b : b + 1], alone, atol=1e-5)


def _content_dependent_router(net: DMVFN, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bright inputs want blocks 0-4, dark inputs blocks 5-8 (a router with a clear, content-dependent answer)."""

    def logits(prev: torch.Tensor, cur: torch.Tensor) -> torch.Tensor:
        brightness = (prev.mean(dim=(1, 2, 3)) - 0.5).sign().unsqueeze(1)  # +1 bright, -1 dark
        pattern = torch.tensor([1.0] * 5 + [-1.0] * 4)
        return 20.0 * brightness * pattern

    monkeypatch.setattr(net, "routing_logits", logits)


def test_per_sample_routing_differs_from_sample0_routing(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    bright = torch.rand(1, 3, 32, 32) * 0.2 + 0.8
    dark = torch.rand(1, 3, 32, 32) * 0.2
    prev, cur = torch.cat((bright, dark)), torch.cat((bright.roll(1, -1), dark.roll(1, -1)))
    # beta = 1 puts the favoured blocks' rates at min(9/5, 1) = 1 and the others near 0: clear-cut draws.
    per_sample = DMVFN(inference_routing="sample", beta=1.0).eval()
    official = DMVFN(inference_routing="sample0", beta=1.0).eval()
    official.load_state_dict(per_sample.state_dict())
    _content_dependent_router(per_sample, monkeypatch)
    _content_dependent_router(official, monkeypatch)
    with torch.inference_mode():
        a = per_sample(prev, cur, return_intermediate=True)
        b = official(prev, cur, return_intermediate=True)
        dark_alone = per_sample(prev[1:], cur[1:])
    assert not torch.equal(a.active[0], a.active[1])  # each sample got its own sub-network
    assert torch.equal(b.active[0], b.active[1])  # sample 0's draw gated the whole batch
    assert torch.equal(a.active[0], b.active[0])
    assert torch.allclose(a.frame[1:], dark_alone, atol=1e-5)
    assert not torch.allclose(b.frame[1:], dark_alone, atol=1e-3)


def test_deterministic_routing_repeats_across_runs_and_batches() -> None:
    torch.manual_seed(0)
    net = DMVFN(inference_routing="deterministic").eval()
    prev, cur = frames(batch=3)
    with torch.inference_mode():
        torch.manual_seed(1)
        first = net(prev, cur, return_intermediate=True)
        torch.manual_seed(2)
        second = net(prev, cur, return_intermediate=True)
        alone = net(prev[2:], cur[2:], return_intermediate=True)
    assert torch.equal(first.frame, second.frame)
    assert torch.equal(first.active, second.active)
    assert torch.equal(first.active[2:], alone.active)


def test_stochastic_routing_uses_the_rng() -> None:
    net = DMVFN().eval()
    prev, cur = frames(batch=8)
    with torch.inference_mode():
        torch.manual_seed(1)
        a = net(prev, cur, return_intermediate=True).active
        torch.manual_seed(1)
        b = net(prev, cur, return_intermediate=True).active
        torch.manual_seed(2)
        c = net(prev, cur, return_intermediate=True).active
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_larger_beta_runs_more_blocks() -> None:
    torch.manual_seed(0)
    net = DMVFN(inference_routing="threshold").eval()
    prev, cur = frames(batch=4)
    counts = []
    with torch.inference_mode():
        for beta in (0.2, 0.5, 0.9):
            net.beta = beta
            probs = net.activation_probabilities(prev, cur)
            counts.append(float(probs.sum(dim=1).mean()))
    assert counts[0] < counts[1] < counts[2]
    assert counts[1] == pytest.approx(4.5, rel=1e-4)


def test_empty_route_fallbacks() -> None:
    prev, cur = frames(batch=1)
    none = torch.zeros(1, 9, dtype=torch.bool)
    with torch.inference_mode():
        blend = DMVFN(empty_route="blend").eval()(prev, cur, active=none)
        previous = DMVFN(empty_route="previous").eval()(prev, cur, active=none)
    assert torch.allclose(blend, (prev + cur) / 2, atol=1e-6)
    assert torch.equal(previous, prev)


# ------------------------------------------------------------------------------------------------ sizes and parts
@pytest.mark.parametrize("size", [(37, 53), (100, 150), (480, 854)])
def test_any_input_size_is_padded_and_cropped_back(size: tuple[int, int]) -> None:
    net = DMVFN().eval()
    prev, cur = frames(batch=1, height=size[0], width=size[1])
    with torch.inference_mode():
        out = net(prev, cur)
    assert out.shape == (1, 3, *size)


def test_backward_warp_moves_pixels_by_the_flow() -> None:
    img = torch.arange(5 * 7, dtype=torch.float32).view(1, 1, 5, 7)
    assert torch.allclose(backward_warp(img, torch.zeros(1, 2, 5, 7)), img)
    flow = torch.zeros(1, 2, 5, 7)
    flow[:, 0] = 2.0  # out(x, y) = img(x + 2, y)
    flow[:, 1] = -1.0  # ... and img(., y - 1)
    out = backward_warp(img, flow)
    assert torch.allclose(out[0, 0, 1:, :5], img[0, 0, :-1, 2:], atol=1e-5)
    assert torch.allclose(out[0, 0, 0, :5], img[0, 0, 0, 2:], atol=1e-5)  # border padding repeats row 0


def test_laplacian_l1_is_zero_for_equal_images_and_grows_with_error() -> None:
    x = torch.rand(2, 3, 64, 64)
    assert laplacian_l1(x, x).item() == 0.0
    small = laplacian_l1(x + 0.01 * torch.randn_like(x), x).item()
    large = laplacian_l1(x + 0.1 * torch.randn_like(x), x).item()
    assert 0 < small < large
    assert math.isfinite(laplacian_l1(torch.rand(1, 3, 20, 24), torch.rand(1, 3, 20, 24)).item())


def test_bad_options_and_inputs_fail_clearly() -> None:
    with pytest.raises(ValueError, match="routing must be one of"):
        DMVFN(routing="softmax")
    with pytest.raises(ValueError, match="widths"):
        DMVFN(scales=[4, 2, 1], widths=[160, 80])
    with pytest.raises(ValueError, match="two \\[B, 3, H, W\\] frames"):
        DMVFN().eval()(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 16))
    with pytest.raises(KeyError, match="unknown method 'nope'"):
        create_method("nope")


def test_inference_layout_keeps_predictions_and_weights() -> None:
    torch.manual_seed(0)
    net = DMVFN().eval()
    prev, cur = frames()
    active = torch.ones(2, 9, dtype=torch.bool)
    with torch.inference_mode():
        before = net(prev, cur, active=active)
        net.optimize_for_inference(torch.device("cpu"))
        after = net(prev, cur, active=active)
    assert net.block0.conv0[0][0].weight.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(before, after, atol=1e-4)
    fresh = DMVFN()
    fresh.load_state_dict(net.state_dict(), strict=True)  # the layout does not leak into the saved weights' keys/shapes


def test_laplacian_loss_is_computed_in_fp32_under_autocast() -> None:
    # A near-converged prediction (residual 0.003): under bf16 autocast the blur differences would be mostly rounding
    # (0.0052 instead of 0.0032 before the loss was pinned to fp32).
    generator = torch.Generator().manual_seed(0)
    target = torch.rand(2, 3, 64, 64, generator=generator)
    pred = (target + 0.003 * torch.randn(2, 3, 64, 64, generator=generator)).clamp(0, 1)
    reference = laplacian_l1(pred, target)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = laplacian_l1(pred, target)
    assert mixed.dtype == torch.float32
    assert mixed.item() == pytest.approx(reference.item(), rel=1e-6)


def test_routing_rates_and_gumbel_noise_are_fp32_under_autocast() -> None:
    logits = torch.randn(64, 9).to(torch.bfloat16)
    assert stebs_probabilities(logits, beta=0.5).dtype == torch.float32
    torch.manual_seed(0)
    gates = gumbel_soft_gates(logits, tau=1.0)
    assert gates.dtype == torch.float32 and torch.unique(gates).numel() > 64 * 9 // 2


def test_dmvfn_training_loss_is_the_same_under_autocast() -> None:
    # the training path (every block against one target pyramid) keeps Eq. 13 in fp32 like laplacian_l1
    from models.losses import LaplacianDistance

    generator = torch.Generator().manual_seed(1)
    target = torch.rand(2, 3, 64, 64, generator=generator)
    preds = [(target + s * torch.randn(2, 3, 64, 64, generator=generator)).clamp(0, 1) for s in (0.003, 0.01)]
    distance = LaplacianDistance(target)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = LaplacianDistance(target)
        values = [mixed(p) for p in preds]
    for pred, value in zip(preds, values):
        assert value.dtype == torch.float32
        assert value.item() == pytest.approx(distance(pred).item(), rel=1e-6)
        assert value.item() == pytest.approx(laplacian_l1(pred, target).item(), rel=1e-6)
