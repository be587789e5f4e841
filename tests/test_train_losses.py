"""The official recipe's VGG19 perceptual term (random weights via the explicit test switch; never downloaded)."""

from __future__ import annotations

import pytest
import torch

from vpbench.training.losses import (
    VGG19_WEIGHTS_FILE,
    VGG_LAYER_INDICES,
    PerceptualWeightsMissing,
    VGGPerceptualLoss,
    load_vgg19_features,
)


def test_missing_imagenet_weights_say_which_file_goes_where(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(PerceptualWeightsMissing) as error:
        VGGPerceptualLoss()
    message = str(error.value)
    assert str(tmp_path / "hub" / "checkpoints" / VGG19_WEIGHTS_FILE) in message and "https://" in message


def test_cached_weights_are_loaded_and_truncated_ones_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    (tmp_path / "checkpoints").mkdir()
    torch.manual_seed(0)
    source = load_vgg19_features("random-for-tests")
    full = {f"features.{k}": v for k, v in source.state_dict().items()}
    full["classifier.0.weight"] = torch.zeros(2, 2)  # torchvision files also hold the classifier
    torch.save(full, tmp_path / "checkpoints" / VGG19_WEIGHTS_FILE)
    loaded = load_vgg19_features("imagenet")
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in source.state_dict().items())
    path = tmp_path / "checkpoints" / VGG19_WEIGHTS_FILE
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(PerceptualWeightsMissing, match="cannot read"):
        load_vgg19_features("imagenet")


def test_layer_layout_matches_torchvision_vgg19():
    vgg = pytest.importorskip("torchvision.models.vgg")
    reference = vgg.make_layers(vgg.cfgs["E"])[:30]  # vgg19().features without building the classifier
    ours = load_vgg19_features("random-for-tests")
    assert [type(m) for m in ours] == [type(m) for m in reference]
    assert all(isinstance(ours[i], torch.nn.ReLU) for i in VGG_LAYER_INDICES)
    ours.load_state_dict(reference.state_dict())  # same parameter names and shapes
    x = torch.rand(1, 3, 32, 32)
    torch.testing.assert_close(ours(x), reference(x))


def test_term_is_zero_for_equal_frames_and_trains_only_the_prediction():
    torch.manual_seed(0)
    term = VGGPerceptualLoss("random-for-tests").train()
    assert not term.features.training and not any(p.requires_grad for p in term.parameters())
    target = torch.rand(2, 3, 32, 32)
    assert term(target, target).item() == 0.0
    prediction = torch.rand(2, 3, 32, 32, requires_grad=True)
    value = term(prediction, target)
    value.backward()
    assert value.item() > 0 and prediction.grad is not None and prediction.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="random-for-tests"):
        VGGPerceptualLoss("random")
