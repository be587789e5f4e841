"""Experiment spec files: round trip, unknown keys and bad values named, training fields validated."""

from __future__ import annotations

import json

import pytest

from vpbench.training.recipes import RECIPES, resolve_recipe
from vpbench.pipeline.spec import ExperimentSpec, SpecError, TrainSpec


def _spec_dict(**train) -> dict:
    return {"id": "dmvfn-city", "method": "dmvfn", "method_options": {"routing": "stebs"},
            "train": {"dataset": "cityscapes", "data_root": "resources/prepared/cityscapes", **train},
            "eval": {"protocols": ["cityscapes"]}, "seed": 7}


def test_round_trip_through_a_file(tmp_path):
    spec = ExperimentSpec.from_dict(_spec_dict(max_steps=10, amp_dtype="fp16"))
    spec.save(tmp_path / "specs" / "a.json")
    again = ExperimentSpec.load(tmp_path / "specs" / "a.json")
    assert again == spec and again.train.max_steps == 10 and again.train.amp_dtype == "fp16"
    assert [p.name for p in (tmp_path / "specs").iterdir()] == ["a.json"]


@pytest.mark.parametrize(
    ("train", "message"),
    [
        ({"lr": 1e-4}, r"spec.train: unknown key\(s\) \['lr'\]"),
        ({"batch_size": 0}, "train.batch_size: expected a positive integer"),
        ({"epochs": 2.5}, "train.epochs: expected a positive integer"),
        ({"clip_length": 2}, "train.clip_length: expected an integer >= 3"),
        ({"max_steps": 0}, "train.max_steps"),
        ({"amp_dtype": "fp8"}, "train.amp_dtype"),
        ({"num_workers": -1}, "train.num_workers"),
    ],
)
def test_bad_training_values_are_named(train, message):
    with pytest.raises(SpecError, match=message):
        ExperimentSpec.from_dict(_spec_dict(**train))


def test_missing_required_key_and_bad_json_are_named(tmp_path):
    with pytest.raises(SpecError, match="data_root"):
        ExperimentSpec.from_dict({"id": "x", "method": "m", "train": {"dataset": "d"}})
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SpecError, match="bad.json: not valid JSON"):
        ExperimentSpec.load(bad)


def test_recipe_defaults_and_overrides():
    paper = resolve_recipe(TrainSpec(dataset="d", data_root="r"))
    assert (paper.lr_max, paper.lr_min, paper.weight_decay, paper.batch_size, paper.crop, paper.epochs) == (
        1e-4, 1e-5, 1e-4, 64, 224, 300)
    assert paper.warmup_steps == 0 and paper.perceptual_weight == 0 and paper.triplets == "one_per_clip"
    official = resolve_recipe(TrainSpec(dataset="d", data_root="r", recipe="official"))
    assert (official.weight_decay, official.crop, official.warmup_steps, official.warmup_start_lr) == (1e-3, 256, 2000, 1e-5)
    assert official.perceptual_weight == 0.5 and official.triplets == "all_consecutive"
    tuned = resolve_recipe(TrainSpec(dataset="d", data_root="r", recipe="official", perceptual_weight=0.0, crop=128))
    assert tuned.perceptual_weight == 0.0 and tuned.crop == 128 and tuned.weight_decay == 1e-3
    assert set(RECIPES) >= {"paper", "official", "official-megengine"}
    with pytest.raises(SpecError, match="lr_min"):
        resolve_recipe(TrainSpec(dataset="d", data_root="r", lr_min=1e-3))


def test_spec_json_is_plain_json(tmp_path):
    spec = ExperimentSpec.from_dict(_spec_dict())
    spec.save(tmp_path / "s.json")
    data = json.loads((tmp_path / "s.json").read_text())
    assert data["train"]["recipe"] == "paper" and data["seed"] == 7
