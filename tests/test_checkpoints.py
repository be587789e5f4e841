"""Checkpoint files: atomic writes, readable errors, RNG round trips, and ``load_method`` for both formats."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from tests.test_train_support import TINY_METHOD, TinyPredictor, state_dicts_equal
from vpbench.training.checkpoints import (
    CHECKPOINT_FORMAT,
    CheckpointError,
    capture_rng_state,
    load_method,
    load_training_checkpoint,
    read_checkpoint,
    restore_rng_state,
    save_checkpoint,
)


def _payload(model: torch.nn.Module, **options) -> dict:
    return {"format": CHECKPOINT_FORMAT, "method": TINY_METHOD, "method_options": options,
            "model": model.state_dict(), "spec": {}, "step": 3}


def test_save_is_atomic_and_loadable_with_weights_only(tmp_path):
    model = TinyPredictor(width=3)
    path = tmp_path / "sub" / "last.pt"
    save_checkpoint(_payload(model, width=3) | {"rng": [capture_rng_state()]}, path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["last.pt"]  # no temporary left behind
    data = torch.load(path, weights_only=True)
    assert data["step"] == 3 and state_dicts_equal(data["model"], model.state_dict()) == []


def test_failed_save_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "last.pt"
    save_checkpoint({"format": CHECKPOINT_FORMAT, "step": 1}, path)
    with pytest.raises(Exception):
        save_checkpoint({"format": CHECKPOINT_FORMAT, "bad": lambda: None}, path)  # cannot be pickled
    assert torch.load(path, weights_only=True)["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]


def test_missing_truncated_and_foreign_files_name_the_culprit(tmp_path):
    with pytest.raises(CheckpointError, match="nothere.pt: checkpoint not found"):
        read_checkpoint(tmp_path / "nothere.pt")
    good = tmp_path / "good.pt"
    save_checkpoint(_payload(TinyPredictor()), good)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="truncated.pt: cannot read checkpoint"):
        load_method(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(1)}, foreign)
    with pytest.raises(CheckpointError, match="foreign.pt: not a vpbench-checkpoint-v1"):
        load_training_checkpoint(foreign)


def test_load_method_rebuilds_the_method_in_eval_mode(tmp_path):
    torch.manual_seed(0)
    model = TinyPredictor(width=5)
    path = tmp_path / "final.pt"
    save_checkpoint(_payload(model, width=5), path)
    loaded = load_method(path)
    assert isinstance(loaded, TinyPredictor) and not loaded.training
    assert state_dicts_equal(loaded.state_dict(), model.state_dict()) == []
    save_checkpoint(_payload(model, width=4), tmp_path / "mismatch.pt")  # options that do not fit the weights
    with pytest.raises(CheckpointError, match="mismatch.pt: weights do not fit"):
        load_method(tmp_path / "mismatch.pt")


def test_load_method_accepts_official_dmvfn_weights(tmp_path):
    import models

    torch.manual_seed(0)
    net = models.DMVFN()
    path = models.save_official_format(net, tmp_path / "dmvfn_city.pkl")
    loaded = load_method(path)
    assert isinstance(loaded, models.DMVFN) and not loaded.training
    assert state_dicts_equal(loaded.state_dict(), net.state_dict()) == []


def test_rng_state_round_trip_through_a_weights_only_file(tmp_path):
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    np.random.standard_normal()  # leaves a cached gaussian in numpy's legacy state
    save_checkpoint({"rng": capture_rng_state()}, tmp_path / "rng.pt")
    expected = (random.random(), np.random.standard_normal(3).tolist(), torch.rand(3))
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    restore_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True)["rng"])
    again = (random.random(), np.random.standard_normal(3).tolist(), torch.rand(3))
    assert again[0] == expected[0] and again[1] == expected[1] and torch.equal(again[2], expected[2])


def test_load_method_applies_inference_overrides_and_refuses_shape_changes(tmp_path):
    from models import DMVFN

    options = {"scales": [4, 2, 1], "widths": [32, 32, 16]}
    net = DMVFN(**options)
    path = tmp_path / "final.pt"
    save_checkpoint(
        {"format": CHECKPOINT_FORMAT, "method": "dmvfn", "method_options": options, "model": net.state_dict()}, path
    )
    assert load_method(path).beta == 0.5
    lowered = load_method(path, overrides={"beta": 0.3, "inference_routing": "threshold"})
    assert lowered.beta == 0.3 and lowered.inference_routing == "threshold"
    assert torch.equal(lowered.state_dict()["block0.lastconv.weight"], net.state_dict()["block0.lastconv.weight"])
    with pytest.raises(CheckpointError, match="do not fit"):
        load_method(path, overrides={"widths": [16, 16, 16]})
