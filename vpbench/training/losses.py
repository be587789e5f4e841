"""Loss terms the engine adds on top of a method's own loss (``method.loss``).

Only the ``official`` recipe uses one: the released DMVFN code adds ``0.5 x VGG(final prediction, target)``
to Eq. (13). The paper describes Eq. (13) alone (the authors confirm the VGG term is code-only), so the
paper recipe leaves it out.

VGG term as in the released code: torchvision VGG19 ``features`` (ImageNet weights, frozen), inputs normalised
with the ImageNet mean/std, L1 between the activations at relu1_1, relu2_1, relu3_1, relu4_1, relu5_1 with
weights [1/2.6, 1/4.8, 1/3.7, 1/5.6, 10/1.5] x 0.1, the target's activations detached.
Difference: the released code feeds BGR frames (cv2) to an RGB-trained VGG; we feed the RGB frames the
engine trains on, which is what ImageNet normalisation assumes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
from torch import Tensor, nn

#: torchvision's VGG19 ImageNet weights (``VGG19_Weights.IMAGENET1K_V1``); looked up in the torch hub cache only
VGG19_WEIGHTS_FILE = "vgg19-dcbb9e9d.pth"
VGG19_WEIGHTS_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
# feature index of each ReLU whose output is compared (relu1_1, relu2_1, relu3_1, relu4_1, relu5_1)
VGG_LAYER_INDICES = (1, 6, 11, 20, 29)
VGG_LAYER_WEIGHTS = (1.0 / 2.6, 1.0 / 4.8, 1.0 / 3.7, 1.0 / 5.6, 10.0 / 1.5)
VGG_TERM_SCALE = 0.1
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

VGGWeights = Literal["imagenet", "random-for-tests"]


class PerceptualWeightsMissing(FileNotFoundError):
    """The ImageNet VGG19 weights are not in the torch hub cache (they are never downloaded by the harness)."""


def vgg19_weights_path() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG19_WEIGHTS_FILE


def _vgg19_features_up_to_relu5_1() -> nn.Sequential:
    """VGG19 ``features[:30]`` built without torchvision's model zoo, with non-inplace ReLUs (autograd-safe)."""
    config = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512]
    layers: list[nn.Module] = []
    channels = 3
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, int(item), kernel_size=3, padding=1), nn.ReLU(inplace=False)]
            channels = int(item)
    return nn.Sequential(*layers)  # indices match torchvision's vgg19().features[:30]


def load_vgg19_features(weights: VGGWeights = "imagenet") -> nn.Sequential:
    features = _vgg19_features_up_to_relu5_1()
    if weights == "random-for-tests":
        return features
    if weights != "imagenet":
        raise ValueError(f"VGG weights must be 'imagenet' or 'random-for-tests', got {weights!r}")
    path = vgg19_weights_path()
    if not path.is_file():
        raise PerceptualWeightsMissing(
            f"the VGG19 perceptual term (recipe 'official') needs torchvision's ImageNet VGG19 weights at {path}; "
            f"this harness never downloads them: fetch {VGG19_WEIGHTS_URL} on a connected machine and place the "
            f"file there (or set TORCH_HOME so that $TORCH_HOME/hub/checkpoints/{VGG19_WEIGHTS_FILE} exists), "
            "or train with perceptual_weight 0 / the 'paper' recipe"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a truncated download surfaces here
        raise PerceptualWeightsMissing(f"{path}: cannot read the VGG19 weights ({err}); replace the file") from err
    prefix = "features."
    feature_state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    wanted = features.state_dict().keys()
    missing = sorted(set(wanted) - set(feature_state))
    if missing:
        raise PerceptualWeightsMissing(f"{path}: not a torchvision VGG19 state dict (missing {missing[:3]} ...)")
    features.load_state_dict({k: feature_state[k] for k in wanted})
    return features


class VGGPerceptualLoss(nn.Module):
    """The released code's VGG19 perceptual distance (frozen network; see the module docstring)."""

    def __init__(self, weights: VGGWeights = "imagenet") -> None:
        super().__init__()
        self.features = load_vgg19_features(weights).eval()
        self.features.requires_grad_(False)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> VGGPerceptualLoss:
        super().train(mode)
        self.features.eval()  # frozen: never in training mode
        return self

    def forward(self, prediction: Tensor, target: Tensor) -> Tensor:
        x = (prediction - self.mean) / self.std
        y = (target - self.mean) / self.std
        loss = prediction.new_zeros(())
        weights = dict(zip(VGG_LAYER_INDICES, VGG_LAYER_WEIGHTS))
        for index, layer in enumerate(self.features):
            x = layer(x)
            with torch.no_grad():
                y = layer(y)
            if index in weights:
                loss = loss + weights[index] * (x - y).abs().mean() * VGG_TERM_SCALE
        return loss
