"""Offline LPIPS: the restricted unpickler, the checkpoint mapping, and the lin-layer check."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch

from vpbench.assets import lpips_alexnet_checkpoint
from vpbench.evaluation.lpips_offline import (
    LpipsWeightsError,
    build_lpips_alex,
    load_numpy_checkpoint,
    lpips_state_from_jax_checkpoint,
    shipped_lin_weights,
)

ALEXNET_SHAPES_HWIO = {0: (11, 11, 3, 64), 1: (5, 5, 64, 192), 2: (3, 3, 192, 384), 3: (3, 3, 384, 256), 4: (3, 3, 256, 256)}


@pytest.fixture(scope="module")
def checkpoint_arrays() -> dict[str, np.ndarray]:
    return load_numpy_checkpoint(lpips_alexnet_checkpoint())


def test_checkpoint_holds_alexnet_and_five_lin_layers(checkpoint_arrays):
    for i, shape in ALEXNET_SHAPES_HWIO.items():
        assert checkpoint_arrays[f"AlexNet_0/Conv_{i}/kernel"].shape == shape
        assert checkpoint_arrays[f"AlexNet_0/Conv_{i}/bias"].shape == (shape[-1],)
    for i, channels in enumerate((64, 192, 384, 256, 256)):
        assert checkpoint_arrays[f"NetLinLayer_{i}/Conv_0/kernel"].shape == (1, 1, channels, 1)
    assert len(checkpoint_arrays) == 15


class _Payload:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_unpickler_refuses_anything_but_numpy_arrays(tmp_path):
    marker = tmp_path / "was_executed"
    evil = tmp_path / "evil.ckpt"
    evil.write_bytes(pickle.dumps({"AlexNet_0": _Payload(str(marker))}))
    with pytest.raises(LpipsWeightsError, match=r"refusing to unpickle .*mkdir"):
        load_numpy_checkpoint(evil)
    assert not marker.exists()


def test_missing_and_truncated_files_name_the_file(tmp_path):
    with pytest.raises(LpipsWeightsError, match="not found"):
        load_numpy_checkpoint(tmp_path / "absent.ckpt")
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(lpips_alexnet_checkpoint().read_bytes()[:5000])
    with pytest.raises(LpipsWeightsError, match="truncated.ckpt"):
        load_numpy_checkpoint(truncated)


def test_lin_layers_equal_the_lpips_package_v01(checkpoint_arrays):
    state = lpips_state_from_jax_checkpoint(checkpoint_arrays)
    for key, shipped in shipped_lin_weights("0.1").items():
        assert torch.equal(state[key], shipped), key


def test_tampered_lin_layer_is_rejected(tmp_path, checkpoint_arrays):
    tree: dict = {}
    for key, value in checkpoint_arrays.items():
        node = tree
        *parents, leaf = key.split("/")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value.copy()
    tree["NetLinLayer_2"]["Conv_0"]["kernel"] *= 1.01
    tampered = tmp_path / "tampered.ckpt"
    tampered.write_bytes(pickle.dumps(tree))
    with pytest.raises(LpipsWeightsError, match="lin2"):
        build_lpips_alex(tampered)


def test_built_model_carries_the_checkpoint_backbone_in_oihw(checkpoint_arrays):
    model = build_lpips_alex()
    conv1 = model.net.slice1[0]
    expected = np.transpose(checkpoint_arrays["AlexNet_0/Conv_0/kernel"], (3, 2, 0, 1))
    assert conv1.weight.shape == (64, 3, 11, 11)
    assert np.array_equal(conv1.weight.numpy(), expected)
    assert np.array_equal(model.net.slice5[0].bias.numpy(), checkpoint_arrays["AlexNet_0/Conv_4/bias"])
    assert not model.training and not any(p.requires_grad for p in model.parameters())


def test_torch_hub_source_never_downloads(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(LpipsWeightsError, match="never downloads"):
        build_lpips_alex(backbone_source="torch_hub")
